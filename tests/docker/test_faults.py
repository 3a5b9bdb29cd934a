"""Faults a simulation meets, each against a real Docker engine, each ending cleanly.

Every fault must end with a clear message, a typed exit code and nothing left behind: no
container or volume carrying the run's labels (the build-cache volume `render-sim-cache-*` is
meant to persist; these tests pass `--no-cache` where it is in the way, or remove the one they
made).

- a build whose command exits while a child it forked lives on (ignoring SIGTERM, holding the
  output stream open): the build ends when its command exits, as on Render;
- Ctrl-C and SIGTERM while such a child runs, also twice in a row;
- a full disk inside the container (a real ENOSPC from a small tmpfs volume at /tmp);
- two simulations of one repo at the same time, and `--clear-cache` of a build cache another
  simulation is using (exit 7, naming it);
- the build container removed from outside mid-build (`docker rm -f`: exit 4);
- the Docker engine stopped mid-build, and the next run removing what the dead run left;
- `render-sim clean --all` removing what render-sim made, and only that (`clean` without
  `--all`: test_clean.py).

The last two need an engine that may be stopped and cleaned: they start a second dockerd of
their own (own data root, exec root, socket and network namespace; no bridge, no iptables) and
load one build image into it from the main engine. The machine's main engine is never stopped or
cleaned, and its network is never touched.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from jsonschema import Draft202012Validator

from simulator.build import cache, ownership
from simulator.build.container import BuildContainer
from simulator.build.ownership import (
    CACHE_LABEL,
    HOST_LABEL,
    KEEP_LABEL,
    LABEL,
    PID_LABEL,
    PID_NS_LABEL,
    PID_START_LABEL,
    RUN_LABEL,
)
from simulator.build.simulation import diagnose, simulate_service
from simulator.plan.build_plan import make_plan
from simulator.plan.machine import Limits
from simulator.plan.models import Options
from simulator.report.schemas import schema_for
from tests.docker.engine_support import (
    CLI_TIMEOUT_S,
    PYTHON,
    Engine2,
    Running,
    json_of,
    second_engine,
)
from tests.hermetic.cli_support import cli_argv, cli_env, labelled

pytestmark = pytest.mark.docker

STARTED = "render-sim-fault-started-42"
STARTED_COMMAND = "echo render-sim-fault-started-$((20 + 22))"  # the plan card cannot match it
# A child that ignores SIGTERM and SIGINT and keeps the build's output stream open.
STUBBORN_CHILD = "(trap '' TERM INT; while :; do echo tick; sleep 0.2; done) &"


# -- 1. the build command exits, a child it forked lives on ------------------------------------


def test_build_ends_when_its_command_exits_not_when_its_child_closes_the_output(
    client: docker.DockerClient, built_images: dict[str, Any]
) -> None:
    # dockerd closes an exec's stream itself 2 s after the exec's process exits (moby's
    # daemon/monitor.go); other engines keep it open as long as the child holds it
    # (moby/moby#33039). render-sim polls the exec instead, so it ends sooner than 2 s.
    image = built_images["3.13"].tag
    lines: list[str] = []
    with BuildContainer(client, image, limits=Limits(timeout_s=120, idle_timeout_s=60)) as box:
        result = box.run(
            f"{STUBBORN_CHILD} echo started; exit 7",
            {"PATH": "/usr/bin:/bin"},
            workdir="/tmp",
            on_output=lines.append,
        )
        name = box.name
    assert result.exit_code == 7, result
    assert result.duration_s < 1.9, f"waited {result.duration_s:.2f} s for the child's output"
    assert "started" in lines, lines  # the child may tick first: they run side by side
    assert any("while :" in p for p in result.leftover_processes), result.leftover_processes
    assert not client.containers.list(all=True, filters={"name": name})


def test_build_that_closes_its_output_early_is_waited_for_and_keeps_its_exit_code(
    client: docker.DockerClient, built_images: dict[str, Any]
) -> None:
    image = built_images["3.13"].tag
    lines: list[str] = []
    with BuildContainer(client, image, limits=Limits(timeout_s=120, idle_timeout_s=60)) as box:
        result = box.run(
            "echo closing; exec >/dev/null 2>&1; sleep 3; exit 5",
            {"PATH": "/usr/bin:/bin"},
            workdir="/tmp",
            on_output=lines.append,
        )
    assert (result.exit_code, lines) == (5, ["closing"]), result
    assert result.duration_s >= 3, result


def test_simulate_reports_the_commands_exit_and_stops_the_leftover_child(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    repo = make_repo(f"{STUBBORN_CHILD} (trap '' TERM INT; exec sleep 600) & echo built; exit 0")
    started = time.monotonic()
    proc = render_sim(
        "simulate", str(repo), "--json", "--python", PYTHON, "--no-pull", "--no-cache"
    )
    seconds = time.monotonic() - started
    result = json_of(proc)["results"][0]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (result["outcome"], result["exit_code"]) == ("succeeded", 0)
    assert seconds < 60, f"simulate took {seconds:.0f} s: it waited for the leftover child"
    log = Path(result["log_path"]).read_text(encoding="utf-8")
    assert "process(es) running" in log and "sleep 600" in log, log[-2000:]
    assert labelled(client, repo) == ([], [])


@pytest.mark.parametrize(
    ("signals", "gap_s"),
    [
        ([signal.SIGINT], 0.0),
        ([signal.SIGTERM], 0.0),
        # a second signal while the first one's cleanup runs (it left a volume behind), and
        # one while render-sim exits (it made the exit a kill by SIGTERM instead of 130)
        ([signal.SIGINT, signal.SIGTERM], 0.15),
        ([signal.SIGINT, signal.SIGTERM], 0.3),
        ([signal.SIGINT, signal.SIGINT], 0.5),
    ],
    ids=["sigint", "sigterm", "sigint-sigterm-0.15s", "sigint-sigterm-0.3s", "sigint-sigint-0.5s"],
)
def test_signal_while_a_stubborn_child_runs_exits_130_quickly_and_leaves_nothing(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    signals: list[signal.Signals],
    gap_s: float,
) -> None:
    repo = make_repo(f"{STUBBORN_CHILD} {STARTED_COMMAND}; sleep 300")
    run = Running.start("simulate", str(repo), "--python", PYTHON, "--no-pull", "--no-cache")
    run.wait_for(STARTED, client, repo)
    signalled = time.monotonic()
    for number, sig in enumerate(signals):
        if number:
            time.sleep(gap_s)
        run.proc.send_signal(sig)
    code = run.wait(timeout=60)
    seconds = time.monotonic() - signalled
    assert code == 130, run.explain()
    assert seconds < 20, f"{seconds:.1f} s from the signal to the exit"
    assert "Traceback" not in run.output, run.explain()
    assert labelled(client, repo) == ([], []), run.explain()


# -- 2. disk full --------------------------------------------------------------------------------


def test_full_disk_fails_the_build_with_a_disk_full_diagnosis_and_leaves_nothing(
    client: docker.DockerClient, built_images: dict[str, Any], make_repo: Callable[..., Path]
) -> None:
    # /tmp is a 16 MiB tmpfs: writing 64 MiB there is a real ENOSPC from the kernel.
    writer = (
        "import os\n"
        "with open('/tmp/pip-unpack-artefact.bin', 'wb') as f:\n"
        "    for _ in range(64):\n"
        "        f.write(os.urandom(1 << 20)); f.flush()\n"
    )
    repo = make_repo("echo unpacking && python write.py", files={"write.py": writer})
    plan = make_plan(
        repo,
        Options(python=PYTHON, network="none", build_cache=False, probe_network=False),
        client=client,
    )
    service = plan.services[0]
    image = built_images["3.13"]
    echoed: list[str] = []
    result = simulate_service(
        client,
        plan,
        service,
        image=image.tag,
        base=image.base,
        echo=lambda _kind, line: echoed.append(line),
        volume_options={"/tmp": {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"}},
    )
    assert (result.outcome, result.exit_code) == ("failed", 1), result.log_text[-2000:]
    assert "No space left on device" in result.log_text
    assert "No space left on device" in result.log_path.read_text(encoding="utf-8")
    assert any("[Errno 28] No space left on device" in line for line in result.last_error_lines)
    diagnosis = diagnose(plan, service, result)
    assert diagnosis.failure_class == "disk-full", diagnosis.headline
    assert "out of disk space" in diagnosis.headline
    assert any("No space left on device" in e.text for e in diagnosis.evidence)
    assert diagnosis.fixes and "--no-cache-dir" in diagnosis.fixes[0].title
    assert labelled(client, repo) == ([], [])


# -- 3. two simulations of one repo at once -------------------------------------------------------


def test_two_simulations_of_one_repo_at_once_both_finish_apart_and_leave_nothing(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    tree_snapshot: Callable[[Path], Any],
) -> None:
    repo = make_repo(
        "echo run-start && sleep 4 && echo built > built.txt && rm requirements.txt "
        "&& python -c 'import sys; print(\"python\", *sys.version_info[:2])' && echo run-end"
    )
    before = tree_snapshot(repo)
    args = ("simulate", str(repo), "--json", "--python", PYTHON, "--no-pull")  # build cache on
    runs = [
        subprocess.Popen(
            cli_argv(*args),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for _ in range(2)
    ]
    seen: set[str] = set()
    together = 0
    try:
        while any(r.poll() is None for r in runs):
            builds = [c for c in labelled(client, repo)[0] if not c.endswith("-watch")]
            seen.update(builds)
            together = max(together, len(builds))
            time.sleep(0.2)
        outputs = [r.communicate(timeout=CLI_TIMEOUT_S) for r in runs]
        assert [r.returncode for r in runs] == [0, 0], outputs
        results = [json.loads(out)["results"][0] for out, _ in outputs]
        assert [r["outcome"] for r in results] == ["succeeded", "succeeded"]
        assert len(seen) == 2 and together == 2, f"containers seen: {seen}, at once: {together}"
        logs = [Path(r["log_path"]) for r in results]
        assert logs[0] != logs[1]
        for log in logs:
            lines = log.read_text(encoding="utf-8").splitlines()
            assert lines.count("run-start") == 1 and lines.count("run-end") == 1, lines
        assert tree_snapshot(repo) == before
        assert labelled(client, repo) == ([], [])
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
                r.wait()
        key = f"{repo}:app:{PYTHON}"
        for volume in client.volumes.list(filters={"label": f"{CACHE_LABEL}={key}"}):
            with contextlib.suppress(docker.errors.APIError):  # still in use after a failure
                volume.remove(force=True)  # the build cache these runs made


def test_clear_cache_while_another_build_uses_it_exits_7_naming_that_build(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    repo = make_repo(f"{STARTED_COMMAND}; sleep 300")
    first = Running.start("simulate", str(repo), "--python", PYTHON, "--no-pull")  # cache on
    try:
        first.wait_for(STARTED, client, repo)
        holder = next(c for c in labelled(client, repo)[0] if not c.endswith("-watch"))
        proc = render_sim(
            "simulate", str(repo), "--python", PYTHON, "--no-pull", "--clear-cache", "--json"
        )
    finally:
        first.proc.send_signal(signal.SIGINT)
        first.wait(timeout=60)
        key = f"{repo}:app:{PYTHON}"
        for volume in client.volumes.list(filters={"label": f"{CACHE_LABEL}={key}"}):
            with contextlib.suppress(docker.errors.APIError):
                volume.remove(force=True)
    error = json_of(proc)["error"]
    assert proc.returncode == 7, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert error["kind"] == "BusyError", error
    assert holder in error["message"], error
    assert f"render-sim pid {first.proc.pid}" in error["message"], error


# -- 3b. the build container removed from outside mid-build ---------------------------------------


def test_build_container_removed_mid_build_exits_4_and_leaves_nothing(
    client: docker.DockerClient, built_images: dict[str, Any], make_repo: Callable[..., Path]
) -> None:
    repo = make_repo(f"{STARTED_COMMAND}; sleep 300")
    run = Running.start("simulate", str(repo), "--python", PYTHON, "--no-pull", "--no-cache")
    run.wait_for(STARTED, client, repo)
    build = next(c for c in labelled(client, repo)[0] if not c.endswith("-watch"))
    client.api.remove_container(build, force=True)  # `docker rm -f`
    code = run.wait(timeout=120)
    assert code == 4, run.explain()
    assert "was stopped from outside render-sim mid-build" in run.output, run.explain()
    assert "Exited with status 137" not in run.output, run.explain()
    assert "Traceback" not in run.output, run.explain()
    assert labelled(client, repo) == ([], []), run.explain()


@pytest.fixture(scope="module")
def engine2(client: docker.DockerClient, built_images: dict[str, Any]) -> Iterator[Engine2]:
    """A dockerd of this module's own, to stop and to clean (see engine_support.py)."""
    yield from second_engine(client, built_images)


# -- 4. the engine stops mid-build ------------------------------------------------------------------


def test_engine_stopped_mid_build_exits_4_and_the_next_run_removes_the_dead_run(
    engine2: Engine2, make_repo: Callable[..., Path]
) -> None:
    second = engine2.engine
    repo = make_repo(f"{STARTED_COMMAND}; sleep 300")
    args = (
        "simulate",
        str(repo),
        "--python",
        PYTHON,
        "--no-pull",
        "--no-cache",
        "--network",
        "none",
    )
    run = Running.start(*args, DOCKER_HOST=second.url)
    try:
        run.wait_for(STARTED, second.client(), repo)
        second.stop()
        code = run.wait(timeout=120)
    finally:
        second.start()  # whatever happened: the engine comes back for the next tests
    assert code == 4, run.explain()
    assert "the Docker engine went away mid-build" in run.output, run.explain()
    assert "render-sim clean" in run.output, run.explain()
    assert "Traceback" not in run.output, run.explain()

    # What the dead run left: its container and its watcher (stopped with the engine) and both
    # volumes.
    containers, volumes = labelled(second.client(), repo)
    assert len(containers) == 2 and len(volumes) == 2, (containers, volumes)

    # The next simulation (any repo: here the same one, with a quick build) removes them.
    after = subprocess.run(
        cli_argv(*args, "--build-command", "echo second run"),
        env=cli_env(DOCKER_HOST=second.url),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
    )
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    assert "removed 4 container(s)/volume(s) left by an earlier run" in after.stdout, after.stdout
    assert labelled(second.client(), repo) == ([], [])


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_reaper_removes_only_dead_runs_of_this_host(engine2: Engine2) -> None:
    other = engine2.engine.client()
    me = ownership.owner_labels()  # this process: alive
    here = {HOST_LABEL: me[HOST_LABEL], PID_NS_LABEL: me[PID_NS_LABEL]}
    dead = str(_dead_pid())
    owners = {
        "dead": {**here, PID_LABEL: dead},
        "reused-pid": {**me, PID_START_LABEL: "1"},
        "alive": me,
        "other-host": {**here, HOST_LABEL: f"not-{me[HOST_LABEL]}", PID_LABEL: dead},
        "other-pid-namespace": {**here, PID_NS_LABEL: "pid:[1]", PID_LABEL: dead},
        "kept": {**here, PID_LABEL: dead, KEEP_LABEL: "1"},
    }
    suffix = uuid.uuid4().hex[:8]
    made: dict[str, tuple[str, str]] = {}
    for name, owner in owners.items():
        labels = {LABEL: "1", RUN_LABEL: f"{name}-{suffix}", **owner}
        volume = other.volumes.create(name=f"reap-{name}-{suffix}", labels=labels)
        container = other.containers.create(
            engine2.image, ["true"], name=f"reap-{name}-{suffix}", labels=labels
        )
        made[name] = (container.name, volume.name)
    try:
        containers, volumes = ownership.reap_orphans(other)
        containers = [c for c in containers if c.endswith(suffix)]  # only this test's
        volumes = [v for v in volumes if v.endswith(suffix)]
        assert sorted(containers) == sorted(made[n][0] for n in ("dead", "reused-pid"))
        assert sorted(volumes) == sorted(made[n][1] for n in ("dead", "reused-pid"))
        for name in ("alive", "other-host", "other-pid-namespace", "kept"):
            other.containers.get(made[name][0])
            other.volumes.get(made[name][1])
    finally:
        for container_name, volume_name in made.values():
            with contextlib.suppress(docker.errors.NotFound):
                other.containers.get(container_name).remove(force=True)
            with contextlib.suppress(docker.errors.NotFound):
                other.volumes.get(volume_name).remove(force=True)


# -- 5. `render-sim clean`, on the second engine -------------------------------------------------


def test_clean_all_removes_all_render_sim_made_and_nothing_else(
    engine2: Engine2,
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    other = engine2.engine.client()
    suffix = uuid.uuid4().hex[:8]
    repo = make_repo("true")
    # render-sim's own: a run kept for inspection (--keep), a build cache, a dead run's volume
    kept = BuildContainer(
        other, engine2.image, keep=True, network="none", labels={"render-sim.repo": str(repo)}
    )
    kept.__enter__()
    cache_name, _ = cache.prepare_cache(other, f"render-sim-cache-{suffix}", f"{repo}:app:{PYTHON}")
    orphan = other.volumes.create(
        name=f"render-sim-{suffix}-tmp", labels={LABEL: "1", RUN_LABEL: suffix}
    )
    # the user's: a container started from render-sim's image (it inherits the image's
    # `render-sim` label), look-alike names without labels, a volume of their own
    user_made = [
        other.containers.create(engine2.image, ["true"], name=f"user-debug-{suffix}"),
        other.containers.create(engine2.image, ["true"], name=f"render-sim-lookalike-{suffix}"),
        other.volumes.create(name=f"render-sim-cache-lookalike-{suffix}"),
        other.volumes.create(name=f"user-data-{suffix}", labels={"owner": "someone"}),
    ]
    try:
        proc = render_sim("clean", "--all", "--json", timeout=300, DOCKER_HOST=engine2.engine.url)
        assert proc.returncode == 0, proc.stderr
        removed = json.loads(proc.stdout)
        Draft202012Validator(schema_for("clean")).validate(removed)
        assert sorted(removed["containers"]) == sorted([kept.name, f"{kept.name}-watch"])
        assert sorted(removed["volumes"]) == sorted(
            [f"{kept.name}-render", f"{kept.name}-tmp", cache_name, orphan.name]
        )
        for thing in user_made:
            thing.reload()  # still there (NotFound otherwise)
        assert other.images.get(engine2.image)  # images are not clean's business
        assert ownership.leftovers(other) == ([], [])
    finally:
        for thing in user_made:
            with contextlib.suppress(docker.errors.NotFound):
                thing.remove(force=True)
        kept.keep = False
        kept.remove()

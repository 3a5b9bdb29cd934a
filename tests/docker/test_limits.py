"""Render's limits, enforced for real: memory (--memory), total time (--timeout), silence, disk.

The time limit holds without render-sim too: killed with SIGKILL, it leaves a build that still
ends at its limit. The limits given on the command line are checked before anything runs.

The CLI runs are shared with test_cleanup.py (conftest's `cli_runs`), which checks that each of
them left no container, no volume and an unchanged repo.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from simulator.build.simulation import BuildResult, diagnose, simulate_service
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from tests.docker.engine_support import Running
from tests.hermetic.cli_support import labelled

pytestmark = pytest.mark.docker

OOM_EVENT = "Ran out of memory (used over 256MB) while building your code."
STARTED = "render-sim-limits-started-42"
STARTED_COMMAND = "echo render-sim-limits-started-$((20 + 22))"  # the plan card cannot match it


# -- memory -------------------------------------------------------------------------------------


def test_build_over_memory_limit_exits_1(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.returncode == 1, run.explain()


def test_build_over_memory_limit_is_reported_out_of_memory(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.result()["outcome"] == "out-of-memory", run.explain()


def test_out_of_memory_is_said_in_renders_words(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.result()["event"] == OOM_EVENT, run.explain()
    assert OOM_EVENT in run.stderr, run.explain()


@pytest.fixture(scope="module")
def shell_survives_oom(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> BuildResult:
    """A build whose big allocation is OOM-killed while its shell goes on and exits 0."""
    repo = repo_writer(
        tmp_path_factory.mktemp("oom-survives") / "repo",
        'python -c "bytearray(1024**3)"; echo survived',
    )
    plan = make_plan(repo, Options(python="3.14.3", memory_bytes=256 * 1024**2), client=client)
    image = built_images["3.14"]
    return simulate_service(
        client, plan, plan.services[0], image=image.tag, base=image.base, echo=lambda *_: None
    )


def test_oom_is_read_from_the_cgroup_when_the_shell_survives(
    shell_survives_oom: BuildResult,
) -> None:
    result = shell_survives_oom
    # The build command itself succeeded: only the cgroup's oom_kill counter tells.
    assert result.exit_code == 0, result.log_text[-3000:]
    assert "survived" in result.log_text.splitlines()
    assert result.outcome == "out-of-memory", result.log_text[-3000:]
    assert result.event == OOM_EVENT


# -- time ---------------------------------------------------------------------------------------


def test_build_over_time_limit_exits_1(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")
    assert run.returncode == 1, run.explain()


def test_build_over_time_limit_is_reported_as_timeout(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")
    assert run.result()["outcome"] == "timeout", run.explain()


def test_build_over_time_limit_is_stopped_well_under_its_sleep(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")  # `sleep 120` with --timeout 5s
    assert 5 <= run.result()["duration_s"] < 60, run.explain()


def test_silent_build_is_stopped_by_the_no_output_watchdog(cli_runs: Any) -> None:
    run = cli_runs.get("no-output")  # `sleep 60` with --idle-timeout 3s
    assert run.returncode == 1, run.explain()
    assert run.result()["outcome"] == "no-output", run.explain()
    assert 3 <= run.result()["duration_s"] < 45, run.explain()


# -- disk ---------------------------------------------------------------------------------------

DISK_LIMIT = 64 * 1024**2
# 48 MB in a directory the build then makes unreadable, then 1 MB every 20 ms elsewhere, up to
# 60 MB: the limit is passed only when the hidden 48 MB are counted too.
WRITE_PAST_THE_LIMIT = (
    "mkdir /tmp/hidden && head -c 50331648 /dev/urandom > /tmp/hidden/blob && chmod 000 /tmp/hidden"
    " && echo hidden-written"
    " && for i in $(seq 1 60); do head -c 1048576 /dev/urandom > /tmp/chunk-$i; sleep 0.02; done"
    " && echo wrote-everything"
)


@pytest.fixture(scope="module")
def disk_run(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[BuildResult, Any, Any]:
    """A build that writes past a 64 MB disk limit (the plan's `disk_bytes`)."""
    repo = repo_writer(tmp_path_factory.mktemp("disk") / "repo", WRITE_PAST_THE_LIMIT)
    options = Options(
        python="3.14.3", disk_bytes=DISK_LIMIT, build_cache=False, probe_network=False
    )
    plan = make_plan(repo, options, client=client)
    image = built_images["3.14"]
    result = simulate_service(
        client, plan, plan.services[0], image=image.tag, base=image.base, echo=lambda *_: None
    )
    return result, plan, plan.services[0]


def test_build_past_the_disk_limit_is_stopped_before_it_ends(
    disk_run: tuple[BuildResult, Any, Any],
) -> None:
    result, _, _ = disk_run
    lines = result.log_text.splitlines()
    assert "hidden-written" in lines, result.log_text[-2000:]
    assert "wrote-everything" not in lines, result.log_text[-2000:]
    assert result.outcome == "failed", result.log_text[-2000:]


def test_build_past_the_disk_limit_says_why_it_was_stopped(
    disk_run: tuple[BuildResult, Any, Any],
) -> None:
    result, _, _ = disk_run
    assert result.event.startswith("Disk space usage exceeded 64 MB while building your code")
    assert result.event in result.log_path.read_text(encoding="utf-8")


def test_build_past_the_disk_limit_is_diagnosed_disk_full_with_the_reason(
    disk_run: tuple[BuildResult, Any, Any],
) -> None:
    result, plan, service = disk_run
    diagnosis = diagnose(plan, service, result)
    assert diagnosis.failure_class == "disk-full", diagnosis.headline
    assert any("Disk space usage exceeded 64 MB" in e.text for e in diagnosis.evidence)


@pytest.fixture(scope="module")
def engine_bounds_volumes(client: docker.DockerClient) -> bool:
    """This test's own probe: does the engine take a size for a local volume?"""
    try:
        volume = client.volumes.create(
            f"render-sim-test-quota-{uuid.uuid4().hex[:8]}", driver_opts={"size": "1m"}
        )
    except docker.errors.APIError as error:
        assert "quota" in str(error), error
        return False
    volume.remove(force=True)
    return True


def test_plan_says_how_the_disk_limit_is_enforced_on_this_engine(
    client: docker.DockerClient,
    engine_bounds_volumes: bool,
    repo_writer: Callable[..., Path],
    tmp_path: Path,
) -> None:
    repo = repo_writer(tmp_path / "repo", "true")
    plan = make_plan(repo, Options(python="3.14.3", probe_network=False), client=client)
    said = [d for d in plan.services[0].differences if d.startswith("disk: this Docker engine")]
    assert bool(said) is not engine_bounds_volumes, plan.services[0].differences
    if said:
        assert "stops the build past 16 GB" in said[0]


def test_doctor_says_how_the_disk_limit_is_enforced_on_this_engine(
    engine_bounds_volumes: bool, render_sim: Callable[..., Any]
) -> None:
    proc = render_sim("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    disk = checks["disk limit"]
    assert (disk["status"] == "ok") is engine_bounds_volumes, disk
    if not engine_bounds_volumes:
        assert "render-sim measures" in disk["detail"] and "16 GB" in disk["detail"], disk


# -- limits without render-sim -------------------------------------------------------------------


def _start_and_kill_render_sim(
    client: docker.DockerClient, repo: Path, *args: str
) -> tuple[str, float]:
    """Start a simulation of `repo`, SIGKILL render-sim once its build runs; the container's
    name and when render-sim died."""
    run = Running.start(
        "simulate", str(repo), "--python", "3.13.4", "--no-pull", "--no-cache", *args
    )
    run.wait_for(STARTED, client, repo)
    containers, _ = labelled(client, repo)
    run.proc.kill()
    run.proc.wait()
    build = next(name for name in containers if not name.endswith("-watch"))
    return build, time.monotonic()


def _until(condition: Callable[[], bool], limit_s: float) -> bool:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(1)
    return condition()


def _running(client: docker.DockerClient, name: str) -> bool:
    try:
        return bool(client.api.inspect_container(name)["State"]["Running"])
    except docker.errors.NotFound:
        return False


@pytest.fixture
def reap(client: docker.DockerClient) -> Iterator[list[Path]]:
    """Repos whose containers and volumes the test removes at its end (render-sim was killed)."""
    repos: list[Path] = []
    yield repos
    for repo in repos:
        containers, volumes = labelled(client, repo)
        for name in containers:
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(name, force=True, v=True)
        for name in volumes:
            with contextlib.suppress(docker.errors.NotFound):
                client.volumes.get(name).remove(force=True)


def test_build_of_a_killed_render_sim_ends_at_its_time_limit(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    reap: list[Path],
) -> None:
    repo = make_repo(f"{STARTED_COMMAND}; sleep 900")
    reap.append(repo)
    build, _ = _start_and_kill_render_sim(client, repo, "--timeout", "5s", "--network", "none")
    assert _running(client, build)  # render-sim is gone and its build runs on
    # PID 1 ends the container 60 s after the 5 s limit, with nobody watching; the sleep would
    # take 15 minutes
    assert _until(lambda: not _running(client, build), limit_s=300), f"{build} still runs"


def test_kept_build_of_a_killed_render_sim_stops_its_command_at_the_time_limit(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    reap: list[Path],
) -> None:
    # --keep: the container stays for inspection, but the build command is bounded on its own
    repo = make_repo(f"{STARTED_COMMAND}; sleep 900")
    reap.append(repo)
    build, _ = _start_and_kill_render_sim(
        client, repo, "--timeout", "5s", "--network", "none", "--keep"
    )

    def command_ended() -> bool:
        processes = client.api.top(build).get("Processes") or []
        return not any("sleep 900" in row[-1] for row in processes)

    assert not command_ended()
    assert _until(command_ended, limit_s=300), client.api.top(build)
    assert _running(client, build)  # kept: still there to look into


# -- limits the engine cannot give: usage errors, before anything is built -----------------------


def test_more_cpus_than_the_engine_has_is_a_usage_error_naming_the_range(
    client: docker.DockerClient,
    make_repo: Callable[..., Path],
    render_sim: Callable[..., Any],
) -> None:
    repo = make_repo("true")
    cpus = int(client.info()["NCPU"])
    proc = render_sim("simulate", str(repo), "--cpus", "1000", "--no-pull")
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "--cpus 1000" in proc.stderr and f"0.01 to {cpus}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_network_is_a_usage_error_naming_it(
    make_repo: Callable[..., Path], render_sim: Callable[..., Any]
) -> None:
    repo = make_repo("true")
    proc = render_sim("simulate", str(repo), "--network", "render-sim-no-such-network")
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "'render-sim-no-such-network'" in proc.stderr, proc.stderr
    assert "docker network ls" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr

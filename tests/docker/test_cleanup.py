"""Whatever way a simulation ends, nothing is left behind and the user's repo is untouched.

That includes a Ctrl-C or SIGTERM while the build container is still being created, and an
image build interrupted halfway (its unfinished layers would look like render-sim's images).

Each `render-sim simulate` run (conftest's `cli_runs`) gets its own repo; its containers and
volumes carry `render-sim.repo=<resolved repo path>`, which is how leftovers are found here.
The repo is snapshotted (every path, its bytes and its mode) before and after the run; the
builds write, delete and chmod files in their checkout to prove the checkout is a copy.
"""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.docker.engine_support import CLI_TIMEOUT_S, Running
from tests.hermetic.cli_support import labelled

pytestmark = pytest.mark.docker

ENDINGS = ["success", "failure", "out-of-memory", "timeout", "no-output", "sigint", "sigterm"]
SIGNALS = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM}


def test_successful_simulation_exits_0(cli_runs: Any) -> None:
    run = cli_runs.get("success")
    assert run.returncode == 0, run.explain()
    assert run.result()["outcome"] == "succeeded", run.explain()


def test_failing_build_exits_1_with_its_status(cli_runs: Any) -> None:
    run = cli_runs.get("failure")  # the build command ends with `exit 3`
    assert run.returncode == 1, run.explain()
    assert run.result()["outcome"] == "failed", run.explain()
    assert run.result()["exit_code"] == 3, run.explain()


@pytest.mark.parametrize("signal_name", ["sigint", "sigterm"])
def test_signal_stops_simulate_with_exit_130_within_seconds(
    cli_runs: Any, signal_name: str
) -> None:
    run = cli_runs.get(signal_name)
    assert run.returncode == 130, run.explain()
    assert run.signal_to_exit_s is not None and run.signal_to_exit_s < 20, run.explain()


@pytest.mark.parametrize("signal_name", ["sigint", "sigterm"])
def test_running_build_carries_the_repo_label_on_container_and_volumes(
    cli_runs: Any, signal_name: str
) -> None:
    # What the leftover checks below look for really is there while a build runs.
    run = cli_runs.get(signal_name)
    builds = [c for c in run.seen_containers if not c.endswith("-watch")]
    assert len(builds) == 1, run.seen_containers
    assert sorted(run.seen_containers) == sorted([builds[0], f"{builds[0]}-watch"]), (
        run.seen_containers
    )
    assert len(run.seen_volumes) >= 1, run.seen_volumes


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_container_survives(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.containers == [], run.explain()


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_volume_survives(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.volumes == [], run.explain()


@pytest.mark.parametrize("ending", ENDINGS)
def test_repo_is_byte_for_byte_unchanged(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.before, "the test repo has files"
    changed = sorted(
        path
        for path in run.before.keys() | run.after.keys()
        if run.before.get(path) != run.after.get(path)
    )
    assert not changed, f"changed in the repo: {changed}"


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_venv_appears_in_repo(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert ".venv" not in run.after


# -- a signal while the container is being created -----------------------------------------------


def _signal_during_creation(
    client: docker.DockerClient, repo: Path, sig: signal.Signals
) -> tuple[int | None, str, bool]:
    """Simulate `repo`; signal render-sim as soon as its first volume exists (the container and
    the rest are still being created). Returns the exit code, the output, and whether the
    signal came before the build container was running."""
    run = Running.start("simulate", str(repo), "--python", "3.13.4", "--no-pull", "--no-cache")
    deadline = time.monotonic() + CLI_TIMEOUT_S
    early = False
    while time.monotonic() < deadline and run.proc.poll() is None:
        containers, volumes = labelled(client, repo)
        if volumes:
            run.proc.send_signal(sig)
            early = not any(
                client.api.inspect_container(c)["State"]["Running"]
                for c in containers
                if _exists(client, c)
            )
            break
        time.sleep(0.02)
    return run.wait(timeout=120), run.output, early


def _exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.api.inspect_container(name)
    except docker.errors.NotFound:
        return False
    return True


@pytest.mark.parametrize("attempt", [1, 2, 3])
@pytest.mark.parametrize("signal_name", ["sigint", "sigterm"])
def test_signal_during_container_creation_leaves_nothing(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    signal_name: str,
    attempt: int,
) -> None:
    repo = make_repo("echo built")
    code, output, early = _signal_during_creation(client, repo, SIGNALS[signal_name])
    assert code == 130, output[-3000:]
    assert early, "the signal came after the build container ran: not during creation"
    assert "Traceback" not in output
    time.sleep(2)  # a create the engine was still finishing would show up by now
    assert labelled(client, repo) == ([], []), output[-3000:]


# -- an interrupted image build ------------------------------------------------------------------

LAYER = re.compile(r"^ ---> ([0-9a-f]{12})$", re.MULTILINE)


def test_interrupted_image_build_leaves_no_image_layer(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    repo = make_repo("true")
    # a CA bundle of this test's own: a build image no one has made yet
    ca = tmp_path / "ca.pem"
    ca.write_bytes(
        Path("/etc/ssl/certs/ca-certificates.crt").read_bytes() + f"# {uuid.uuid4()}\n".encode()
    )
    home = tmp_path / "home"
    run = Running.start(
        "images", "build", str(repo), "--python", "3.13.4", "--no-pull", "--ca-cert", str(ca),
        RENDER_SIM_HOME=str(home),
    )  # fmt: skip
    logs = home / "image-builds"
    deadline = time.monotonic() + CLI_TIMEOUT_S
    text = ""
    while time.monotonic() < deadline and run.proc.poll() is None:
        found = list(logs.glob("*.log")) if logs.is_dir() else []
        text = found[0].read_text(errors="replace") if found else ""
        if " ---> Running in " in text:  # the long RUN step started: two layers committed
            break
        time.sleep(0.1)
    assert run.proc.poll() is None, run.explain()
    run.proc.send_signal(signal.SIGINT)
    code = run.wait(timeout=120)
    text = next(logs.glob("*.log")).read_text(errors="replace")
    committed = [  # the layers of this build's own steps (not its base, not the build cache)
        layer
        for step in text.split("\nStep ")
        if "Using cache" not in step and " : FROM " not in step.splitlines()[0]
        for layer in LAYER.findall(step)
    ]
    assert code == 130, run.explain()
    assert committed, text[-3000:]  # the COPY steps of this CA bundle made new layers
    left = [layer for layer in committed if _image_exists(client, layer)]
    assert left == [], text[-3000:]


def _image_exists(client: docker.DockerClient, image_id: str) -> bool:
    try:
        client.images.get(image_id)
    except docker.errors.ImageNotFound:
        return False
    return True


def test_images_list_does_not_show_an_untagged_layer_as_a_stand_in(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    render_sim: Callable[..., Any],
) -> None:
    # What an unfinished build leaves: an untagged image inheriting the stand-in's labels
    standin = built_images["3.13"].base.ref
    container = client.containers.create(
        standin, ["true"], name=f"render-sim-test-{uuid.uuid4().hex[:8]}"
    )
    try:
        layer = client.api.commit(container.id)["Id"]
    finally:
        container.remove(force=True)
    try:
        assert client.images.get(layer).labels.get("render-sim.kind") == "standin"
        proc = render_sim("images", "list", "--json")
        assert proc.returncode == 0, proc.stderr
        listed = json.loads(proc.stdout)["images"]
        assert not [i for i in listed if i["tag"].split(":")[-1] in layer], listed
    finally:
        client.images.remove(layer, noprune=True)

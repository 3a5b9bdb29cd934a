"""`render-sim clean` removes what dead runs left, says what it left and why; `--all` removes all.

`clean` removes what any dead run on this engine left, so it never runs against the machine's
shared engine here: each test builds its runs in a dockerd of this module's own
(engine_support.SecondEngine), with an empty image (containers are only created, never run).
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from jsonschema import Draft202012Validator

from simulator.build import ownership
from simulator.build.ownership import (
    CACHE_LABEL,
    KEEP_LABEL,
    LABEL,
    PID_LABEL,
    PID_START_LABEL,
    RUN_LABEL,
)
from simulator.report.schemas import schema_for
from tests.docker.engine_support import SecondEngine
from tests.hermetic.cli_support import cli_argv, cli_env

pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class Engine:
    engine: SecondEngine
    image: str  # empty, with render-sim's image label (as a build image has)

    def client(self) -> docker.DockerClient:
        return self.engine.client()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    second = SecondEngine(Path(tempfile.mkdtemp(prefix="rsc-", dir="/tmp")))
    try:
        second.start()
        client = second.client()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
        client.api.import_image_from_data(
            buffer.getvalue(),
            repository="render-sim-test-empty",
            tag="1",
            changes=[f'LABEL "{LABEL}"="1"'],
        )
        yield Engine(second, "render-sim-test-empty:1")
    finally:
        second.remove()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@dataclass
class Runs:
    """One of each kind of thing `clean` meets, named with a suffix of this test's own."""

    suffix: str
    made: dict[str, tuple[str, str]]  # kind -> (container, volume)
    cache: str
    user: list[str]  # a user's container from render-sim's image, a user's volume


def _make_runs(engine: Engine) -> Runs:
    client = engine.client()
    suffix = uuid.uuid4().hex[:8]
    me = ownership.owner_labels()
    owners = {
        # a pid that ended (and, should it be reused meanwhile, one that started at another time)
        "dead": {**me, PID_LABEL: str(_dead_pid()), PID_START_LABEL: "1"},
        "live": me,
        "kept": {**me, PID_LABEL: str(_dead_pid()), PID_START_LABEL: "1", KEEP_LABEL: "1"},
        "other-host": {**me, ownership.HOST_LABEL: "another-machine"},
    }
    made = {}
    for kind, owner in owners.items():
        labels = {LABEL: "1", RUN_LABEL: f"{kind}-{suffix}", **owner}
        volume = client.volumes.create(name=f"render-sim-{kind}-{suffix}", labels=labels)
        container = client.containers.create(
            engine.image, ["true"], name=f"render-sim-{kind}-{suffix}", labels=labels
        )
        made[kind] = (container.name, volume.name)
    cache = client.volumes.create(
        name=f"render-sim-cache-{suffix}", labels={LABEL: "1", CACHE_LABEL: f"/repo:web:{suffix}"}
    ).name
    user = [
        client.containers.create(engine.image, ["true"], name=f"user-debug-{suffix}").name,
        client.volumes.create(name=f"user-data-{suffix}", labels={"owner": "someone"}).name,
    ]
    return Runs(suffix, made, cache, user)


def _clean(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """`render-sim clean ARGS` against the module's own engine."""
    return subprocess.run(
        cli_argv("clean", *args),
        env=cli_env(DOCKER_HOST=engine.engine.url),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.api.inspect_container(name)
        return True
    except docker.errors.NotFound:
        pass
    try:
        client.volumes.get(name)
        return True
    except docker.errors.NotFound:
        return False


@pytest.fixture(scope="module")
def default_clean(engine: Engine) -> Iterator[tuple[Runs, subprocess.CompletedProcess[str], Any]]:
    runs = _make_runs(engine)
    proc = _clean(engine, "--json")
    yield runs, proc, json.loads(proc.stdout) if proc.returncode == 0 else {}
    _clean(engine, "--all")


def test_clean_exits_0(default_clean: tuple[Runs, Any, Any]) -> None:
    _, proc, _ = default_clean
    assert proc.returncode == 0, proc.stderr


def test_clean_removes_a_dead_runs_container_and_volume(
    default_clean: tuple[Runs, Any, Any], engine: Engine
) -> None:
    runs, _, removed = default_clean
    container, volume = runs.made["dead"]
    assert container in removed["containers"] and volume in removed["volumes"], removed
    assert not _exists(engine.client(), container) and not _exists(engine.client(), volume)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("live", "still runs (a build in progress)"),
        ("kept", "kept for inspection (--keep)"),
        ("other-host", "made on host another-machine"),
    ],
)
def test_clean_leaves_what_is_not_dead_and_says_why(
    default_clean: tuple[Runs, Any, Any], engine: Engine, kind: str, reason: str
) -> None:
    runs, _, removed = default_clean
    for name in runs.made[kind]:
        assert _exists(engine.client(), name), name
        said = [x["reason"] for x in removed["left"] if x["name"] == name]
        assert said and reason in said[0], removed["left"]


def test_clean_leaves_build_caches_and_says_why(
    default_clean: tuple[Runs, Any, Any], engine: Engine
) -> None:
    runs, _, removed = default_clean
    assert _exists(engine.client(), runs.cache)
    said = [x["reason"] for x in removed["left"] if x["name"] == runs.cache]
    assert said and "build cache" in said[0], removed["left"]


def test_clean_leaves_what_render_sim_did_not_create(
    default_clean: tuple[Runs, Any, Any], engine: Engine
) -> None:
    runs, _, removed = default_clean
    assert all(_exists(engine.client(), name) for name in runs.user)
    assert not {x["name"] for x in removed["left"]} & set(runs.user)


def test_clean_tells_people_what_it_left_and_how_to_remove_it(engine: Engine) -> None:
    runs = _make_runs(engine)
    proc = _clean(engine)
    assert proc.returncode == 0, proc.stderr
    assert "still runs (a build in progress)" in proc.stdout, proc.stdout
    assert "render-sim clean --all" in proc.stdout, proc.stdout
    assert runs.made["live"][0] in proc.stdout


def test_clean_all_removes_every_run_and_cache_and_nothing_else(engine: Engine) -> None:
    runs = _make_runs(engine)
    client = engine.client()
    proc = _clean(engine, "--all", "--json")
    assert proc.returncode == 0, proc.stderr
    for container, volume in runs.made.values():
        assert not _exists(client, container) and not _exists(client, volume)
    assert not _exists(client, runs.cache)
    assert all(_exists(client, name) for name in runs.user)
    assert ownership.leftovers(client) == ([], [])


def test_clean_json_meets_its_schema(default_clean: tuple[Runs, Any, Any]) -> None:
    _, _, removed = default_clean
    assert removed["left"], removed  # the schema is checked on a run that left something
    Draft202012Validator(schema_for("clean")).validate(removed)

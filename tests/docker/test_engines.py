"""One scenario suite over two Docker engines: the machine's and a dockerd of this module's own.

The second engine (tests/docker/engine_support.SecondEngine) has no network at all, so it cannot join the
hermetic fixtures' network (an index and a cargo registry served on the main engine): the suite
here is the repo's scenarios that need no fixtures (`network: none`) plus small ones of this
module's own (a green build, an exit code, out-of-memory, a timeout, and one that misses its
expectation on purpose, so "same outcomes" includes a failure).

The same suite runs three ways, and each must report what the single-engine run reports:
1. on the main engine alone;
2. in one run spread over both (`--engine A --engine B`): the second engine starts empty and
   gets its build image from the main one, through the SDK;
3. as two shards, one per engine (`--shard 1/2`, `--shard 2/2`), merged with `scenarios merge`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build import endpoints
from tests.docker.engine_support import SecondEngine

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NO_FIXTURES = ("build-script-not-executable", "docker-not-found", "requirements-file-missing")
CREATED = "2026-03-01"  # Render's default then is Python 3.14.3: one build image for the suite
OWN: dict[str, tuple[str, str]] = {  # name: (build command, manifest after `network: none`)
    "builds-green": ("echo built > built.txt", "expect: {outcome: succeeded, exit_code: 0}"),
    "exits-3": (
        "echo about to fail; exit 3",
        'expect: {outcome: failed, exit_code: 3, log: ["about to fail"]}',
    ),
    "out-of-memory": (
        "python -c 'bytearray(1024**3)'",
        "expect: {outcome: out-of-memory}",
    ),
    "times-out": ("sleep 60", "expect: {outcome: timeout}"),
    "misses-its-expectation": ("exit 1", "expect: {outcome: succeeded}"),
}
OPTIONS = {"out-of-memory": "memory: 256m, ", "times-out": "timeout: 3s, "}
Run = Callable[..., subprocess.CompletedProcess[str]]


def write_suite(root: Path) -> Path:
    for name in NO_FIXTURES:
        shutil.copytree(PROJECT_ROOT / "scenarios" / name, root / name)
    for name, (command, expect) in OWN.items():
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "render.yaml").write_text(
            textwrap.dedent(
                f"""\
                services:
                  - type: web
                    name: {name}
                    runtime: python
                    plan: free
                    buildCommand: {json.dumps(command)}
                    startCommand: python app.py
                """
            )
        )
        (folder / "scenario.yaml").write_text(
            f"network: none\noptions: {{{OPTIONS.get(name, '')}created: {CREATED}}}\n{expect}\n"
        )
    return root


def outcomes(junit: Path) -> dict[str, str]:
    """name -> passed | failed | error, from a JUnit file."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        status = "passed"
        if case.find("failure") is not None:
            status = "failed"
        if case.find("error") is not None:
            status = "error"
        out[str(case.get("name"))] = status
    return out


def engines_of(junit: Path) -> dict[str, str]:
    """name -> the engine it ran on (the case's render-sim.engine property)."""
    return {
        str(case.get("name")): str(prop.get("value"))
        for case in ET.parse(junit).getroot().iter("testcase")
        for prop in case.iter("property")
        if prop.get("name") == "render-sim.engine"
    }


@dataclass(frozen=True)
class Runs:
    main: str  # the main engine's URL
    second: SecondEngine
    suite: Path
    single: Path  # the JUnit report of each run
    single_code: int
    spread: Path
    spread_code: int


def _run(render_sim: Run, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    proc = render_sim(*args, **env)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def second() -> Iterator[SecondEngine]:
    engine = SecondEngine(Path(tempfile.mkdtemp(prefix="rsf-", dir="/tmp")))  # short: a socket
    host_bridge = Path("/sys/class/net/docker0")
    had_bridge = host_bridge.exists()
    try:
        engine.start()
        assert host_bridge.exists() == had_bridge, "the second dockerd touched the host's docker0"
        yield engine
    finally:
        engine.remove()


@pytest.fixture(scope="module")
def runs(
    second: SecondEngine,
    built_images: dict[str, Any],
    render_sim: Run,
    tmp_path_factory: pytest.TempPathFactory,
) -> Runs:
    """The single-engine run, then one run over both engines (the second one empty before)."""
    root = tmp_path_factory.mktemp("engines")
    suite = write_suite(root / "suite")
    main = endpoints.resolve().host
    assert second.client().images.list() == [], "the second engine must start without images"
    common = ("scenarios", "run", "--dir", str(suite), "--no-pull")
    single = _run(render_sim, *common, "--jobs", "2", "--junit", str(root / "single.xml"))
    spread = _run(
        render_sim,
        *common,
        "--engine", main,
        "--engine", second.url,
        "--junit", str(root / "spread.xml"),
    )  # fmt: skip
    return Runs(
        main,
        second,
        suite,
        root / "single.xml",
        single.returncode,
        root / "spread.xml",
        spread.returncode,
    )


@pytest.fixture(scope="module")
def merged(runs: Runs, render_sim: Run) -> tuple[Path, int]:
    """Shard 1/2 on the main engine, 2/2 on the second (which has the image by now, as a CI
    runner has it from its cache), merged."""
    root = runs.single.parent
    for index, engine in ((1, runs.main), (2, runs.second.url)):
        _run(
            render_sim,
            "scenarios", "run", "--dir", str(runs.suite), "--no-pull",
            "--shard", f"{index}/2",
            "--engine", engine,
            "--junit", str(root / f"shard-{index}.xml"),
        )  # fmt: skip
    merge = _run(
        render_sim,
        "scenarios", "merge", str(root / "shard-1.xml"), str(root / "shard-2.xml"),
        "--junit", str(root / "merged.xml"),
    )  # fmt: skip
    return root / "merged.xml", merge.returncode


def test_the_single_engine_run_has_every_scenario_and_the_one_expected_failure(
    runs: Runs,
) -> None:
    expected = {name: "passed" for name in [*NO_FIXTURES, *OWN]}
    expected["misses-its-expectation"] = "failed"
    assert outcomes(runs.single) == expected
    assert runs.single_code == 1


def test_shards_on_two_engines_merge_to_the_single_engine_results(
    runs: Runs, merged: tuple[Path, int]
) -> None:
    path, code = merged
    assert outcomes(path) == outcomes(runs.single)
    assert code == runs.single_code
    assert set(engines_of(path).values()) == {runs.main, runs.second.url}


def test_one_run_over_two_engines_gives_the_single_engine_results(runs: Runs) -> None:
    assert outcomes(runs.spread) == outcomes(runs.single)
    assert runs.spread_code == runs.single_code
    assert set(engines_of(runs.spread).values()) == {runs.main, runs.second.url}


def test_an_engine_without_the_build_image_gets_the_same_image_through_the_sdk(
    runs: Runs, client: docker.DockerClient
) -> None:
    copied = {tag: image.id for image in runs.second.client().images.list() for tag in image.tags}
    builds = [tag for tag in copied if "/build:3.14.3-" in tag]
    assert len(builds) == 1, copied
    assert copied[builds[0]] == client.images.get(builds[0]).id
    bases = [tag for tag in copied if "/python-standin:3.14-" in tag]
    assert len(bases) == 1 and copied[bases[0]] == client.images.get(bases[0]).id


def docker_context(config: Path, name: str, url: str) -> None:
    """`docker context create NAME --docker host=URL`, by the docker CLI, in `config`."""
    subprocess.run(
        ["docker", "context", "create", name, "--docker", f"host={url}"],
        env={"DOCKER_CONFIG": str(config), "PATH": "/usr/local/bin:/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )


def test_doctor_names_the_docker_context_in_use(
    runs: Runs, render_sim: Run, tmp_path: Path
) -> None:
    docker_context(tmp_path, "fleet-b", runs.second.url)
    proc = _run(render_sim, "--context", "fleet-b", "doctor", "--json", DOCKER_CONFIG=str(tmp_path))
    checks = {check["name"]: check for check in json.loads(proc.stdout)["checks"]}
    endpoint = checks["docker endpoint"]["detail"]
    assert endpoint == f"context fleet-b ({runs.second.url}), from --context"
    assert checks["docker engine"]["status"] == "ok"


def test_docker_context_variable_picks_the_engine(
    runs: Runs, render_sim: Run, tmp_path: Path
) -> None:
    docker_context(tmp_path, "fleet-b", runs.second.url)
    proc = _run(
        render_sim,
        "images",
        "list",
        "--json",
        DOCKER_CONFIG=str(tmp_path),
        DOCKER_CONTEXT="fleet-b",
        DOCKER_HOST="",
    )
    listed = sorted(entry["tag"] for entry in json.loads(proc.stdout)["images"])
    on_second = sorted(tag for image in runs.second.client().images.list() for tag in image.tags)
    assert proc.returncode == 0 and listed == on_second


def test_scenarios_images_names_the_images_the_suite_runs_on(runs: Runs, render_sim: Run) -> None:
    """What a CI job saves with `docker save` for the shards: here, what the empty second
    engine needed to run the suite."""
    proc = _run(render_sim, "scenarios", "images", "--dir", str(runs.suite), "--no-pull", "--json")
    data = json.loads(proc.stdout)
    on_second = sorted(tag for image in runs.second.client().images.list() for tag in image.tags)
    assert sorted([*data["images"], *data["bases"]]) == on_second

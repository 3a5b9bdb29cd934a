"""The hermetic scenarios of scenarios/, run against render-sim's own test fixtures.

The fixtures (tests/hermetic) are a package index and a sparse cargo registry whose every
package and crate the tests generate, served by docker-compose (through pytest-docker) from
render-sim's own 3.14 build image on an `internal` Docker network: a build joined to it reaches
`index` and `crates` and nothing else. Every hermetic scenario runs once (two at a time), then
one test per scenario asserts it passed, and a few more check that the failures are real: the
read-only cargo error comes from cargo itself, the CARGO_HOME workaround really built and
installed the package, and the network really is cut off from the internet.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.scenario_run import ScenarioResult, run_scenarios
from simulator.scenarios import discover
from tests.hermetic import packages

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
COMPOSE_FILE = PROJECT_ROOT / "tests" / "hermetic" / "compose.yml"
COMPOSE_NETWORK = "fixtures"  # the network's key in compose.yml
READY_TIMEOUT_S = 60

# The scenarios this module was written with; others with `network: fixtures|none` run too.
KNOWN = (
    "rust-sdist-readonly-cargo",
    "rust-sdist-cargo-home",
    "c-extension-missing-header",
    "build-out-of-memory",
    "build-timeout",
    "uv-frozen-heavy-group",
    "uv-frozen-no-dev",
    "resolver-conflict",
    "no-matching-distribution",
)
HERMETIC = sorted(s.name for s in discover([SCENARIOS_DIR], kind="hermetic"))


# -- the fixtures, served by docker-compose -----------------------------------------------------


@pytest.fixture(scope="session")
def hermetic_trees(tmp_path_factory: pytest.TempPathFactory) -> packages.Fixtures:
    """The generated index and registry (the backend wheels come from the download cache)."""
    root = tmp_path_factory.mktemp("hermetic-fixtures")
    return packages.generate(root, packages.fetch_backends())


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return "docker-compose"


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"rsimfixtures{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up -d"]  # pytest-docker's default `--wait` is docker-compose v2 only


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v"]


@pytest.fixture(scope="session")
def docker_compose_file(
    built_images: dict[str, Any], hermetic_trees: packages.Fixtures
) -> Iterator[str]:
    """compose.yml, with its image (render-sim's 3.14 build image) and trees in the environment."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RENDER_SIM_FIXTURES_IMAGE", built_images["3.14"].tag)
    patch.setenv("RENDER_SIM_FIXTURES_INDEX", str(hermetic_trees.index))
    patch.setenv("RENDER_SIM_FIXTURES_CRATES", str(hermetic_trees.crates))
    yield str(COMPOSE_FILE)
    patch.undo()


def _service(client: docker.DockerClient, project: str, service: str) -> Any:
    labels = [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]
    found = client.containers.list(filters={"label": labels})
    return found[0] if found else None


# From inside the network: both hosts answer with what the scenarios fetch first.
READY_CHECK = (
    "import urllib.request as u\n"
    f"u.urlopen('{packages.INDEX_URL}rsim-rust/', timeout=2).read()\n"
    "u.urlopen('http://crates:8000/config.json', timeout=2).read()\n"
)


@pytest.fixture(scope="session")
def fixtures_network(
    client: docker.DockerClient, docker_services: Any, docker_compose_project_name: str
) -> str:
    """The full name of the fixtures network, once `index` and `crates` both answer on it."""

    def ready() -> bool:
        index = _service(client, docker_compose_project_name, "index")
        if index is None:
            return False
        return index.exec_run(["python3", "-c", READY_CHECK]).exit_code == 0

    docker_services.wait_until_responsive(check=ready, timeout=READY_TIMEOUT_S, pause=0.3)
    return f"{docker_compose_project_name}_{COMPOSE_NETWORK}"


# -- one run of every hermetic scenario --------------------------------------------------------


@pytest.fixture(scope="module")
def results(client: docker.DockerClient, fixtures_network: str) -> dict[str, ScenarioResult]:
    scenarios = discover([SCENARIOS_DIR], kind="hermetic")
    started = time.monotonic()
    ran = run_scenarios(client, scenarios, jobs=2, fixtures_network=fixtures_network, pull=False)
    took = time.monotonic() - started
    summary = ", ".join(f"{r.scenario.name} {r.duration_s:.1f} s" for r in ran)
    print(f"\nhermetic scenarios: {len(ran)} in {took:.1f} s ({summary})")
    return {r.scenario.name: r for r in ran}


def explain(result: ScenarioResult) -> str:
    build = result.result
    lines = [f"scenario {result.scenario.name} did not pass"]
    if result.error:
        lines.append(f"error: {result.error}")
    lines += [f"  - {mismatch}" for mismatch in result.mismatches]
    if build is not None:
        lines.append(f"outcome {build.outcome}, exit code {build.exit_code}; log (end):")
        lines.append(build.log_text[-4000:])
    return "\n".join(lines)


def test_every_known_scenario_is_hermetic() -> None:
    missing = [name for name in KNOWN if name not in HERMETIC]
    assert not missing, f"not found as hermetic scenarios in {SCENARIOS_DIR}: {missing}"


def test_every_hermetic_scenario_ran(results: dict[str, ScenarioResult]) -> None:
    assert sorted(results) == HERMETIC


@pytest.mark.parametrize("name", HERMETIC)
def test_scenario_passes(results: dict[str, ScenarioResult], name: str) -> None:
    result = results[name]
    assert result.passed and not result.error, explain(result)


# -- the failures are real ----------------------------------------------------------------------


def _repo_text(name: str) -> str:
    """Every file of the scenario's repo: what the build gets (all but the manifest)."""
    folder = SCENARIOS_DIR / name
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "scenario.yaml"]
    assert files, folder
    return "\n".join(p.read_text() for p in files)


def _sdist_text(dist: packages.Dist) -> str:
    with tarfile.open(fileobj=io.BytesIO(dist.data), mode="r:gz") as archive:
        return "\n".join(
            archive.extractfile(member).read().decode()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        )


def test_read_only_cargo_error_is_printed_by_cargo(results: dict[str, ScenarioResult]) -> None:
    """Nothing the build is given says "os error"; cargo, run by maturin under pip, prints it."""
    name = "rust-sdist-readonly-cargo"
    assert "os error" not in _repo_text(name)
    assert "os error" not in _sdist_text(packages.rsim_rust())
    build = results[name].result
    assert build is not None, explain(results[name])
    log = build.log_text
    assert "==> Running build command 'pip install -r requirements.txt'..." in log
    # cargo's own error chain, as pip shows a build backend's output (indented under its box)
    chain = re.search(
        r"^\s+error: failed to download replaced source registry `crates-io`\n"
        r"(?:.*\n){0,2}?\s+failed to create directory `/usr/local/cargo/registry/cache/[^`]+`\n"
        r"(?:.*\n){0,2}?\s+Read-only file system \(os error 30\)\n"
        r"\s+💥 maturin failed",
        log,
        re.M,
    )
    assert chain, log[-4000:]


def test_cargo_home_workaround_builds_and_installs(results: dict[str, ScenarioResult]) -> None:
    name = "rust-sdist-cargo-home"
    assert "CARGO_HOME" in (SCENARIOS_DIR / name / "render.yaml").read_text()
    build = results[name].result
    assert build is not None and build.outcome == "succeeded", explain(results[name])
    wheel = re.search(
        r"Created wheel for rsim-rust: filename=(rsim_rust-0\.1\.0-\S+\.whl)", build.log_text
    )
    assert wheel, build.log_text[-4000:]
    assert "Successfully installed rsim-rust-0.1.0" in build.log_text


def test_fixtures_network_is_internal(
    client: docker.DockerClient, fixtures_network: str, built_images: dict[str, Any]
) -> None:
    """A container on the network reaches the index but not the internet (pypi.org)."""
    assert client.networks.get(fixtures_network).attrs["Internal"] is True
    # TCP, not HTTPS, to pypi.org: a TLS error (an unknown CA) would also mean "reached".
    probe = (
        "import json, socket, urllib.request as u\n"
        "out = {}\n"
        "try:\n"
        "    u.urlopen('http://index:8000/simple/', timeout=10).read()\n"
        "    out['index'] = 'reached'\n"
        "except OSError as error:\n"
        "    out['index'] = f'{type(error).__name__}: {error}'\n"
        "try:\n"
        "    socket.create_connection(('pypi.org', 443), timeout=10).close()\n"
        "    out['pypi'] = 'reached'\n"
        "except OSError as error:\n"
        "    out['pypi'] = f'{type(error).__name__}: {error}'\n"
        "print(json.dumps(out))\n"
    )
    output = client.containers.run(
        built_images["3.14"].tag,
        ["python3", "-c", probe],
        network=fixtures_network,
        remove=True,
        dns_opt=["timeout:1", "attempts:1"],  # an unanswerable lookup fails in 1 s, not 10
        labels={"render-sim.test": "hermetic-network"},
    )
    seen = json.loads(output.decode().strip().splitlines()[-1])
    assert seen["index"] == "reached", seen
    assert seen["pypi"] != "reached", seen

"""The hermetic fixtures, served once per test session, and one run of every hermetic scenario.

The fixtures (tests/hermetic) are a package index, a sparse cargo registry and the same index
over HTTPS with an untrusted certificate, whose every package and crate the tests generate,
served by docker-compose (through pytest-docker) from render-sim's own 3.14 build image on an
`internal` Docker network: a build joined to it reaches `index`, `crates` and `tlsindex` and
nothing else. `hermetic_results` runs every hermetic scenario once (two at a time); the
scenario tests and the generated-log tests both read it. tests/docker/conftest.py imports these
fixtures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.scenarios.discovery import discover
from simulator.scenarios.run import ScenarioResult, run_scenarios
from tests.hermetic import backends, packages, tls

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
COMPOSE_FILE = PROJECT_ROOT / "tests" / "hermetic" / "compose.yml"
COMPOSE_NETWORK = "fixtures"  # the network's key in compose.yml
READY_TIMEOUT_S = 60


# -- the fixtures, served by docker-compose -----------------------------------------------------


@pytest.fixture(scope="session")
def hermetic_trees(tmp_path_factory: pytest.TempPathFactory) -> packages.Fixtures:
    """The generated index and registry (the backend wheels come from the download cache)."""
    root = tmp_path_factory.mktemp("hermetic-fixtures")
    return packages.generate(root, backends.fetch_backends())


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTTPS index's self-signed certificate, key and server script."""
    return tls.make_tls_dir(tmp_path_factory.mktemp("hermetic-tls"))


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
    built_images: dict[str, Any], hermetic_trees: packages.Fixtures, tls_dir: Path
) -> Iterator[str]:
    """compose.yml, with its image (render-sim's 3.14 build image) and trees in the environment."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RENDER_SIM_FIXTURES_IMAGE", built_images["3.14"].tag)
    patch.setenv("RENDER_SIM_FIXTURES_INDEX", str(hermetic_trees.index))
    patch.setenv("RENDER_SIM_FIXTURES_CRATES", str(hermetic_trees.crates))
    patch.setenv("RENDER_SIM_FIXTURES_TLS", str(tls_dir))
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
    "import ssl\n"
    "u.urlopen('https://tlsindex:8443/simple/', timeout=2,"
    " context=ssl._create_unverified_context()).read()\n"
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


@pytest.fixture(scope="session")
def hermetic_results(
    client: docker.DockerClient, fixtures_network: str
) -> dict[str, ScenarioResult]:
    """Every hermetic scenario, run once for the session (two at a time)."""
    scenarios = discover([SCENARIOS_DIR], kind="hermetic")
    started = time.monotonic()
    ran = run_scenarios(client, scenarios, jobs=2, fixtures_network=fixtures_network, pull=False)
    took = time.monotonic() - started
    summary = ", ".join(f"{r.scenario.name} {r.duration_s:.1f} s" for r in ran)
    print(f"\nhermetic scenarios: {len(ran)} in {took:.1f} s ({summary})")
    return {r.scenario.name: r for r in ran}

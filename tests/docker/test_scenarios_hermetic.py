"""The hermetic scenarios of scenarios/, run against render-sim's own test fixtures.

The fixtures and the one run of every hermetic scenario are tests/docker/hermetic_fixtures.py's
(an index, a cargo registry and an HTTPS index on an internal Docker network). One test per
scenario asserts it passed, and a few more check that the failures are real: the
read-only cargo error comes from cargo itself, the CARGO_HOME workaround really built and
installed the package, and the network really is cut off from the internet.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import docker
import pytest
from jsonschema import Draft202012Validator

from simulator.report.scenarios_view import results_to_json
from simulator.report.schemas import envelope, schema_for
from simulator.scenarios.discovery import discover
from simulator.scenarios.run import ScenarioResult
from tests.hermetic import packages

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"

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
    # each green under --verify-fix (expect.verify)
    "upgrade-two-together",
    "conflict-forward-fix",
    "pg-config-binary-swap",
    "requirements-in-subfolder",
    "python-312-offline-skipped",
)
HERMETIC = sorted(s.name for s in discover([SCENARIOS_DIR], kind="hermetic"))


# -- one run of every hermetic scenario (tests/docker/hermetic_fixtures.py) ---------------------


@pytest.fixture(scope="module")
def results(hermetic_results: dict[str, ScenarioResult]) -> dict[str, ScenarioResult]:
    return hermetic_results


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


def test_the_results_json_meets_the_scenarios_run_schema(
    results: dict[str, ScenarioResult],
) -> None:
    data = envelope(results_to_json(list(results.values()), duration_s=0.0), "scenarios run")
    Draft202012Validator(schema_for("scenarios run")).validate(json.loads(json.dumps(data)))


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

"""Logs printed by the real tools, wrapped as each platform shows them, classified as they were
made.

Every hermetic scenario that fails (tests/docker/hermetic_fixtures.py runs them once) is a real
build: pip (26, 25, 23 and 21.3's older layout), uv and Poetry against the generated index and
cargo registry. Its build output is wrapped as Render, Render's log stream and dashboard,
BuildKit and GitHub Actions would show it (tests/hermetic/wrappers.py) and each wrapped log must
get the scenario's class and package: the labels come from how the failure was made, never from
reading the log. Two runtime cases start an app for real after a successful build (a missing
module, a memory limit) and must be read as the app's failure, not the build's.

The logs are kept: in $RENDER_SIM_GENERATED_LOGS when set, else under pytest's temporary
directory (the path is printed). With RENDER_SIM_REFRESH_GENERATED=1 the raw ones also replace
tests/unit/generated_logs/, which the unit tests classify without Docker.
"""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest
from packaging.utils import canonicalize_name

from simulator.diagnose.classifier import classify
from simulator.scenarios.run import ScenarioResult
from tests.hermetic import generated
from tests.hermetic.wrappers import BuildOutput, wrappers_for

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEPT = PROJECT_ROOT / "tests" / "unit" / "generated_logs"


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("RENDER_SIM_GENERATED_LOGS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("generated-logs")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\ngenerated logs kept in {folder}")
    return folder


@pytest.fixture(scope="module")
def made(
    hermetic_results: dict[str, ScenarioResult], logs_dir: Path
) -> dict[str, generated.GeneratedLog]:
    """The failed builds of the hermetic scenarios, with their labels, kept on disk."""
    found: dict[str, generated.GeneratedLog] = {}
    for name, result in sorted(hermetic_results.items()):
        log = generated.from_scenario(result)
        if log is None:
            continue
        found[name] = log
        generated.keep(log, logs_dir)
    if os.environ.get("RENDER_SIM_REFRESH_GENERATED") == "1":
        generated.refresh(found.values(), KEPT)
    return found


def _check(log: generated.GeneratedLog, output: BuildOutput) -> list[str]:
    misses = []
    for wrapper, wrap in wrappers_for(output).items():
        diagnosis = classify(wrap(output))
        if diagnosis.failure_class != log.failure_class:
            misses.append(f"{wrapper}: class {diagnosis.failure_class} ({diagnosis.headline})")
        elif log.package and (
            diagnosis.package is None
            or canonicalize_name(diagnosis.package.name) != canonicalize_name(log.package)
        ):
            misses.append(f"{wrapper}: package {diagnosis.package}")
    return misses


FAILING = generated.failing_hermetic_scenarios()


def test_every_class_is_made_by_a_hermetic_scenario_or_a_runtime_case() -> None:
    assert generated.classes_made() >= generated.BUILD_CLASSES


@pytest.mark.parametrize("name", FAILING)
def test_generated_log_gets_its_class_in_every_wrapper(
    made: dict[str, generated.GeneratedLog], name: str
) -> None:
    assert name in made, f"scenario {name} made no failed build to read"
    log = made[name]
    assert not _check(log, log.output), "\n".join(_check(log, log.output))


@pytest.mark.parametrize("case", generated.RUNTIME_CASES, ids=lambda c: c.name)
def test_runtime_failure_after_a_successful_build_is_the_apps(
    hermetic_results: dict[str, ScenarioResult],
    client: docker.DockerClient,
    built_images: dict[str, object],
    logs_dir: Path,
    case: generated.RuntimeCase,
) -> None:
    build = hermetic_results[generated.RUNTIME_BUILD].result
    assert build is not None and build.succeeded
    image = built_images["3.14"].tag  # type: ignore[attr-defined]
    log = generated.runtime_log(client, image, build.log_text, case)
    generated.keep(log, logs_dir)
    if os.environ.get("RENDER_SIM_REFRESH_GENERATED") == "1":
        generated.refresh([log], KEPT, clear=False)
    assert not _check(log, log.output), "\n".join(_check(log, log.output))

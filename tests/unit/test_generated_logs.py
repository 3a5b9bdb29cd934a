"""The logs real builds printed (tests/unit/generated_logs, kept by
tests/docker/test_generated_logs_live.py), wrapped as Render, BuildKit and GitHub Actions would show them: each wrapped log gets the
class and package of the scenario that made it. No Docker: the logs are read from disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import FAILURE_CLASSES
from tests.hermetic.generated import read_kept
from tests.hermetic.wrappers import WRAPPERS, wrappers_for

KEPT = sorted((Path(__file__).parent / "generated_logs").glob("*.log"))
CASES = [
    pytest.param(path, wrapper, id=f"{path.stem}--{wrapper}")
    for path in KEPT
    for wrapper in wrappers_for(read_kept(path).output)
]


def test_every_class_has_a_generated_log() -> None:
    assert {read_kept(path).failure_class for path in KEPT} == set(FAILURE_CLASSES)


def test_every_wrapper_is_used() -> None:
    assert {wrapper for _, wrapper in (case.values for case in CASES)} == set(WRAPPERS)


@pytest.mark.parametrize(("path", "wrapper"), CASES)
def test_generated_log_gets_its_class_and_package(path: Path, wrapper: str) -> None:
    log = read_kept(path)
    diagnosis = classify(WRAPPERS[wrapper](log.output))
    assert diagnosis.failure_class == log.failure_class, diagnosis.headline
    if log.package:
        assert diagnosis.package is not None, diagnosis.headline
        assert canonicalize_name(diagnosis.package.name) == canonicalize_name(log.package)

"""Real failure logs from public issue threads that no rule was written from (tests/unit/real_logs,
each citing its thread): the class and the package a reader of the thread would name. They check
that the reading generalises to the tools' formats, not to the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from simulator.diagnose.classifier import classify
from tests.corpus import read_corpus_log

REAL_LOGS = sorted((Path(__file__).parent / "real_logs").glob("*.log"))


def test_real_logs_are_present() -> None:
    assert len(REAL_LOGS) >= 25


@pytest.mark.parametrize("path", REAL_LOGS, ids=lambda p: p.stem)
def test_real_log_gets_its_class(path: Path) -> None:
    log = read_corpus_log(path)
    diagnosis = classify(log.body)
    assert log.class_is_right(diagnosis.failure_class), (
        f"{diagnosis.failure_class}: {diagnosis.headline}"
    )


@pytest.mark.parametrize("path", REAL_LOGS, ids=lambda p: p.stem)
def test_real_log_names_its_package(path: Path) -> None:
    log = read_corpus_log(path)
    if log.package is None:
        return  # the label names no single package the log shows
    name, version = log.package
    diagnosis = classify(log.body)
    assert diagnosis.package is not None, f"expected {log.package}: {diagnosis.headline}"
    assert canonicalize_name(diagnosis.package.name) == canonicalize_name(name)
    if version is not None:
        assert diagnosis.package.version is not None, f"expected version {version}"
        assert Version(diagnosis.package.version) == Version(version)

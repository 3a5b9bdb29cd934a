"""Every real failure log in shared/corpus (and its additions) gets its labelled class and, where
the label names one distribution that the log itself shows, that package. No package index: this
never needs PyPI.

The corpus lives beside the repository (`tests/corpus.py` finds it); without it these tests fail,
they do not skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import FAILURE_CLASSES
from tests.corpus import (
    CORPUS,
    TABLE_CLASSES,
    corpus_paths,
    expected_package,
    read_corpus_log,
    rule_sources,
)

PATHS = corpus_paths() if CORPUS.is_dir() else []
MISSING = pytest.param(None, id="corpus-missing")


def _require(path: Path | None) -> Path:
    if path is None:
        pytest.fail(
            f"the failure corpus is missing: expected *.log files in {CORPUS} "
            "(shared/ beside the repository, or RENDER_SIM_CORPUS)"
        )
    return path


def _id(path: Path | None) -> str:
    return path.stem if path else "corpus-missing"


@pytest.mark.parametrize("path", PATHS or [MISSING], ids=_id)
def test_corpus_log_gets_its_labelled_class(path: Path | None) -> None:
    log = read_corpus_log(_require(path))
    assert log.label in FAILURE_CLASSES or log.label == "unknown"
    diagnosis = classify(log.body)
    assert log.class_is_right(diagnosis.failure_class), (
        f"{diagnosis.failure_class}: {diagnosis.headline}"
    )


@pytest.mark.parametrize("path", PATHS or [MISSING], ids=_id)
def test_corpus_log_names_the_labelled_package(path: Path | None) -> None:
    log = read_corpus_log(_require(path))
    if log.package is None:
        return  # the label names no single package, or one the log never shows
    name, version = log.package
    diagnosis = classify(log.body)
    assert diagnosis.package is not None, f"expected {log.package}: {diagnosis.headline}"
    assert canonicalize_name(diagnosis.package.name) == canonicalize_name(name)
    if version is not None:
        assert diagnosis.package.version is not None, f"expected version {version}"
        assert Version(diagnosis.package.version) == Version(version)


def test_corpus_is_present_with_its_additions() -> None:
    assert PATHS, f"no corpus logs found in {CORPUS}"
    assert any(path.parent != CORPUS for path in PATHS), "the additions folder is not read"


def test_every_corpus_class_has_a_rule_and_every_rule_a_corpus_log_or_cited_source() -> None:
    """A class without a log in the corpus must cite where its wording comes from instead."""
    _require(PATHS[0] if PATHS else None)
    labelled = {read_corpus_log(path).label for path in PATHS} - {"unknown"}
    assert labelled <= set(FAILURE_CLASSES)
    corpus_names = {path.name for path in PATHS}
    for rule in load_rules().rules:
        if rule.failure_class in labelled:
            continue
        assert rule.sources, rule.failure_class
        assert not rule_sources(rule.sources) & corpus_names, rule.failure_class
        assert all(("http" in s or ".md" in s or " " in s) for s in rule.sources), (
            f"{rule.failure_class}: no corpus log, so its sources must cite a document: {rule.sources}"
        )


def test_classes_outside_the_corpus_table_are_render_sim_classes() -> None:
    assert set(FAILURE_CLASSES) >= TABLE_CLASSES


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("pydantic-core 2.18.4 (via pydantic==2.7.4)", ("pydantic-core", "2.18.4")),
        ("torch==1.13.0+cu116 (a local-version CUDA build)", ("torch", "1.13.0+cu116")),
        ("tensorflow[and-cuda]==2.18.* (pulls the nvidia-*-cu12 wheel set)", ("tensorflow", None)),
        ("sqlmodel 0.0.8 vs sqlalchemy==2.0.20", ("sqlmodel", "0.0.8")),
        ("cffi (pinned version built from source on 3.12)", ("cffi", None)),
        ("tiktoken and tokenizers (both PyO3 0.20/0.21 era pins)", None),
        ("numpy/pandas pins of the v1.3 branch", None),
        ("opencv / face_recognition / dlib / torch", None),
        ("n/a (`python -m pip install -r requirements.txt`)", None),
        ("project's own PyO3 0.24.2 extension", None),
        ("Pipfile.lock (hash dafbfb) stale against Pipfile", None),
        ("none in particular (any package)", None),
        ("pipx, then gcovr 5.0 (the action bootstraps pipx)", None),
    ],
)
def test_package_labels_are_read_as_one_distribution_or_none(
    label: str, expected: tuple[str, str | None] | None
) -> None:
    assert expected_package(label) == expected


def test_rule_sources_name_the_corpus_files_they_cite() -> None:
    cited = rule_sources(["a-b--c.log", "pip's message (see x--y-z.log)", "https://x/y"])
    assert cited == {"a-b--c.log", "x--y-z.log"}

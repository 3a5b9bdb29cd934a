"""Every real failure log in shared/corpus gets its labelled class and, where the label names one
distribution that the log itself shows, that package. No package index: this never needs PyPI.

The corpus lives beside the repository (`shared/` next to the clone); without it these tests fail,
they do not skip.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import FAILURE_CLASSES

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
LOGS = sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []
MISSING = pytest.param(None, id="corpus-missing")


def read_corpus_log(path: Path) -> tuple[dict[str, str], str]:
    """(header fields, log lines) of a corpus file: YAML-ish front matter, then the log."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    header, body = text[4:].split("\n---\n", 1)
    fields = {}
    for line in header.splitlines():
        key, _, value = line.partition(": ")
        fields[key.strip()] = value.strip()
    return fields, body


def expected_package(label: str) -> tuple[str, str | None] | None:
    """The one distribution a `package:` label names, with its version when it gives one.

    None for "n/a"/"unknown" and for labels that name several ("tiktoken and tokenizers",
    "numpy/pandas", "opencv / dlib / torch"). The culprit comes first: "sqlmodel 0.0.8 vs ..."
    names sqlmodel.
    """
    if label.lower().startswith(("n/a", "unknown")):
        return None
    match = re.match(
        r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?"
        r"(?:(?:==|\s+)(?P<version>\d[^\s,;()]*))?(?P<rest>.*)$",
        label,
    )
    if match is None:
        return None
    rest = match["rest"].strip()
    if rest and not rest.startswith(("(", ",", "vs ", "+ ", "sdist", "reading ")):
        return None
    version = match["version"]
    try:
        Version(version or "")
    except InvalidVersion:
        version = None  # a specifier such as 2.18.* is not a version to compare
    return match["name"], version


def _mentions(body: str, name: str) -> bool:
    spellings = {name.lower(), canonicalize_name(name), canonicalize_name(name).replace("-", "_")}
    lowered = body.lower()
    return any(spelling in lowered for spelling in spellings)


def _require(path: Path | None) -> Path:
    if path is None:
        pytest.fail(
            f"the failure corpus is missing: expected *.log files in {CORPUS} "
            "(the repository is cloned with shared/ beside it)"
        )
    return path


@pytest.mark.parametrize("path", LOGS or [MISSING], ids=lambda p: p.stem if p else "corpus-missing")
def test_corpus_log_gets_its_labelled_class(path: Path | None) -> None:
    header, body = read_corpus_log(_require(path))
    assert header["class"] in FAILURE_CLASSES
    diagnosis = classify(body)
    assert diagnosis.failure_class == header["class"], diagnosis.headline


@pytest.mark.parametrize("path", LOGS or [MISSING], ids=lambda p: p.stem if p else "corpus-missing")
def test_corpus_log_names_the_labelled_package(path: Path | None) -> None:
    header, body = read_corpus_log(_require(path))
    expected = expected_package(header["package"])
    if expected is None or not _mentions(body, expected[0]):
        return  # the label names no single package, or one the log never shows
    diagnosis = classify(body)
    assert diagnosis.package is not None, f"expected {expected}"
    assert canonicalize_name(diagnosis.package.name) == canonicalize_name(expected[0])
    if expected[1] is not None:
        assert diagnosis.package.version is not None, f"expected version {expected[1]}"
        assert Version(diagnosis.package.version) == Version(expected[1])


def test_corpus_is_present() -> None:
    assert LOGS, f"no corpus logs found in {CORPUS}"


def test_every_corpus_class_has_a_rule_and_every_rule_a_corpus_log_or_cited_source() -> None:
    """A class without a log in the corpus must cite where its wording comes from instead."""
    _require(LOGS[0] if LOGS else None)
    labelled = {read_corpus_log(path)[0]["class"] for path in LOGS}
    assert labelled <= set(FAILURE_CLASSES)
    corpus_names = {path.name for path in LOGS}
    for rule in load_rules().rules:
        if rule.failure_class in labelled:
            continue
        assert rule.sources, rule.failure_class
        assert not set(rule.sources) & corpus_names, rule.failure_class
        assert all(("http" in s or ".md" in s) for s in rule.sources), (
            f"{rule.failure_class}: no corpus log, so its sources must cite a document: {rule.sources}"
        )
    assert set(FAILURE_CLASSES) - labelled <= {r.failure_class for r in load_rules().rules}


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
    ],
)
def test_package_labels_are_read_as_one_distribution_or_none(
    label: str, expected: tuple[str, str | None] | None
) -> None:
    assert expected_package(label) == expected

"""The failure corpus (`shared/corpus` beside the repository): where it is, its files, their labels.

The corpus tests and `make bench` both read it. It is found through `RENDER_SIM_CORPUS`, else as
`shared/corpus` in the nearest folder above the repository that has one (a clone and a git
worktree both sit below the folder that holds `shared/`).

Each file is YAML-ish front matter (class, source, python, package, fix) and the verbatim log
lines. Labels naming no class of the corpus README's table (disk full, a TLS proxy, an app that
crashes after a successful build) are `unknown`: a classifier may name those more precisely with
a class of its own, never with one of the table's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parents[1]
ADDED = ("added-2026-12",)  # folders of later additions, read like the top level
#: The classes of the corpus README's table (plus `unknown`); any other class a classifier
#: returns for an `unknown` label names the cause more precisely and counts as right.
TABLE_CLASSES = frozenset(
    {
        "rust-readonly-cargo",
        "no-wheel-python-too-new",
        "rust-toolchain-missing",
        "missing-system-library",
        "distutils-removed",
        "resolver-conflict",
        "no-matching-distribution",
        "out-of-memory",
        "build-timeout",
        "lockfile-mismatch",
        "externally-managed-environment",
        "requirements-file-missing",
        "readonly-system-site-packages",
    }
)


def find_corpus() -> Path:
    """The corpus folder: $RENDER_SIM_CORPUS, else the nearest `shared/corpus` above the repo."""
    explicit = os.environ.get("RENDER_SIM_CORPUS")
    if explicit:
        return Path(explicit)
    for folder in REPO.parents:
        candidate = folder / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "corpus"


CORPUS = find_corpus()


@dataclass(frozen=True)
class CorpusLog:
    """One corpus file: its header fields and its log lines."""

    path: Path
    header: dict[str, str]
    body: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        return self.header["class"]

    @cached_property
    def package(self) -> tuple[str, str | None] | None:
        """The one distribution the label names (and that the log shows), else None."""
        expected = expected_package(self.header.get("package", ""))
        if expected is None or not mentions(self.body, expected[0]):
            return None
        return expected

    def class_is_right(self, failure_class: str) -> bool:
        """The labelled class, or for an `unknown` label any class outside the README's table."""
        return table_class(failure_class) == self.label


def read_corpus_log(path: Path) -> CorpusLog:
    """A corpus file: YAML-ish front matter, then the log."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    header_text, body = text[4:].split("\n---\n", 1)
    header = {}
    for line in header_text.splitlines():
        key, _, value = line.partition(": ")
        header[key.strip()] = value.strip()
    return CorpusLog(path, header, body)


def corpus_paths(corpus: Path = CORPUS) -> list[Path]:
    """Every log file: the top level, then each folder of additions."""
    paths = sorted(corpus.glob("*.log"))
    for folder in ADDED:
        paths += sorted((corpus / folder).glob("*.log"))
    return paths


def corpus_logs(corpus: Path = CORPUS) -> list[CorpusLog]:
    return [read_corpus_log(path) for path in corpus_paths(corpus)]


def expected_package(label: str) -> tuple[str, str | None] | None:
    """The one distribution a `package:` label names, with its version when it gives one.

    None for "n/a"/"unknown"/"none" and for labels that name several ("tiktoken and tokenizers",
    "numpy/pandas", "opencv / dlib / torch"). The culprit comes first: "sqlmodel 0.0.8 vs ..."
    names sqlmodel.
    """
    if label.lower().startswith(("n/a", "unknown", "none", '"', "the ")):
        return None
    match = re.match(
        r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?"
        r"(?:(?:==|\s+)(?P<version>\d[^\s,;()]*))?(?P<rest>.*)$",
        label,
    )
    if match is None:
        return None
    rest = match["rest"].strip()
    if rest and not rest.startswith(("(", "vs ", "+ ", "sdist", "reading ", ";")):
        return None  # "pipx, then gcovr 5.0" names several
    if "." in match["name"] and match["name"].rsplit(".", 1)[1] in ("lock", "toml", "txt"):
        return None  # a file (Pipfile.lock), not a distribution
    version = match["version"]
    try:
        Version(version or "")
    except InvalidVersion:
        version = None  # a specifier such as 2.18.* is not a version to compare
    return match["name"], version


def mentions(body: str, name: str) -> bool:
    """Whether the log text names distribution `name` in any of its spellings."""
    key = canonicalize_name(name)
    spellings = {name.lower(), key, key.replace("-", "_"), key.replace("-", ".")}
    lowered = body.lower()
    return any(spelling in lowered for spelling in spellings)


def rule_sources(sources: Iterable[str]) -> set[str]:
    """The corpus file names a set of rule/signal `source` texts cite."""
    cited: set[str] = set()
    for source in sources:
        cited.update(re.findall(r"[\w.+-]+--[\w.+-]+\.log", source))
    return cited


# -- scores -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one log was read: its label, the class and package found."""

    log: CorpusLog
    failure_class: str
    package: str | None

    @property
    def class_right(self) -> bool:
        return self.log.class_is_right(self.failure_class)

    @property
    def package_right(self) -> bool | None:
        """None when the label names no single package the log shows."""
        if self.log.package is None:
            return None
        return self.package is not None and canonicalize_name(self.package) == canonicalize_name(
            self.log.package[0]
        )


def table_class(failure_class: str) -> str:
    """The class as the corpus table names it: any class outside the table is `unknown`."""
    return failure_class if failure_class in TABLE_CLASSES else "unknown"


def per_class(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | int]]:
    """Precision and recall per labelled class over the outcomes (classes outside the
    README's table count as `unknown`)."""
    counted: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        label, got = outcome.log.label, table_class(outcome.failure_class)
        counted.setdefault(label, {"logs": 0, "found": 0, "right": 0})["logs"] += 1
        counted.setdefault(got, {"logs": 0, "found": 0, "right": 0})["found"] += 1
        if got == label:
            counted[label]["right"] += 1
    return {
        name: {
            "logs": counts["logs"],
            "precision": round(counts["right"] / counts["found"], 3) if counts["found"] else 0.0,
            "recall": round(counts["right"] / counts["logs"], 3) if counts["logs"] else 0.0,
        }
        for name, counts in sorted(counted.items())
    }


def summary(outcomes: Sequence[Outcome]) -> dict[str, object]:
    """Class and package accuracy over the outcomes, with the per-class table."""
    with_package = [o for o in outcomes if o.package_right is not None]
    return {
        "logs": len(outcomes),
        "class_right": sum(o.class_right for o in outcomes),
        "class_accuracy": round(sum(o.class_right for o in outcomes) / max(len(outcomes), 1), 3),
        "package_logs": len(with_package),
        "package_right": sum(bool(o.package_right) for o in with_package),
        "package_accuracy": round(
            sum(bool(o.package_right) for o in with_package) / max(len(with_package), 1), 3
        ),
        "per_class": per_class(outcomes),
    }

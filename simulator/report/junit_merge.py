"""Merge the JUnit reports of a suite's shards into one report and one verdict.

`render-sim scenarios merge A.xml B.xml ... --junit all.xml`: every test case of every file, in
one `<testsuite>`, with the counts summed again. The merge refuses what would make a wrong
report: a file that is not JUnit XML, a case present in two files (two shards ran it), and, for
reports that say which shard they are (`render-sim scenarios run --shard I/N` writes it), two
files of the same shard, a shard missing, or shards that split the suite differently (another
scenario set or durations file: some scenarios ran twice or never).

The verdict: passed only when there is at least one case and every case passed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import InputError, ScenarioError
from simulator.report.junit import ENGINE_PROPERTY, IMAGE_PROPERTY, SUITE, add_properties
from simulator.scenarios.shards import SHARD_PROPERTY, SPLIT_PROPERTY, SUITE_PROPERTY, parse_shard

SAME_SPLIT_HINT = (
    "run every shard on the same scenarios with the same --durations file (CI restores one copy "
    "for all shards), then merge again"
)


@dataclass(frozen=True)
class Case:
    """One test case of a merged report."""

    classname: str
    name: str
    status: str  # passed | failed | error | skipped
    time_s: float
    file: Path
    properties: Mapping[str, str] = field(default_factory=dict)
    element: ET.Element = field(default_factory=lambda: ET.Element("testcase"), compare=False)

    @property
    def engine(self) -> str:
        return self.properties.get(ENGINE_PROPERTY, "")

    @property
    def own_s(self) -> float:
        """The case's time without waiting for its build image (what shards balance by)."""
        try:
            waited = float(self.properties.get(IMAGE_PROPERTY, "0") or 0)
        except ValueError:
            waited = 0.0
        return max(0.0, self.time_s - waited)

    def to_dict(self) -> dict[str, Any]:
        return {
            "classname": self.classname,
            "name": self.name,
            "status": self.status,
            "time_s": round(self.time_s, 3),
            "engine": self.engine or None,
            "file": str(self.file),
        }


@dataclass(frozen=True)
class MergedReport:
    """The cases of every file, and the shards they came from (when the files say)."""

    files: tuple[Path, ...]
    cases: tuple[Case, ...]
    time_s: float  # the shards' times summed (the suite's work, not its wall time)
    shards: int | None = None  # N when the files are the N shards of one split

    def count(self, status: str) -> int:
        return sum(case.status == status for case in self.cases)

    @property
    def passed(self) -> bool:
        """Every case passed (and there is at least one)."""
        return bool(self.cases) and all(case.status == "passed" for case in self.cases)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [str(f) for f in self.files],
            "shards": self.shards,
            "tests": len(self.cases),
            "passed": self.count("passed"),
            "failures": self.count("failed"),
            "errors": self.count("error"),
            "skipped": self.count("skipped"),
            "time_s": round(self.time_s, 3),
            "ok": self.passed,
            "cases": [case.to_dict() for case in self.cases],
        }


def _status(case: ET.Element) -> str:
    if case.find("error") is not None:
        return "error"
    if case.find("failure") is not None:
        return "failed"
    if case.find("skipped") is not None:
        return "skipped"
    return "passed"


def _properties(element: ET.Element) -> dict[str, str]:
    return {
        str(item.get("name")): str(item.get("value", ""))
        for item in element.findall("properties/property")
        if item.get("name")
    }


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _suites(path: Path) -> list[ET.Element]:
    """The `<testsuite>` elements of one JUnit file (root `<testsuites>` or `<testsuite>`)."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise InputError(
            f"{path} does not exist",
            hint="pass the JUnit files the shards wrote (scenarios run --junit FILE)",
        ) from None
    except (OSError, ET.ParseError) as error:
        raise InputError(
            f"{path} is not a JUnit XML file render-sim can read ({error})",
            hint="pass the JUnit files the shards wrote (scenarios run --junit FILE)",
        ) from None
    if root.tag == "testsuite":
        return [root]
    if root.tag == "testsuites":
        return root.findall("testsuite")
    raise InputError(
        f"{path} is XML but not JUnit: its root is <{root.tag}>, not <testsuites>",
        hint="pass the JUnit files the shards wrote (scenarios run --junit FILE)",
    )


def merge_junit(paths: Sequence[Path]) -> MergedReport:
    """Read and merge the JUnit files `paths` (see the module docstring for what is refused)."""
    if not paths:
        raise ScenarioError("no JUnit file to merge", hint="pass the shards' files: A.xml B.xml")
    cases: dict[tuple[str, str], Case] = {}
    shards: dict[Path, dict[str, str]] = {}
    total_s = 0.0
    for path in paths:
        for suite in _suites(path):
            total_s += _float(suite.get("time"))
            properties = _properties(suite)
            if SHARD_PROPERTY in properties:
                shards[path] = properties
            for element in suite.findall("testcase"):
                case = Case(
                    str(element.get("classname", "")),
                    str(element.get("name", "")),
                    _status(element),
                    _float(element.get("time")),
                    path,
                    _properties(element),
                    element,
                )
                key = (case.classname, case.name)
                if key in cases:
                    raise ScenarioError(
                        f"{case.name} ({case.classname}) is in {cases[key].file} and in {path}: "
                        "two shards ran it",
                        hint=SAME_SPLIT_HINT,
                    )
                cases[key] = case
    total = _check_shards(shards, list(paths), len(cases))
    ordered = tuple(sorted(cases.values(), key=lambda c: (c.name, c.classname)))
    return MergedReport(tuple(paths), ordered, total_s, total)


def _check_shards(
    shards: Mapping[Path, Mapping[str, str]], paths: list[Path], cases: int
) -> int | None:
    """N when the files are the complete shards of one split; errors when they are not."""
    if not shards:
        return None
    unsharded = [p for p in paths if p not in shards]
    if unsharded:
        raise ScenarioError(
            f"{unsharded[0]} is not a shard's report, but {next(iter(shards))} is",
            hint="merge the reports of one sharded run (scenarios run --shard I/N --junit FILE)",
        )
    seen: dict[int, Path] = {}
    totals = set()
    for path, properties in shards.items():
        shard = parse_shard(properties[SHARD_PROPERTY], f"{path}: shard")
        totals.add(shard.total)
        if shard.index in seen:
            raise ScenarioError(
                f"{seen[shard.index]} and {path} are both shard {shard}",
                hint="pass each shard's report once",
            )
        seen[shard.index] = path
    if len(totals) > 1:
        raise ScenarioError(
            f"the reports come from splits into {' and '.join(map(str, sorted(totals)))} shards",
            hint="merge the reports of one sharded run",
        )
    total = totals.pop()
    missing = [str(i) for i in range(1, total + 1) if i not in seen]
    if missing:
        raise ScenarioError(
            f"shard(s) {', '.join(f'{i}/{total}' for i in missing)} missing: the merged report "
            "would leave their scenarios out",
            hint="pass every shard's report (a shard with no scenarios writes one too)",
        )
    if len({p.get(SPLIT_PROPERTY, "") for p in shards.values()}) > 1:
        raise ScenarioError(
            "the shards split the suite differently (another scenario set or durations file): "
            "some scenarios ran twice or never",
            hint=SAME_SPLIT_HINT,
        )
    suite = {p.get(SUITE_PROPERTY, "") for p in shards.values()}
    if len(suite) == 1 and (size := suite.pop()).isdigit() and int(size) != cases:
        raise ScenarioError(
            f"the suite has {size} scenario(s) but the shards' reports hold {cases}",
            hint=SAME_SPLIT_HINT,
        )
    return total


def merged_tree(report: MergedReport) -> ET.ElementTree:
    """One JUnit document with every case of `report`, counts summed again."""
    counts = {
        "tests": str(len(report.cases)),
        "failures": str(report.count("failed")),
        "errors": str(report.count("error")),
        "skipped": str(report.count("skipped")),
        "time": f"{report.time_s:.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    engines = sorted({case.engine for case in report.cases if case.engine})
    properties = {"render-sim.merged": str(len(report.files))}
    if report.shards:
        properties["render-sim.shards"] = str(report.shards)
    if engines:
        properties["render-sim.engines"] = " ".join(engines)
    add_properties(suite, properties)
    for case in report.cases:
        suite.append(case.element)
    ET.indent(root)
    return ET.ElementTree(root)


def write_merged(path: Path, report: MergedReport) -> None:
    """Write the merged report to `path` (its folder is created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    merged_tree(report).write(path, encoding="utf-8", xml_declaration=True)

"""The fleet check (`render-sim check DIR...`) for people (one table), programs (JSON) and CI
(JUnit: one test case per service, a failure for each that would not build as is).

One row per service: the repo, the service, the Python Render would use and where that choice
comes from, the packages that would be compiled from source, and the fix to try first. A repo
that could not be checked is one row saying why. Plain data in, output out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator.check.fleet import FleetReport
from simulator.check.results import ServiceCheck
from simulator.report.junit import add_properties, xml_text

SUITE = "render-sim check"
NONE = "-"


def python_cell(service: ServiceCheck, moved: bool) -> str:
    """`3.15.2 (default, moved)`, `3.13.4 (PYTHON_VERSION)`, `3.12.11 (.python-version)`."""
    source = service.python_source
    if source == "default" and moved:
        source = "default, moved"
    return f"{service.python} ({source})"


def source_builds_cell(service: ServiceCheck) -> str:
    """The packages pip would compile (`pydantic-core 2.23.4, numpy 1.24.4`), and how many
    installs would fail whatever is compiled."""
    parts = (
        [", ".join(str(build) for build in service.compiled_builds)]
        if service.compiled_builds
        else []
    )
    if service.problems:
        count = len(service.problems)
        parts.append(f"{count} install{'s' if count > 1 else ''} would fail")
    return "; ".join(parts) or NONE


def top_fix(service: ServiceCheck) -> str:
    """The fix to try first: the whole-service fix, else the first source build's, else what
    the first problem or lint error says to do."""
    if service.fixes:
        return service.fixes[0].title
    for build in service.compiled_builds:
        if build.fixes:
            return build.fixes[0].title
    for problem in service.problems:
        if problem.hint:
            return problem.hint
    for item in service.lints:
        if item.severity == "error" and item.fix:
            return item.fix
    return NONE


def status_cell(service: ServiceCheck | None) -> str:
    if service is None:
        return "error"
    return "ok" if service.ok else "fails"


_STATUS_STYLE = {"ok": "green", "fails": "bold red", "error": "bold red"}
_MARK = {"ok": "✓ ok", "fails": "✗ fails", "error": "! error"}


def rows(report: FleetReport) -> list[dict[str, str]]:
    """The table's rows as plain strings (what `print_fleet` shows, and tests read)."""
    moved = report.default_python is not None
    out = []
    for repo, service in report.services():
        status = status_cell(service)
        if service is None:
            error = repo.error
            out.append(
                {
                    "repo": repo.name,
                    "service": NONE,
                    "python": NONE,
                    "source_builds": NONE,
                    "top_fix": (error.hint or NONE).splitlines()[0] if error else NONE,
                    "status": status,
                    "detail": str(error) if error else "",
                    "hint": (error.hint or "") if error else "",
                }
            )
            continue
        out.append(
            {
                "repo": repo.name,
                "service": service.name,
                "python": python_cell(service, moved),
                "source_builds": source_builds_cell(service),
                "top_fix": top_fix(service) if not service.ok else NONE,
                "status": status,
                "detail": "",
                "hint": "",
            }
        )
    return out


def print_fleet(report: FleetReport, console: Console) -> None:
    """The summary table, the errors in full, and the counts."""
    if report.default_python:
        console.print(
            Text(f"as if Render's default Python were {report.default_python} (--python)")
        )
    table = Table(pad_edge=False)
    columns = ("repo", "service", "Python (source)", "built from source", "top fix", "result")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column == "repo")
    lines = rows(report)
    for row in lines:
        table.add_row(
            Text(row["repo"]),
            Text(row["service"]),
            Text(row["python"]),
            Text(row["source_builds"]),
            Text(row["top_fix"]),
            Text(_MARK[row["status"]], style=_STATUS_STYLE[row["status"]]),
        )
    console.print(table)
    for row in lines:
        if row["detail"]:
            console.print(Text(f"! {row['repo']}: {row['detail']}", style="red"), soft_wrap=True)
            if row["hint"]:
                console.print(Text(f"  fix: {row['hint']}"), soft_wrap=True)
    services = [row for row in lines if row["status"] != "error"]
    failing = sum(row["status"] == "fails" for row in services)
    errors = sum(row["status"] == "error" for row in lines)
    style = "bold green" if report.exit_code == 0 else "bold red"
    console.print(
        Text(
            f"{len(report.repos)} repo(s), {len(services)} service(s): {failing} would not build "
            f"as is, {errors} repo(s) could not be checked; {report.seconds:.1f} s",
            style=style,
        )
    )


def fleet_to_json(report: FleetReport) -> dict[str, Any]:
    """The JSON form: every repo's whole check report, and the table's rows."""
    return {**report.to_dict(), "table": rows(report)}


def fleet_junit_tree(report: FleetReport) -> ET.ElementTree:
    """One test case per service (classname `check.<repo>`), one per repo in error."""
    cases: list[ET.Element] = []
    for row, (repo, service) in zip(rows(report), report.services(), strict=True):
        case = ET.Element(
            "testcase",
            {
                "classname": f"check.{row['repo']}",
                "name": row["service"] if service is not None else row["repo"],
                "time": f"{(service.seconds if service else repo.seconds):.3f}",
            },
        )
        add_properties(case, {"render-sim.python": row["python"]} if service else {})
        if row["status"] == "error":
            element = ET.SubElement(case, "error", {"message": xml_text(row["detail"])})
            element.text = xml_text(f"{row['detail']}\nfix: {row['hint'] or NONE}")
        elif row["status"] == "fails":
            message = f"built from source: {row['source_builds']}"
            element = ET.SubElement(case, "failure", {"message": xml_text(message)})
            element.text = xml_text(f"{message}\nPython {row['python']}\nfix: {row['top_fix']}")
        cases.append(case)
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(c.find("failure") is not None for c in cases)),
        "errors": str(sum(c.find("error") is not None for c in cases)),
        "skipped": "0",
        "time": f"{report.seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    if report.default_python:
        add_properties(suite, {"render-sim.default-python": report.default_python})
    suite.extend(cases)
    ET.indent(root)
    return ET.ElementTree(root)


def write_fleet_junit(path: Path, report: FleetReport) -> None:
    """Write the fleet's JUnit XML to `path` (its folder is created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fleet_junit_tree(report).write(path, encoding="utf-8", xml_declaration=True)

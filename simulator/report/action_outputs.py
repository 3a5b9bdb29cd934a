"""What the GitHub Action (`action.yml`) reports of one run, read from the command's `--json`.

The Action runs `render-sim simulate|check|scenarios run --json` into a file, then turns that
report into the step's outputs (`outputs`): `outcome` and `class`, one word each, so a workflow
can branch on them (`if: steps.render.outputs.class == 'rust-readonly-cargo'`):

| command | outcome | class |
| --- | --- | --- |
| simulate | the first failed service's (`failed`, `out-of-memory`, `timeout`, `no-output`), else `succeeded` | its diagnosis's failure class |
| check | `passed` or `failed` | `source-build`, `install-failure` or `build-command` (the first that fails) |
| scenarios run | `passed` or `failed` | the first scenario that missed: the class its build got |
| any, on an error | `error` | the error's kind (`ConfigurationError`, `DockerUnavailableError`, ...) |

`junit_tree` gives JUnit XML for `simulate` and `check` (one test case per service); `scenarios
run` writes its own (`--junit`). Only the report's masked text goes in.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.report.check_view import service_problems
from simulator.report.junit import xml_text

ERROR = "error"


def read_report(path: Path) -> dict[str, Any] | None:
    """The report's JSON object, or None when the command printed none (it crashed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def outputs(report: Mapping[str, Any] | None) -> dict[str, str]:
    """The Action's `outcome` and `class` for a report (see the table above)."""
    if report is None:
        return {"outcome": ERROR, "class": ""}
    error = report.get("error")
    if isinstance(error, Mapping):
        return {"outcome": ERROR, "class": _word(error.get("kind"))}
    command = report.get("command")
    if command == "simulate":
        return _simulate(report)
    if command == "check":
        return _check(report)
    if command == "scenarios run":
        return _scenarios(report)
    return {"outcome": ERROR, "class": ""}


def _simulate(report: Mapping[str, Any]) -> dict[str, str]:
    failed = [r for r in _list(report.get("results")) if r.get("outcome") != "succeeded"]
    if not failed:
        return {"outcome": "succeeded", "class": ""}
    diagnosis = failed[0].get("diagnosis")
    kind = diagnosis.get("class") if isinstance(diagnosis, Mapping) else ""
    return {"outcome": _word(failed[0].get("outcome")), "class": _word(kind)}


def check_failure_class(service: Mapping[str, Any]) -> str:
    """What fails a service's check first: a source build, an install failure, the command."""
    for build in _list(service.get("source_builds")):
        sdist = build.get("sdist")
        if not (isinstance(sdist, Mapping) and sdist.get("contents") == "pure"):
            return "source-build"
    if _list(service.get("problems")):
        return "install-failure"
    if any(item.get("severity") == "error" for item in _list(service.get("lint"))):
        return "build-command"
    return ""


def _check(report: Mapping[str, Any]) -> dict[str, str]:
    failing = [s for s in _list(report.get("services")) if s.get("ok") is False]
    if not failing:
        return {"outcome": "passed", "class": ""}
    return {"outcome": "failed", "class": check_failure_class(failing[0])}


def _scenarios(report: Mapping[str, Any]) -> dict[str, str]:
    missed = [s for s in _list(report.get("scenarios")) if s.get("passed") is not True]
    if not missed:
        return {"outcome": "passed", "class": ""}
    got = missed[0].get("got")
    return {
        "outcome": "failed",
        "class": _word(got.get("class") if isinstance(got, Mapping) else ""),
    }


def junit_tree(report: Mapping[str, Any]) -> ET.ElementTree:
    """JUnit XML of a `simulate` or `check` report: one test case per service, a `<failure>`
    for a service that failed, the error for a run that could not start."""
    command = str(report.get("command") or "render-sim")
    cases: list[tuple[str, float, str | None, str]] = []  # name, seconds, failure, output
    error = report.get("error")
    if isinstance(error, Mapping):
        cases.append((command, 0.0, f"{error.get('message')} (fix: {error.get('hint')})", ""))
    for result in _list(report.get("results")):
        diagnosis = result.get("diagnosis")
        headline = diagnosis.get("headline") if isinstance(diagnosis, Mapping) else None
        failure = None
        if result.get("outcome") != "succeeded":
            failure = str(headline or result.get("event") or result.get("outcome"))
        output = "\n".join(str(line) for line in result.get("last_error_lines") or [])
        cases.append(
            (str(result.get("service")), _seconds(result.get("duration_s")), failure, output)
        )
    for service in _list(report.get("services")):
        failure = None
        if service.get("ok") is False:
            failure = "; ".join(service_problems(service)) or "the check failed"
        output = "\n".join(str(line) for line in service.get("warnings") or [])
        cases.append((str(service.get("name")), _seconds(service.get("seconds")), failure, output))
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"render-sim {command}",
        tests=str(len(cases)),
        failures=str(sum(1 for case in cases if case[2] is not None)),
        errors="0",
        skipped="0",
        time=f"{sum(case[1] for case in cases):.2f}",
    )
    for name, seconds, failure, output in cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"render-sim.{command}",
            name=xml_text(name),
            time=f"{seconds:.2f}",
        )
        if failure is not None:
            ET.SubElement(case, "failure", message=xml_text(failure)[:1000]).text = xml_text(
                failure
            )
        if output:
            ET.SubElement(case, "system-out").text = xml_text(output)
    ET.indent(suites)
    return ET.ElementTree(suites)


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _word(value: Any) -> str:
    """A value safe on one `name=value` line of `$GITHUB_OUTPUT`."""
    return "" if value is None else "".join(str(value).split())


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0

"""JUnit XML from scenario results, for CI test reporters (Jenkins, GitLab, GitHub Actions).

The shape every reporter reads: `<testsuites>` with one `<testsuite>` (name, tests, failures,
errors, skipped, time, timestamp), one `<testcase>` per scenario (classname, name, time), a
`<failure>` for a scenario that missed its expectations, an `<error>` for one that could not run,
and the tail of the build log in `<system-out>`. Each test case's `<properties>` name the engine
it ran on and how long it waited for its build image; a shard's test suite says which shard it
is and how the suite was split, so `merge_junit` can tell a complete set of shards from a
partial one (`simulator.report.junit_merge`).

Only masked text goes in: the log as `BuildLog` saved it (secret values already replaced) and
render-sim's own messages. The build's environment is never written.
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from simulator.errors import UsageError
from simulator.scenarios.run import ScenarioResult

SUITE = "render-sim scenarios"
ENGINE_PROPERTY = "render-sim.engine"  # the Docker engine a scenario ran on
IMAGE_PROPERTY = "render-sim.image_s"  # of the case's time: waiting for its build image
LOG_TAIL_LINES = 200
# XML 1.0 cannot hold most control characters, even escaped: a reporter rejects the whole file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def xml_text(text: str) -> str:
    """`text` without terminal colour codes and without characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", _ANSI.sub("", text))


def log_tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log, saying how many were left out."""
    all_lines = text.splitlines()
    if len(all_lines) <= lines:
        return text
    return f"[... {len(all_lines) - lines} earlier lines in the log file]\n" + "\n".join(
        all_lines[-lines:]
    )


def junit_tree(
    results: Sequence[ScenarioResult],
    *,
    duration_s: float | None = None,
    timestamp: datetime | None = None,
    suite: str = SUITE,
    properties: Mapping[str, str] | None = None,
) -> ET.ElementTree:
    """The JUnit document for `results` (one test suite, one test case per scenario).

    `properties` go in the test suite's `<properties>` (a shard's number and split, see
    `simulator.scenarios.shards.shard_properties`)."""
    failures = sum(r.status == "failed" for r in results)
    errors = sum(r.status == "error" for r in results)
    total = duration_s if duration_s is not None else sum(r.duration_s for r in results)
    counts = {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{total:.3f}",
    }
    root = ET.Element("testsuites", {"name": suite, **counts})
    # Ant's schema: local date and time without a zone; UTC here, so CI machines agree
    when = timestamp or datetime.now(timezone.utc)
    testsuite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite,
            **counts,
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": socket.gethostname(),
        },
    )
    add_properties(testsuite, properties or {})
    for result in results:
        _testcase(testsuite, result)
    ET.indent(root)
    return ET.ElementTree(root)


def _testcase(parent: ET.Element, result: ScenarioResult) -> None:
    scenario = result.scenario
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "classname": f"scenarios.{scenario.kind}",
            "name": scenario.name,
            "time": f"{result.duration_s:.3f}",
        },
    )
    add_properties(
        case,
        {ENGINE_PROPERTY: result.engine, IMAGE_PROPERTY: f"{result.image_s:.3f}"}
        if result.engine
        else {},
    )
    build = result.result
    if result.status == "error":
        element = ET.SubElement(
            case, "error", {"message": xml_text(result.error or ""), "type": "RenderSimError"}
        )
        element.text = xml_text(result.error or "")
    elif result.status == "failed":
        element = ET.SubElement(
            case,
            "failure",
            {
                "message": xml_text(result.mismatches[0] if result.mismatches else "failed"),
                "type": "ExpectationMismatch",
            },
        )
        lines = [
            f"expected: {scenario.expect.summary()}",
            f"got: {result.got()}",
            *result.mismatches,
        ]
        if build is not None:
            lines += [f"build log: {build.log_path}", "", *build.last_error_lines]
        element.text = xml_text("\n".join(lines))
    if build is not None:
        out = ET.SubElement(case, "system-out")
        out.text = xml_text(log_tail(build.log_text))


def add_properties(parent: ET.Element, properties: Mapping[str, str]) -> None:
    """`<properties><property name=".." value=".."/>...</properties>` (nothing when empty)."""
    if not properties:
        return
    element = ET.SubElement(parent, "properties")
    for name, value in properties.items():
        ET.SubElement(element, "property", {"name": name, "value": xml_text(value)})


def write_junit(
    path: Path,
    results: Sequence[ScenarioResult],
    *,
    duration_s: float | None = None,
    timestamp: datetime | None = None,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Write the JUnit XML of `results` to `path` (its folder is created when missing)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tree = junit_tree(
            results, duration_s=duration_s, timestamp=timestamp, properties=properties
        )
        tree.write(path, encoding="utf-8", xml_declaration=True)
    except OSError as error:
        raise UsageError(
            f"cannot write the JUnit report {path}: {error.strerror or error}",
            hint="give --junit a file path in a writable directory",
        ) from None


def check_junit_path(path: Path) -> None:
    """A UsageError now, before any scenario runs, when the report could not be written there:
    a directory, a file under something that is not a directory, or no permission."""
    hint = "give --junit the path of the XML file to write, e.g. --junit reports/render-sim.xml"
    if path.is_dir():
        raise UsageError(f"--junit {path} is a directory, not a file", hint=hint)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # write_junit creates the missing folders
    if not folder.is_dir():
        raise UsageError(f"--junit {path}: {folder} is not a directory", hint=hint)
    writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK | os.X_OK)
    if not writable:
        raise UsageError(f"--junit {path} cannot be written (permission denied)", hint=hint)

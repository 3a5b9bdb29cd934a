"""Show a `CheckReport`: for people with rich (per service: Python, source builds, fixes), as
JSON data (`check_to_json`, the same keys as `CheckReport.to_dict`), and under GitHub Actions as
annotations and a job summary made from that JSON (`publish_check`).

Every text from a file or an index is printed as plain `Text`, never as rich markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.text import Text

from simulator.check.planner import FixPlan
from simulator.check.results import CheckReport, ServiceCheck, SourceBuild
from simulator.diagnose.actions import describe
from simulator.diagnose.diagnosis import Fix
from simulator.plan.lint import Lint
from simulator.report import github_actions
from simulator.report.console import WARNED_BY_PLAN

_SELECTED_BY = {
    "default": "Render's default for a new service",
    "PYTHON_VERSION": "from PYTHON_VERSION",
    ".python-version": "from .python-version",
}


def check_to_json(report: CheckReport) -> dict[str, Any]:
    """The JSON-ready form of a check report."""
    return report.to_dict()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


_LINT_MARKS = {"error": ("✗", "bold red"), "warning": ("!", "yellow"), "info": ("i", "cyan")}


def fix_block(number: int, fix: Fix, checked: str = "checked against the package index") -> Group:
    """A numbered fix: title, reasoning, and what its action changes."""
    title = Text(f"{number}. ", style="bold")
    title.append(fix.title, style="bold")
    if fix.checked:
        title.append(f"  ✓ {checked}", style="green")
    parts: list[Text | Padding] = [title, Padding(Text(fix.detail), (0, 0, 0, 3))]
    if fix.action is not None:
        parts.append(Padding(Text("→ " + describe(fix.action), style="cyan"), (0, 0, 0, 3)))
    return Group(*parts)


def lint_block(item: Lint) -> Group:
    """One lint finding: where, what it means, and the fix."""
    mark, style = _LINT_MARKS[item.severity]
    head = Text(f"{mark} ", style=style)
    head.append(f"{item.where}: ", style="bold")
    head.append(item.message)
    parts: list[Text | Padding] = [
        head,
        Padding(Text("fix: " + item.fix, style="cyan"), (0, 0, 0, 2)),
    ]
    if item.action is not None:
        parts.append(Padding(Text("→ " + describe(item.action), style="cyan"), (0, 0, 0, 2)))
    return Group(*parts)


def _source_build(build: SourceBuild, own_fixes: bool = True) -> Group:
    head = Text("• ", style="bold red")
    head.append(str(build), style="bold")
    if build.required_by:
        head.append("  required by " + ", ".join(build.required_by), style="dim")
    parts: list[Text | Padding] = [head, Padding(Text(build.why), (0, 0, 0, 2))]
    if not build.dependencies_known:
        parts.append(
            Padding(
                Text("its own dependencies could not be read: they were not checked", style="dim"),
                (0, 0, 0, 2),
            )
        )
    # The package's own fixes, when no fix for the whole service was found (offline, ...).
    for number, fix in enumerate(build.fixes if own_fixes else (), 1):
        parts.append(Padding(fix_block(number, fix), (0, 0, 0, 2)))
    return Group(*parts)


def _service(service: ServiceCheck, console: Console) -> None:
    head = Text(service.name, style="bold")
    head.append(f"  Python {service.python}", style="bold")
    head.append(f" ({_SELECTED_BY.get(service.python_source, service.python_source)})", style="dim")
    console.print(head)
    facts = Text("  build command: ", style="dim")
    facts.append(service.build_command)
    console.print(facts)
    read = ", ".join(service.inputs) or "nothing"
    console.print(
        Text(
            f"  read {read}; {_plural(service.packages, 'package')} checked for cp"
            f"{service.python.split('.')[0]}{service.python.split('.')[1]} manylinux x86_64 "
            f"(glibc 2.36) in {service.seconds:.1f} s",
            style="dim",
        )
    )
    console.print()
    if service.ok and not service.harmless_builds:
        console.print(
            Text("  ✓ nothing will be built from source: every package has a wheel", style="green")
        )
    elif service.ok:
        console.print(Text("  ✓ nothing will be compiled from source", style="green"))
    compiled, harmless = service.compiled_builds, service.harmless_builds
    if compiled:
        console.print(
            Text(
                f"  ✗ {_plural(len(compiled), 'package')} would be compiled from source on Render",
                style="bold red",
            )
        )
        for build in compiled:
            console.print(Padding(_source_build(build, not service.fixes), (0, 0, 0, 4)))
    if harmless:
        console.print(
            Text(
                f"  ✓ {_plural(len(harmless), 'pure-Python package')} built from source in "
                "seconds, nothing to compile (harmless): " + ", ".join(str(b) for b in harmless),
                style="green",
            )
        )
    for problem in service.problems:
        text = Text("  ✗ ", style="bold red")
        text.append(problem.message)
        console.print(text)
        if problem.hint:
            console.print(Padding(Text("fix: " + problem.hint, style="cyan"), (0, 0, 0, 4)))
    lints = [item for item in service.lints if item.code not in WARNED_BY_PLAN]
    if lints:
        console.print()
        console.print(Text("  Build command", style="bold"))
        for item in lints:
            console.print(Padding(lint_block(item), (0, 0, 0, 4)))
    if service.fixes:
        console.print()
        console.print(
            Text("  Fixes for the whole service (each resolved with pip first)", style="bold")
        )
        for number, fix in enumerate(service.fixes, 1):
            console.print(
                Padding(fix_block(number, fix, "checked with pip's resolver"), (0, 0, 0, 4))
            )
    for note in service.notes:
        console.print(Text("  note: " + note, style="dim"))
    for warning in service.warnings:
        console.print(Text("  ! " + warning, style="yellow"))


def print_planned(planned: FixPlan, console: Console) -> None:
    """The fix planner's whole-service fixes (for `explain --repo`), or why there are none."""
    console.print()
    if not planned.fixes:
        reason = "; ".join(planned.notes) or "every package already installs from a wheel"
        console.print(Text(f"Fixes for the whole service: none found ({reason})", style="dim"))
        return
    console.print(Text("Fixes for the whole service (each resolved with pip first)", style="bold"))
    for number, fix in enumerate(planned.fixes, 1):
        console.print(Padding(fix_block(number, fix, "checked with pip's resolver"), (0, 0, 0, 2)))


def print_check(report: CheckReport, console: Console) -> None:
    """Print the check: one block per service, then a one-line summary."""
    for number, service in enumerate(report.services):
        if number:
            console.print()
        _service(service, console)
    for warning in report.warnings:
        console.print(Text("! " + warning, style="yellow"))
    console.print()
    builds = sum(len(s.compiled_builds) for s in report.services)
    problems = sum(len(s.problems) for s in report.services)
    services = _plural(len(report.services), "service")
    if report.exit_code == 0:
        console.print(
            Text(f"✓ {services} checked: nothing will be compiled from source", style="bold green")
        )
        return
    parts = []
    if builds:
        parts.append(_plural(builds, "source build"))
    lint_errors = sum(1 for s in report.services for i in s.lints if i.severity == "error")
    if lint_errors:
        parts.append(_plural(lint_errors, "build-command error"))
    if problems:
        parts.append(_plural(problems, "install failure"))
    console.print(
        Text(f"✗ {services} checked: {' and '.join(parts)} predicted", style="bold red"),
    )


# -- GitHub Actions ---------------------------------------------------------------------------


def service_problems(service: Mapping[str, Any]) -> list[str]:
    """What fails a service's check, one line each (from its JSON form)."""
    lines = []
    compiled = [b for b in _list(service.get("source_builds")) if _compiled(b)]
    if compiled:
        names = ", ".join(f"{b.get('name')} {b.get('version') or ''}".strip() for b in compiled)
        lines.append(
            f"{_plural(len(compiled), 'package')} would be compiled from source on Render: {names}"
        )
    lines += [f"install fails: {p.get('message')}" for p in _list(service.get("problems"))]
    lines += [
        f"build command: {item.get('where')}: {item.get('message')}"
        for item in _list(service.get("lint"))
        if item.get("severity") == "error"
    ]
    return lines


def check_annotations(data: Mapping[str, Any], workspace: str | None = None) -> list[str]:
    """One `::error` per service whose check fails, on the first file it read (relative to
    `workspace` when inside it): what fails, then the first fix for the whole service."""
    lines = []
    repo = Path(str(data.get("repo") or "."))
    for service in _list(data.get("services")):
        problems = service_problems(service)
        if service.get("ok") is not False or not problems:
            continue
        fixes = _list(service.get("fixes"))
        if fixes:
            problems.append(f"Fix: {fixes[0].get('title')}")
        inputs = service.get("inputs") or []
        file = None
        if inputs:
            path = repo / str(inputs[0])
            base = Path(workspace) if workspace else repo
            file = path.relative_to(base).as_posix() if path.is_relative_to(base) else None
        title = f"{github_actions.TITLE_PREFIX} check: {service.get('name')}"
        lines.append(github_actions.error_annotation(title, "\n".join(problems), file=file))
    return lines


def check_summary_markdown(data: Mapping[str, Any]) -> str:
    """The job summary of a check: a row per service (Python, what fails, the top fix)."""
    services = _list(data.get("services"))
    ok = sum(1 for s in services if s.get("ok") is True)
    out = [
        "## render-sim check",
        "",
        f"{ok} of {len(services)} service(s) install without compiling anything "
        "(pip's resolver, wheels only, for the Python Render would use).",
        "",
        "| Service | Python | Result | What fails | Top fix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for service in services:
        python = service.get("python")
        python = python if isinstance(python, Mapping) else {}
        fixes = _list(service.get("fixes"))
        row = [
            str(service.get("name", "")),
            str(python.get("version", "")),
            "✅ ok" if service.get("ok") is True else "❌ fails",
            "; ".join(service_problems(service)),
            str(fixes[0].get("title", "")) if fixes else "",
        ]
        out.append(github_actions.table_row(row))
    return "\n".join(out) + "\n"


def publish_check(data: Mapping[str, Any], *, json_out: bool = False) -> None:
    """Under GitHub Actions: annotate the services that fail and add the job summary."""
    if not github_actions.active():
        return
    stream = sys.stderr if json_out else sys.stdout
    workspace = os.environ.get("GITHUB_WORKSPACE")
    for line in github_actions.capped(check_annotations(data, workspace)):
        print(line, file=stream, flush=True)
    github_actions.write_step_summary(check_summary_markdown(data))


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _compiled(build: Mapping[str, Any]) -> bool:
    sdist = build.get("sdist")
    return not (isinstance(sdist, Mapping) and sdist.get("contents") == "pure")

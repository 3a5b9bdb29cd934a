"""Show a `CheckReport`: for people with rich (per service: Python, source builds, fixes), or as
JSON data (`check_to_json`, the same keys as `CheckReport.to_dict`).

Every text from a file or an index is printed as plain `Text`, never as rich markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.text import Text

from simulator.check_results import CheckReport, ServiceCheck, SourceBuild
from simulator.diagnosis_view import fix_block

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


def _source_build(build: SourceBuild) -> Group:
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
    for number, fix in enumerate(build.fixes, 1):
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
    if service.ok:
        console.print(
            Text("  ✓ nothing will be built from source: every package has a wheel", style="green")
        )
    if service.source_builds:
        console.print(
            Text(
                f"  ✗ {_plural(len(service.source_builds), 'package')} would be built from "
                "source on Render",
                style="bold red",
            )
        )
        for build in service.source_builds:
            console.print(Padding(_source_build(build), (0, 0, 0, 4)))
    for problem in service.problems:
        text = Text("  ✗ ", style="bold red")
        text.append(problem.message)
        console.print(text)
        if problem.hint:
            console.print(Padding(Text("fix: " + problem.hint, style="cyan"), (0, 0, 0, 4)))
    for note in service.notes:
        console.print(Text("  note: " + note, style="dim"))
    for warning in service.warnings:
        console.print(Text("  ! " + warning, style="yellow"))


def print_check(report: CheckReport, console: Console) -> None:
    """Print the check: one block per service, then a one-line summary."""
    for number, service in enumerate(report.services):
        if number:
            console.print()
        _service(service, console)
    for warning in report.warnings:
        console.print(Text("! " + warning, style="yellow"))
    console.print()
    builds = sum(len(s.source_builds) for s in report.services)
    problems = sum(len(s.problems) for s in report.services)
    services = _plural(len(report.services), "service")
    if report.exit_code == 0:
        console.print(
            Text(f"✓ {services} checked: nothing will be built from source", style="bold green")
        )
        return
    parts = []
    if builds:
        parts.append(_plural(builds, "source build"))
    if problems:
        parts.append(_plural(problems, "install failure"))
    console.print(
        Text(f"✗ {services} checked: {' and '.join(parts)} predicted", style="bold red"),
    )

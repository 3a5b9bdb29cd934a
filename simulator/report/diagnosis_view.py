"""Show a `Diagnosis`: for people with rich (headline, facts, evidence, fixes), or as JSON data.

Log lines are printed as plain `Text`, never as rich markup, so `[brackets]` in a log stay as
they are.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from simulator.diagnose.actions import describe
from simulator.diagnose.diagnosis import (
    Diagnosis,
    Fix,
)

_PYTHON_SOURCE_LABELS = {
    "render-log": "Render's '==> Using Python version' line",
    "context": "the build plan",
    "maturin-interpreter": "maturin's --interpreter",
    "pyo3-message": "PyO3's version check",
    "interpreter-report": "the build tool's interpreter report",
    "cargo-cfg": "cargo's Py_3_x flags",
    "wheel-tag": "the cpXY tag of a downloaded wheel",
    "path": "an interpreter path",
}


def diagnosis_to_json(diagnosis: Diagnosis) -> dict[str, Any]:
    """The JSON-ready form of a diagnosis (the same keys as `Diagnosis.to_dict`)."""
    return diagnosis.to_dict()


def _python_text(diagnosis: Diagnosis) -> Text | None:
    python = diagnosis.python
    if python is None:
        return None
    where = _PYTHON_SOURCE_LABELS.get(python.source, python.source)
    if python.line:
        where += f", line {python.line}"
    text = Text(python.version, style="bold")
    detail = f" (from {where}"
    if python.selected_by:
        chosen = {"default": "Render's default"}.get(python.selected_by, python.selected_by)
        detail += f"; chosen by {chosen}"
    text.append(detail + ")", style="dim")
    return text


def fix_block(number: int, fix: Fix) -> Group:
    title = Text(f"{number}. ", style="bold")
    title.append(fix.title, style="bold")
    if fix.checked:
        title.append("  ✓ checked against the package index", style="green")
    parts: list[Text | Padding] = [title, Padding(Text(fix.detail), (0, 0, 0, 3))]
    if fix.action is not None:
        parts.append(Padding(Text("→ " + describe(fix.action), style="cyan"), (0, 0, 0, 3)))
    return Group(*parts)


def print_diagnosis(diagnosis: Diagnosis, console: Console) -> None:
    """Print a diagnosis: headline, class/root cause/package/Python, evidence, fixes, warnings."""
    failed = diagnosis.is_known or bool(diagnosis.evidence)
    mark, style = ("✗ ", "bold red") if failed else ("✓ ", "bold green")
    console.print(Text(mark + diagnosis.headline, style=style))
    console.print()

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    facts.add_row("class", Text(diagnosis.failure_class))
    facts.add_row("root cause", Text(diagnosis.root_cause))
    if diagnosis.package is not None:
        facts.add_row("package", Text(str(diagnosis.package), style="bold"))
    python = _python_text(diagnosis)
    if python is not None:
        facts.add_row("python", python)
    console.print(facts)
    console.print()
    console.print(Text(diagnosis.explanation))

    if diagnosis.evidence:
        console.print()
        console.print(Text("Evidence", style="bold"))
        lines = Table.grid(padding=(0, 1))
        lines.add_column(justify="right", style="dim", no_wrap=True)
        lines.add_column(style="dim", no_wrap=True)
        lines.add_column(overflow="fold")
        for item in diagnosis.evidence:
            lines.add_row(str(item.line), "│", Text(item.text))
        console.print(Padding(lines, (0, 0, 0, 2)))

    if diagnosis.fixes:
        console.print()
        console.print(Text("Fixes", style="bold"))
        for number, fix in enumerate(diagnosis.fixes, 1):
            console.print(Padding(fix_block(number, fix), (0, 0, 0, 2)))

    if diagnosis.warnings:
        console.print()
        for warning in diagnosis.warnings:
            console.print(Text("! " + warning, style="yellow"))

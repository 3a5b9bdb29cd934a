"""Show where a command's settings came from, and what `plan --strict` found.

Plain data in (`simulator.config.settings.Settings`, a list of findings), output out.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator.config.settings import DEFAULT, ENVIRONMENT, FILE, Setting, Settings


def _where(item: Setting) -> str:
    """`.render-sim.toml:3`, `environment: RENDER_SIM_MEMORY` or `command line`."""
    if item.source == FILE:
        return item.where or "file"
    if item.source == ENVIRONMENT:
        return f"environment: {item.where}"
    return "command line"


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if not isinstance(value, Path) else value.as_posix()


def print_settings(settings: Settings, console: Console) -> None:
    """The settings that are not defaults, each with where it came from (a file's line, a
    variable, the command line); nothing when every value is a default and no file is read."""
    chosen = [item for item in settings.items if item.source != DEFAULT]
    if not chosen and settings.file is None:
        return
    title = Text("Settings", style="bold")
    if settings.file is not None:
        title.append(f"  (file: {settings.file})", style="dim")
    console.print(title)
    if not chosen:
        console.print(Text("  every option has its default", style="dim"))
        return
    table = Table.grid(padding=(0, 2))
    for _ in range(3):
        table.add_column()
    for item in chosen:
        table.add_row(
            Text("  " + item.key, style="bold"),
            Text(_value_text(item.value)),
            Text(f"({_where(item)})", style="dim"),
        )
    console.print(table)


def print_strict(findings: list[str], console: Console) -> None:
    """`plan --strict`'s verdict: each finding that fails it, or that there is none."""
    if not findings:
        console.print(Text("✓ strict: no warning about the repo's configuration", style="green"))
        return
    console.print(
        Text(
            f"✗ strict: {len(findings)} warning(s) about the repo's configuration fail the plan",
            style="bold red",
        )
    )
    for finding in findings:
        console.print(Text("  • " + finding))

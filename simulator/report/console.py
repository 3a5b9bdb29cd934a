"""Reports for people (rich) and for programs (JSON): the plan card and the result card.

Every function here takes plain data (a BuildPlan, a BuildResult) and a console; none decides
anything. No colour when the stream is not a terminal (rich does that by itself).

The text printed comes partly from the repo and the build (a build command, log lines), so the
consoles made here never pass on what would act on the user's terminal: escape sequences that
move the cursor, clear the screen, set the window title or make hyperlinks are dropped (the
saved log keeps every byte), and `:x:` stays text (rich's emoji codes are off).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table

from simulator.build.simulation import BuildResult
from simulator.plan.models import BuildPlan, ServicePlan
from simulator.report import github_actions, schemas

#: Lint items the plan already prints as a warning (with the same fix).
WARNED_BY_PLAN = ("runtime-txt",)

OUTCOME_STYLE = {
    "succeeded": "bold green",
    "failed": "bold red",
    "out-of-memory": "bold red",
    "timeout": "bold red",
    "no-output": "bold red",
}


# Not a terminal (a CI log, a pipe, a file): rich would fold every table at 80 columns, a
# scenario table into slivers. CI log viewers are wide; `COLUMNS` still decides when set.
PIPE_WIDTH = 160


#: What acts on a terminal instead of showing (ECMA-48): escape sequences (CSI `ESC [`: cursor
#: moves, clearing, colours; OSC `ESC ]`: window title, hyperlinks, clipboard; DCS, SOS, PM,
#: APC strings; two-character escapes), their 8-bit forms (C1, U+0080-U+009F) and the other
#: control characters but tab. An unterminated string runs to the end of the text.
_TERMINAL_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])(?:[^\x07\x1b\x9c]*)(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def terminal_safe(text: str) -> str:
    """`text` without what a terminal would act on (see `_TERMINAL_CONTROL`); tabs kept."""
    return _TERMINAL_CONTROL.sub("", text)


class SafeConsole(Console):
    """A rich Console that drops terminal control sequences from the text it is given.

    Rich's own styling and cursor control are kept (they are segments of their own); only the
    text of what is printed is cleaned, whatever prints it (a log line, a table cell, a message).
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not _TERMINAL_CONTROL.search(segment.text):
                yield segment
            else:
                yield Segment(terminal_safe(segment.text), segment.style, segment.control)

    def on_broken_pipe(self) -> None:
        """The reader of the output went away: raise, so render-sim stops the build it may be
        running and exits with its own code (rich would exit 1, a build failure's code)."""
        raise BrokenPipeError


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = getattr(stream, "isatty", lambda: False)()
    width = None if terminal or os.environ.get("COLUMNS") else PIPE_WIDTH
    # emoji=False: a build line or a message with `:x:` or `:100:` is text, not an emoji
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=width, emoji=False)


def stdout_console() -> Console:
    return _console(stderr=False)


def stderr_console() -> Console:
    return _console(stderr=True)


def print_json(data: Any) -> None:
    """JSON on stdout, alone (progress and logs go to stderr in --json mode), in the versioned
    envelope: schema_version, render-sim's version and the command first (report.schemas)."""
    data = schemas.envelope(data, schemas.current_command())
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    # A path or log line with undecodable bytes must not crash the output: escape, never fail
    data_bytes = text.encode("utf-8", "backslashreplace")
    buffer = getattr(sys.stdout, "buffer", None)
    sys.stdout.flush()
    if buffer is None:
        sys.stdout.write(data_bytes.decode("utf-8"))
    else:
        buffer.write(data_bytes)
        buffer.flush()
    sys.stdout.flush()


def _size(n: int | None) -> str:
    if n is None:
        return "unknown"
    if n >= 1024**3:
        return f"{n / 1024**3:.2f} GB"
    return f"{n / 1024**2:.0f} MB"


def _limits(service: ServicePlan) -> str:
    limits = service.limits
    idle = (
        f", no-output watchdog {limits.idle_timeout_s / 60:g} min" if limits.idle_timeout_s else ""
    )
    return (
        f"{_size(limits.memory_bytes)}, {limits.cpus:g} CPUs, {limits.timeout_s / 60:g} min{idle}"
    )


def print_plan(plan: BuildPlan, console: Console, *, files_shown: int = 8) -> None:
    """The plan card: per service what will run, with which Python and why, and the differences."""
    for service in plan.services:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        python = f"{service.python.version}  [dim]({service.python.source}: {escape(service.python.requested)})[/]"
        if service.image_python and service.image_python != service.python.version:
            python += f"\n[yellow]runs {service.image_python} here (stand-in)[/]"
        table.add_row("Python", python)
        table.add_row("Render says", escape(service.python.log_line))
        table.add_row("Build command", escape(service.build_command))
        if service.root_dir:
            table.add_row("Root directory", escape(service.root_dir))
        table.add_row("Image", escape(service.base))
        table.add_row(
            "Poetry / uv",
            f"{service.poetry_version} / {service.uv_version or 'not installed (no uv.lock)'}",
        )
        table.add_row("Limits", _limits(service))
        env = service.masked_env()
        table.add_row(
            "Env vars",
            escape(", ".join(sorted(env)) or "none")
            + f"  [dim](+ {len(service.render_env)} set by Render)[/]",
        )
        shown = ", ".join(service.files[:files_shown])
        more = (
            f" … and {len(service.files) - files_shown} more"
            if len(service.files) > files_shown
            else ""
        )
        table.add_row("Files copied", f"{len(service.files)}: {escape(shown)}{more}")
        if plan.ca_cert:
            table.add_row("CA bundle", f"{plan.ca_cert} [dim](from {plan.ca_source})[/]")
        console.print(
            Panel(
                table, title=f"[bold]{escape(service.name)}[/] ({service.type})", title_align="left"
            )
        )
        for warning in service.warnings:
            console.print(f"[bold yellow]warning:[/] {escape(warning)}")
        shown_lints = [item for item in service.lints if item.code not in WARNED_BY_PLAN]
        if shown_lints:
            console.print("[bold]Build command:[/]")
            for item in shown_lints:
                mark = {"error": "[bold red]✗[/]", "warning": "[yellow]![/]"}.get(
                    item.severity, "[cyan]i[/]"
                )
                console.print(f"  {mark} {escape(item.where)}: {escape(item.message)}")
                console.print(f"    [cyan]fix: {escape(item.fix)}[/]")
        if service.differences:
            console.print("[bold]Differences from Render for this run:[/]")
            for difference in service.differences:
                console.print(f"  • {escape(difference)}")
    for skipped in plan.skipped:
        console.print(f"[dim]skipped {escape(skipped['name'])} ({escape(skipped['reason'])})[/]")
    for warning in plan.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")


def spinner(console: Console) -> Callable[[str], AbstractContextManager[Callable[[str], None]]]:
    """A spinner on `console` while the user waits (the build pipeline's `Spinner`): entered
    with a message, it yields a function that changes the message."""

    @contextlib.contextmanager
    def status(message: str) -> Iterator[Callable[[str], None]]:
        with console.status(message) as shown:
            yield lambda text: shown.update(text)

    return status


class LiveEcho:
    """A BuildLog echo: Render's `==>` lines in bold, render-sim's notes dim, output plain.

    Under GitHub Actions the build log is folded in a group and fenced with
    `::stop-commands::<random token>` ... `::<token>::`: a package's build output may print
    `::error`, `::add-mask`, `::set-output` or `::endgroup::` lines, and GitHub must show them as
    text, not obey them. The fence opens at the log's first line and closes at its end
    (`end_of_log`, called by BuildLog), so one echo serves the rebuilds of --verify-fix too.
    """

    def __init__(self, console: Console, workflow_commands: bool = False) -> None:
        self._console = console
        self._workflow_commands = workflow_commands
        self._resume: str | None = None  # the line that ends the fence, while it is open

    def __call__(self, kind: str, line: str) -> None:
        if self._workflow_commands and self._resume is None:
            stop, self._resume = github_actions.stop_commands()
            self._plain(github_actions.group_start("render-sim: build log"))
            self._plain(stop)
        if kind == "render":
            self._console.print(f"[bold cyan]{escape(line)}[/]")
        elif kind == "note":
            self._console.print(f"[dim]{escape(line)}[/]")
        else:  # the build's own text: no markup, no highlighting, wrapped by the terminal
            self._plain(line)

    def end_of_log(self) -> None:
        """The build log ended: GitHub obeys workflow commands again, and the fold closes."""
        if self._resume is not None:
            self._plain(self._resume)
            self._plain(github_actions.group_end())
            self._resume = None

    def _plain(self, line: str) -> None:
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)


def make_echo(console: Console) -> LiveEcho:
    """The echo of a build log on `console` (fenced under GitHub Actions, see LiveEcho)."""
    return LiveEcho(console, github_actions.active())


def print_result(result: BuildResult, console: Console) -> None:
    """The result card: outcome, duration, peak memory, log path and the last error lines."""
    style = OUTCOME_STYLE.get(result.outcome, "bold")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Outcome", f"[{style}]{result.outcome}[/]")
    if result.event:
        table.add_row("Render would say", escape(result.event))
    table.add_row("Duration", f"{result.duration_s:.1f} s")
    table.add_row("Peak memory", _size(result.peak_memory_bytes))
    python = (
        result.python
        if result.python == result.image_python or not result.image_python
        else f"{result.python} on Render, {result.image_python} here"
    )
    table.add_row("Python", python)
    table.add_row("Log", str(result.log_path))
    console.print(
        Panel(table, title=f"[bold]{escape(result.service)}[/]: result", title_align="left")
    )
    if result.last_error_lines:
        console.print("[bold]Last error lines:[/]")
        for line in result.last_error_lines:
            console.print(f"  [red]{escape(line)}[/]")

"""Output for a pipe or CI log: wide enough that tables are not folded into slivers."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from simulator.build.buildlog import BuildLog
from simulator.report import console as report


def test_a_pipe_gets_the_wide_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert report.stdout_console().width == report.PIPE_WIDTH
    assert report.stderr_console().width == report.PIPE_WIDTH


def test_columns_decides_the_width_of_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert report.stdout_console().width == 72


def test_a_wide_table_in_a_pipe_keeps_its_cells_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    console = report.stdout_console()
    table = Table()
    for column in ("name", "expected", "got", "class / package"):
        table.add_column(column, overflow="fold")
    cell = "failed/no-matching-distribution"
    table.add_row("requires-python-excludes", cell, cell, "no-matching-distribution / scipy 1.9.1")
    console.print(table)
    assert out.getvalue().count(cell) == 2, out.getvalue()


# -- what the build prints never acts on the user's terminal ------------------------------------

HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]0;pwned title\x07"  # window title (OSC 0)
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # a hyperlink (OSC 8)
    "\x1b[5A\x1b[1;1f"  # cursor up, cursor to 1;1
    "\x9b2J"  # the 8-bit CSI
    "done\tok"
)


class Terminal(io.StringIO):
    """An interactive terminal, as rich sees one."""

    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """Make stdout a colour terminal (inside the test: pytest swaps stdout between phases)."""
    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    return out


def test_terminal_safe_keeps_text_and_tabs_and_drops_every_control_sequence() -> None:
    assert report.terminal_safe(HOSTILE) == "clickdone\tok"


def test_build_output_never_moves_the_cursor_or_clears_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = on_terminal(monkeypatch)
    report.make_echo(report.stdout_console())("output", HOSTILE)
    shown = terminal.getvalue()
    assert "clickdone" in shown and shown.rstrip().endswith("ok")  # rich expands the tab
    for sequence in ("\x1b[2J", "\x1b[H", "\x1b[5A", "\x1b[1;1f", "\x9b"):
        assert sequence not in shown, repr(shown)


def test_build_output_never_sets_the_title_or_makes_a_hyperlink(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = on_terminal(monkeypatch)
    report.make_echo(report.stdout_console())("output", HOSTILE)
    shown = terminal.getvalue()
    assert "\x1b]" not in shown and "pwned title" not in shown, repr(shown)
    assert "click" in shown


def test_a_message_built_from_the_repo_is_cleaned_too(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = on_terminal(monkeypatch)
    report.stdout_console().print(f"[bold]Build command:[/] {HOSTILE}")
    shown = terminal.getvalue()
    assert "\x1b[1m" in shown  # render-sim's own style still reaches the terminal
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown, repr(shown)


def test_saved_log_keeps_the_bytes_the_terminal_does_not_show(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    terminal = on_terminal(monkeypatch)
    with BuildLog(tmp_path / "b.log", echo=report.make_echo(report.stdout_console())) as log:
        log.output(HOSTILE)
    assert (tmp_path / "b.log").read_text(encoding="utf-8") == HOSTILE + "\n"
    assert "\x1b[2J" not in terminal.getvalue()


@pytest.mark.parametrize("code", [":x:", ":100:", ":white_check_mark:"])
def test_emoji_codes_in_build_output_stay_text(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    terminal = on_terminal(monkeypatch)
    report.make_echo(report.stdout_console())("output", f"test failed {code} retrying")
    report.stdout_console().print(f"warning: {code}")
    shown = terminal.getvalue()
    assert f"test failed {code} retrying" in shown and f"warning: {code}" in shown
    assert "❌" not in shown and "💯" not in shown and "✅" not in shown


# -- GitHub Actions: the build log is fenced and folded -----------------------------------------


def echo_lines(workflow_commands: bool, *logs: list[str]) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=200, emoji=False, highlight=False)
    echo = report.LiveEcho(console, workflow_commands)
    for log in logs:
        for line in log:
            echo("output", line)
        echo.end_of_log()
    return out.getvalue().splitlines()


INJECTED = ["::error::injected by a package", "::add-mask::x", "::endgroup::"]


def test_under_github_actions_the_build_log_is_fenced_with_stop_commands() -> None:
    lines = echo_lines(True, INJECTED)
    assert lines[0] == "::group::render-sim: build log"
    stop = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[1])
    assert stop, lines
    assert lines[2:5] == INJECTED
    assert lines[5:] == [f"::{stop[1]}::", "::endgroup::"]


def test_each_build_log_gets_its_own_fence_token() -> None:
    lines = echo_lines(True, ["first"], ["second"])
    tokens = [line.split("::")[2] for line in lines if line.startswith("::stop-commands::")]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert lines.count("::endgroup::") == 2


def test_outside_github_actions_the_build_log_is_not_fenced() -> None:
    assert echo_lines(False, INJECTED) == INJECTED


def test_make_echo_fences_only_under_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(file=io.StringIO())
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert report.make_echo(console)._workflow_commands is True
    monkeypatch.setenv("GITHUB_ACTIONS", "")
    assert report.make_echo(console)._workflow_commands is False

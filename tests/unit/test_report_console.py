"""Output for a pipe or CI log: wide enough that tables are not folded into slivers."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

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

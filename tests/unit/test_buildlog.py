"""The build log: masking and where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.buildlog import MASK, BuildLog, Masker, log_path_for


def test_secret_is_masked_everywhere_it_appears(tmp_path: Path) -> None:
    seen: list[str] = []
    with BuildLog(tmp_path / "b.log", ["hunter22"], lambda _k, line: seen.append(line)) as log:
        log.output("token=hunter22 and again hunter22")
        log.render("==> Running build command 'echo hunter22'...")
    saved = (tmp_path / "b.log").read_text()
    assert "hunter22" not in saved
    assert "hunter22" not in "".join(seen)
    assert "hunter22" not in log.text()
    assert saved.count(MASK) == 3


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one() -> None:
    assert Masker(["abc", "abcdef"])("x abcdef y") == f"x {MASK} y"


def test_too_short_values_are_not_masked() -> None:
    assert Masker(["1"])("version 1.0") == "version 1.0"


def test_notes_are_marked_as_render_sims(tmp_path: Path) -> None:
    with BuildLog(tmp_path / "b.log") as log:
        log.note("copying 3 files")
    assert (tmp_path / "b.log").read_text() == "[render-sim] copying 3 files\n"


def test_log_path_is_under_render_sim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path))
    path = log_path_for("owner/repo", "web api")
    assert path.parent == tmp_path / "logs"
    assert "/" not in path.name and " " not in path.name

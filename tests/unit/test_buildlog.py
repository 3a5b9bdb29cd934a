"""The build log: masking and where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.build.buildlog import MASK, BuildLog, EchoThrottle, Masker, log_path_for


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


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fast_output_is_thinned_live_and_its_last_lines_shown(tmp_path: Path) -> None:
    clock = FakeClock()
    shown: list[tuple[str, str]] = []
    throttle = EchoThrottle(
        lambda kind, line: shown.append((kind, line)), rate=40, tail=3, clock=clock
    )
    for number in range(100):  # all within one window of 0.25 s: 10 lines may pass
        throttle("output", f"line {number}")
    throttle.flush()
    outputs = [line for kind, line in shown if kind == "output"]
    assert outputs == [f"line {n}" for n in range(10)] + ["line 97", "line 98", "line 99"]
    notes = [line for kind, line in shown if kind == "note"]
    assert notes == [
        "[render-sim] 87 line(s) printed too fast to show here; the saved log has every line"
    ]


def test_output_at_a_readable_pace_is_all_echoed() -> None:
    clock = FakeClock()
    shown: list[str] = []
    throttle = EchoThrottle(lambda _kind, line: shown.append(line), rate=40, clock=clock)
    for number in range(100):
        clock.now += 0.05  # 20 lines a second, under the rate
        throttle("output", f"line {number}")
    throttle.flush()
    assert shown == [f"line {n}" for n in range(100)]


def test_render_lines_and_notes_are_never_thinned() -> None:
    clock = FakeClock()
    shown: list[tuple[str, str]] = []
    throttle = EchoThrottle(lambda kind, line: shown.append((kind, line)), rate=4, clock=clock)
    for number in range(10):
        throttle("output", f"line {number}")
    throttle("render", "==> Build failed 😞")
    assert shown[-1] == ("render", "==> Build failed 😞")
    assert ("output", "line 9") in shown  # the tail came first, before Render's line


def test_every_line_is_recorded_whatever_the_echo_shows(tmp_path: Path) -> None:
    shown: list[str] = []
    with BuildLog(tmp_path / "b.log", echo=lambda _kind, line: shown.append(line)) as log:
        for number in range(50_000):
            log.output(f"line {number}")
    saved = (tmp_path / "b.log").read_text().splitlines()
    assert saved == [f"line {n}" for n in range(50_000)]
    assert log.lines == saved
    assert shown[-1] == "line 49999"

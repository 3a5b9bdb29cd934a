"""The phases of a simulation on one clock. No Docker."""

from __future__ import annotations

import pytest

from simulator.build.timeline import Phase, Timeline


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_beginning_a_phase_ends_the_open_one() -> None:
    clock = FakeClock()
    timeline = Timeline(clock)
    clock.now = 101.0
    timeline.begin("copy")
    clock.now = 103.5
    timeline.begin("venv")
    clock.now = 104.0
    timeline.end()
    assert timeline.phases == [Phase("copy", 1.0, 3.5), Phase("venv", 3.5, 4.0)]


def test_a_phase_ends_when_its_block_raises() -> None:
    clock = FakeClock()
    timeline = Timeline(clock)
    with pytest.raises(RuntimeError), timeline.phase("diagnosis"):
        clock.now = 102.0
        raise RuntimeError("boom")
    assert timeline.phases == [Phase("diagnosis", 0.0, 2.0)]


def test_phases_are_given_with_their_durations_in_json() -> None:
    clock = FakeClock()
    timeline = Timeline(clock)
    with timeline.phase("image"):
        clock.now = 100.25
    assert timeline.to_dict() == [{"name": "image", "start_s": 0.0, "duration_s": 0.25}]

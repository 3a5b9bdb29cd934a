"""The disk watch: measures the build's writable space until it passes the limit."""

from __future__ import annotations

import pytest

from simulator.build import sandbox
from simulator.build.sandbox import DiskWatch, disk_event


def test_disk_watch_flags_the_first_measure_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = iter([10, 50, 101, 500])
    seen: list[int] = []

    def measure() -> int:
        seen.append(next(sizes))
        return seen[-1]

    monkeypatch.setattr(sandbox, "MIN_MEASURE_S", 0.0)  # measure again at once: no clock needed
    watch = DiskWatch(measure, limit=100, name="test-disk-watch")
    watch.start()
    watch.join(10)
    assert (watch.over, watch.used, seen) == (True, 101, [10, 50, 101])


def test_disk_watch_that_cannot_measure_never_flags() -> None:
    watch = DiskWatch(lambda: None, limit=100, name="test-disk-watch")
    watch.start()
    watch.stop()
    watch.join(10)
    assert (watch.over, watch.used) == (False, None)


def test_disk_event_names_the_limit_and_what_was_measured() -> None:
    event = disk_event(16 * 1024**3, 17 * 1024**3)
    assert event.startswith("Disk space usage exceeded 16 GB while building your code")
    assert "17 GB measured" in event

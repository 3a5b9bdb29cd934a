"""When each phase of a simulation ran: the image, the container, the copy, the venv, the build
command, the diagnosis. The HTML report draws them on one time line, under the memory curve.

Times are seconds since the simulation started (a monotonic clock, so a clock change mid-build
does not bend the line); `started_at` is the wall-clock moment of that start, for people.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Phase:
    """One phase: its name and when it started and ended (seconds since the simulation began)."""

    name: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_s": round(self.start_s, 3),
            "duration_s": round(self.duration_s, 3),
        }


class Timeline:
    """The phases of one simulation, in the order they ran.

    `begin(name)` ends the phase that is open and opens `name`; `end()` closes the open one;
    `phase(name)` is both around a block. Every other part of render-sim reads its times from
    `now()`, so the memory samples and the phases share one origin.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._origin = clock()
        self.started_at = datetime.now(timezone.utc)
        self.phases: list[Phase] = []
        self._open: tuple[str, float] | None = None

    def now(self) -> float:
        """Seconds since the simulation started."""
        return self._clock() - self._origin

    def begin(self, name: str) -> None:
        """Start phase `name` now (the open phase, if any, ends here)."""
        self.end()
        self._open = (name, self.now())

    def end(self) -> None:
        """End the open phase now (nothing happens when none is open)."""
        if self._open is not None:
            name, start = self._open
            self.phases.append(Phase(name, start, max(start, self.now())))
            self._open = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """The block is phase `name` (ended however the block ends)."""
        self.begin(name)
        try:
            yield
        finally:
            self.end()

    def to_dict(self) -> list[dict[str, Any]]:
        return [phase.to_dict() for phase in self.phases]

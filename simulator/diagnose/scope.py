"""The lines a diagnosis may read: the failing event's, and Render's closing lines.

A `Scope` is a few byte ranges of a `ScannedLog`. The rules, the culprit steps and the evidence
all look inside it, so a line that merely mentions a package (or a recovered error) elsewhere in
the log never decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from simulator.diagnose.scan import MAX_HITS_KEPT, Hit, Matcher, ScannedLog


def _merged(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


@dataclass(frozen=True)
class Scope:
    """Byte ranges of a log (merged, in order)."""

    log: ScannedLog
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, log: ScannedLog, ranges: Iterable[tuple[int, int]]) -> Scope:
        return cls(log, _merged(ranges))

    @property
    def start(self) -> int:
        return self.ranges[0][0] if self.ranges else 0

    @property
    def end(self) -> int:
        return self.ranges[-1][1] if self.ranges else 0

    def hits(self, matcher: Matcher, keep: int = MAX_HITS_KEPT) -> list[Hit]:
        """Matching lines in every range, in order (the first `keep` of each, and its last)."""
        found: list[Hit] = []
        for start, end in self.ranges:
            found += self.log.hits(matcher, keep, start, end)
        return found

    def contains(self, needle: str) -> bool:
        return any(self.log.contains(needle, start, end) for start, end in self.ranges)

    def lines(self) -> Iterator[tuple[int, str]]:
        for start, end in self.ranges:
            yield from self.log.lines(start, end)

    def covers(self, offset: int) -> bool:
        return any(start <= offset < end for start, end in self.ranges)

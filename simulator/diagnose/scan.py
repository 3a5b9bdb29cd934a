"""Finding lines in a normalised log: `Matcher`s and the `ScannedLog` they run over.

Every pattern render-sim looks for is a `Matcher`: a regex plus literal "needles", one of which
any match contains (`required_literal` finds that literal in a hand-written pattern). A
`ScannedLog` finds the lines holding a needle with `bytes.find` over the log (or over one range
of it, an event's lines) and runs the regex on those lines only, decoded one at a time: the scan
stays linear in the input and cheap on logs of tens of megabytes.

Offsets are byte offsets into the normalised log (`simulator.diagnose.text`); line numbers are
those of the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from simulator.diagnose.text import LogText, normalise

MAX_HITS_KEPT = 50  # per pattern: the first hits, plus the very last one


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern and the literals (needles) one of which every match contains."""

    regex: re.Pattern[str]
    needles: tuple[str, ...]
    ignore_case: bool = False
    encoded: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoded", tuple(n.encode("utf-8") for n in self.needles))


def required_literal(pattern: str) -> str | None:
    """The longest literal run every match of `pattern` must contain, or None.

    Only the top level counts (groups may be optional or alternatives); a top-level `|` means
    no single literal is mandatory. Good enough to find the needle of a hand-written pattern.
    """
    best = ""
    run: list[str] = []
    depth = 0
    i = 0

    def close_run() -> None:
        nonlocal best, run
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []

    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1 : i + 2]
            i += 2
            if depth:
                continue
            if nxt and not nxt.isalnum():
                literal = nxt
            else:
                close_run()
                continue
        elif char == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            if not depth:
                close_run()
            continue
        elif char == "(":
            depth += 1
            i += 1
            if depth == 1:
                close_run()
            continue
        elif char == ")":
            depth = max(depth - 1, 0)
            i += 1
            continue
        elif char == "|":
            if not depth:
                return None
            i += 1
            continue
        elif char in ".^$":
            i += 1
            if not depth:
                close_run()
            continue
        elif char in "?*{":
            i += 1
            if not depth:
                if run:
                    run.pop()  # the character before an optional quantifier is not mandatory
                close_run()
            if char == "{":
                while i < len(pattern) and pattern[i - 1] != "}":
                    i += 1
            continue
        elif char == "+":
            i += 1
            if not depth:
                close_run()
            continue
        else:
            literal = char
            i += 1
        if not depth:
            run.append(literal)
    close_run()
    return best or None


def fixed_matcher(pattern: str, needles: Sequence[str] | None = None) -> Matcher:
    """A matcher for render-sim's own fixed patterns (checked like catalogue patterns)."""
    regex = re.compile(pattern)
    if needles is None:
        literal = required_literal(pattern)
        assert literal and len(literal) >= 4, pattern
        needles = [literal]
    return Matcher(regex, tuple(needles))


@dataclass(frozen=True)
class Hit:
    """A matched line: where it starts in the normalised log, its text, and the match."""

    start: int
    text: str
    match: re.Match[str]


def decode(line: bytes) -> str:
    return line.decode("utf-8", "replace")


class ScannedLog:
    """The normalised log and the primitives the diagnosis needs on it."""

    def __init__(self, raw: str | bytes | LogText) -> None:
        self.source = raw if isinstance(raw, LogText) else normalise(raw)
        self.data = self.source.data
        self._hits: dict[tuple[int, int, int, int], list[Hit]] = {}

    @cached_property
    def lowered(self) -> bytes:
        return self.data.lower()

    @cached_property
    def text(self) -> str:
        """The whole normalised log as text (decoded once, when something needs all of it)."""
        return self.source.text()

    def __len__(self) -> int:
        return len(self.data)

    def contains(self, needle: str, start: int = 0, end: int | None = None) -> bool:
        return (
            self.data.find(needle.encode("utf-8"), start, len(self.data) if end is None else end)
            != -1
        )

    def line_end(self, start: int) -> int:
        end = self.data.find(b"\n", start)
        return len(self.data) if end == -1 else end

    def line_start(self, offset: int) -> int:
        return self.data.rfind(b"\n", 0, offset) + 1

    def line_at(self, start: int) -> tuple[int, str]:
        """(offset, text) of the line holding offset `start`."""
        begin = self.line_start(start) if start else 0
        return begin, decode(self.data[begin : self.line_end(begin)])

    def hits(
        self, matcher: Matcher, keep: int = MAX_HITS_KEPT, start: int = 0, end: int | None = None
    ) -> list[Hit]:
        """Lines in [start, end) matching `matcher`, in order: the first `keep` plus the last."""
        stop = len(self.data) if end is None else min(end, len(self.data))
        key = (id(matcher), keep, start, stop)
        if key not in self._hits:
            self._hits[key] = list(self._scan(matcher, keep, start, stop))
        return self._hits[key]

    def _scan(self, matcher: Matcher, keep: int, begin: int, stop: int) -> Iterator[Hit]:
        haystack = self.lowered if matcher.ignore_case else self.data
        data = self.data
        found: dict[int, Hit] = {}
        last: Hit | None = None
        for needle in matcher.encoded:
            position = haystack.find(needle, begin, stop)
            while position != -1:
                start = data.rfind(b"\n", 0, position) + 1
                end = data.find(b"\n", position)
                if end == -1:
                    end = len(data)
                if start not in found and start >= begin:
                    line = decode(data[start:end])
                    match = matcher.regex.search(line)
                    if match is None:
                        start, line, match = self._wrapped(matcher, start, end, begin, stop)
                    if match:
                        hit = Hit(start, line, match)
                        if len(found) < keep:
                            found[start] = hit
                        if last is None or start > last.start:
                            last = hit
                position = haystack.find(needle, end, stop)
        if last is not None:
            found.setdefault(last.start, last)
        yield from sorted(found.values(), key=lambda hit: hit.start)

    def _wrapped(
        self, matcher: Matcher, start: int, end: int, begin: int, stop: int
    ) -> tuple[int, str, re.Match[str] | None]:
        """A message a tool wrapped at the terminal width (uv wraps at 80 columns): the line
        joined with the one before it and the one after, matched as one."""
        data = self.data
        before = data.rfind(b"\n", 0, max(start - 1, 0)) + 1 if start > begin else start
        after = data.find(b"\n", end + 1) if end + 1 < stop else -1
        after = min(stop, len(data)) if after == -1 or after > stop else after
        parts = [decode(data[before:start]).rstrip("\n"), decode(data[start:end])]
        if end + 1 < after:
            parts.append(decode(data[end + 1 : after]))
        if before == start:
            parts = parts[1:]
        joined = " ".join([parts[0].rstrip()] + [p.strip() for p in parts[1:]])
        match = matcher.regex.search(joined)
        return (before if match else start), joined, match

    def last_hit_before(self, matcher: Matcher, anchor: int, floor: int = 0) -> Hit | None:
        """The last line in [floor, anchor) that matches, searching backwards."""
        haystack = self.lowered if matcher.ignore_case else self.data
        best: Hit | None = None
        for needle in matcher.encoded:
            limit = anchor
            while True:
                position = haystack.rfind(needle, floor, limit)
                if position == -1 or (best is not None and position < best.start):
                    break
                start = self.line_start(position)
                line = decode(self.data[start : self.line_end(position)])
                match = matcher.regex.search(line)
                if match:
                    if best is None or start > best.start:
                        best = Hit(start, line, match)
                    break
                limit = start
                if limit <= floor:
                    break
        return best

    def line_number(self, offset: int) -> int:
        """The 1-based line number of the input that holds `offset`."""
        return self.source.physical_line(self.data.count(b"\n", 0, offset))

    def line_numbers(self, offsets: Iterable[int]) -> dict[int, int]:
        """1-based line numbers of offsets, counting newlines once over the log."""
        numbers: dict[int, int] = {}
        logical, previous = 0, 0
        for offset in sorted(set(offsets)):
            logical += self.data.count(b"\n", previous, offset)
            numbers[offset] = self.source.physical_line(logical)
            previous = offset
        return numbers

    def lines(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
        """(offset, text) of each line starting in [start, end)."""
        stop = len(self.data) if end is None else min(end, len(self.data))
        position = start
        while position < stop:
            line_end = self.line_end(position)
            yield position, decode(self.data[position:line_end])
            position = line_end + 1

    def lines_after(self, start: int, limit: int = 8) -> list[tuple[int, str]]:
        """Up to `limit` (offset, text) lines after the line starting at `start`."""
        out: list[tuple[int, str]] = []
        position = self.line_end(start) + 1
        while position <= len(self.data) and len(out) < limit:
            if position == len(self.data):
                break
            end = self.line_end(position)
            out.append((position, decode(self.data[position:end])))
            position = end + 1
        return out

    def is_near_end(self, start: int, max_lines: int = 3, end: int | None = None) -> bool:
        """True when at most `max_lines` meaningful lines follow the line at `start` (up to
        `end`). Render's own closing lines (`==>`), render-sim's notes and blank lines do not
        count."""
        stop = len(self.data) if end is None else end
        tail_start = self.line_end(start) + 1
        if tail_start >= stop:
            return True
        if stop - tail_start > 20_000:
            return False
        meaningful = [
            line
            for line in decode(self.data[tail_start:stop]).split("\n")
            if line.strip() and not line.startswith(("==>", "[render-sim]"))
        ]
        return len(meaningful) <= max_lines


def pick_near(hits: Sequence[Hit], anchor: int | None) -> Hit:
    """The last hit at or before `anchor`, else the first one."""
    if anchor is not None:
        before = [hit for hit in hits if hit.start <= anchor]
        if before:
            return before[-1]
    return hits[0]

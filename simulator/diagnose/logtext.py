"""The text of a build log, made uniform, and how patterns find their lines in it.

Pasted logs carry noise that differs between where they were copied from: ANSI colours, CRLF
line ends, RFC 3339 timestamps, Render dashboard dates and BuildKit prefixes (`#12 2.185`,
`5.628`). `normalise` strips all of it once and keeps the line count, so line numbers stay those
of the input.

Every pattern render-sim looks for is a `Matcher`: a regex plus literal "needles", one of which
any match contains (`required_literal` finds that literal in a hand-written pattern). A
`ScannedLog` finds the lines holding a needle with `str.find` over the whole text and runs the
regex on those lines only, so scanning stays linear in the input: 50 MB logs take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

MAX_HITS_KEPT = 50  # per pattern: the first hits, plus the very last one

# Escape sequences (ECMA-48): CSI (colours, cursor moves), OSC (titles, links; never across a
# line end, so the line count stays), then any other ESC with its intermediate and final bytes
# (`ESC c` resets the terminal, `ESC ( 0` switches to line drawing), then a lone ESC. A pasted log
# shown as evidence must not drive the reader's terminal.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~]|)")
# Line prefixes added by log exporters, stripped once: RFC 3339 timestamps (Render's log stream,
# GitHub Actions), Render dashboard dates ("Apr 18 05:56:26 PM"), BuildKit ("#12 2.185", "#8")
# and docker's plain progress ("5.628").
_TIMESTAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_DASHBOARD_DATE = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d{1,2}:\d\d:\d\d(?: ?[AP]M)?"
_BUILDKIT = r"#\d+ (?:\d+\.\d+(?: |$))?|\d+\.\d+(?: |$)"
# Never matches the empty string, so lines without a prefix cost one failed attempt.
_PREFIX = re.compile(
    rf"(?m)^(?:(?:\ufeff|{_TIMESTAMP}[ \t]+|{_DASHBOARD_DATE}[ \t]+)+(?:{_BUILDKIT})?|{_BUILDKIT})"
)


def normalise(text: str) -> str:
    """The log with colours and line prefixes removed; same number of lines as the input."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\n" not in text:
            text = text.replace("\r", "\n")  # classic Mac line ends
    return _PREFIX.sub("", text)


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern and the literals (needles) one of which every match contains."""

    regex: re.Pattern[str]
    needles: tuple[str, ...]
    ignore_case: bool = False


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
    """A matched line: where it starts in the normalised text, its text, and the match."""

    start: int
    text: str
    match: re.Match[str]


class ScannedLog:
    """The normalised log and the primitives the diagnosis needs on it."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        self._hits: dict[tuple[int, int], list[Hit]] = {}

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()

    def hits(self, matcher: Matcher, keep: int = MAX_HITS_KEPT) -> list[Hit]:
        """Lines matching `matcher`, in order: the first `keep` plus the last one."""
        key = (id(matcher), keep)
        if key not in self._hits:
            self._hits[key] = list(self._scan(matcher, keep))
        return self._hits[key]

    def _scan(self, matcher: Matcher, keep: int) -> Iterator[Hit]:
        haystack = self.lowered if matcher.ignore_case else self.text
        text = self.text
        found: dict[int, Hit] = {}
        last: Hit | None = None
        for needle in matcher.needles:
            position = haystack.find(needle)
            while position != -1:
                start = haystack.rfind("\n", 0, position) + 1
                end = haystack.find("\n", position)
                if end == -1:
                    end = len(haystack)
                if start not in found:
                    line = text[start:end]
                    match = matcher.regex.search(line)
                    if match:
                        hit = Hit(start, line, match)
                        if len(found) < keep:
                            found[start] = hit
                        if last is None or start > last.start:
                            last = hit
                position = haystack.find(needle, end)
        if last is not None:
            found.setdefault(last.start, last)
        yield from sorted(found.values(), key=lambda hit: hit.start)

    def last_hit_before(self, matcher: Matcher, anchor: int) -> Hit | None:
        """The last line before offset `anchor` that matches, searching backwards."""
        haystack = self.lowered if matcher.ignore_case else self.text
        best: Hit | None = None
        for needle in matcher.needles:
            limit = anchor
            while True:
                position = haystack.rfind(needle, 0, limit)
                if position == -1 or (best is not None and position < best.start):
                    break
                start = haystack.rfind("\n", 0, position) + 1
                end = haystack.find("\n", position)
                line = self.text[start : end if end != -1 else len(self.text)]
                match = matcher.regex.search(line)
                if match:
                    if best is None or start > best.start:
                        best = Hit(start, line, match)
                    break
                limit = start
        return best

    def line_numbers(self, offsets: Iterable[int]) -> dict[int, int]:
        """1-based line numbers of offsets, counting newlines once over the text."""
        numbers: dict[int, int] = {}
        line, previous = 1, 0
        for offset in sorted(set(offsets)):
            line += self.text.count("\n", previous, offset)
            numbers[offset] = line
            previous = offset
        return numbers

    def lines_after(self, start: int, limit: int = 8) -> list[tuple[int, str]]:
        """Up to `limit` (offset, text) lines after the line starting at `start`."""
        out: list[tuple[int, str]] = []
        position = self.text.find("\n", start)
        while position != -1 and len(out) < limit:
            end = self.text.find("\n", position + 1)
            if end == -1:
                end = len(self.text)
            out.append((position + 1, self.text[position + 1 : end]))
            position = end if end < len(self.text) else -1
        return out

    def is_near_end(self, start: int, max_lines: int = 3) -> bool:
        """True when at most `max_lines` meaningful lines follow the line at `start`.

        Render's own closing lines (`==> Build failed`, troubleshooting links) and blank lines
        do not count.
        """
        end = self.text.find("\n", start)
        if end == -1:
            return True
        tail = self.text[end + 1 :]
        if len(tail) > 20_000:
            return False
        meaningful = [
            line for line in tail.split("\n") if line.strip() and not line.startswith("==>")
        ]
        return len(meaningful) <= max_lines


def pick_near(hits: Sequence[Hit], anchor: int | None) -> Hit:
    """The last hit at or before `anchor`, else the first one."""
    if anchor is not None:
        before = [hit for hit in hits if hit.start <= anchor]
        if before:
            return before[-1]
    return hits[0]

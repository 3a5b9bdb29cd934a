"""The build log: Render's own `==>` lines, the build's output, and render-sim's notes.

Every line is masked (secret values from `--env-file`, `sync: false` and `generateValue`
replaced), written to a log file outside the user's repo, kept for the diagnosis, and echoed
live. Render's lines are kept verbatim so the log reads like the one in Render's dashboard;
render-sim's own notes are marked `[render-sim]` so they are never mistaken for Render's.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from simulator import locations

MASK = "••••••"
NOTE_PREFIX = "[render-sim] "
MIN_SECRET_LENGTH = 3  # shorter values would mask ordinary text; they are reported instead

# kind is "render" (a `==>` line), "note" (render-sim's own) or "output" (the build's)
Echo = Callable[[str, str], None]


def _no_echo(_kind: str, _line: str) -> None:
    """Echo nothing (the default)."""


def mask_values(secrets: Iterable[str]) -> set[str]:
    """The strings to mask for `secrets`: each value, and each line of a multi-line value.

    The log is masked line by line, so a multi-line value (a PEM key, a JSON credential file)
    printed back would never match whole: each of its lines is masked on its own, as GitHub
    Actions does. Pieces shorter than MIN_SECRET_LENGTH are left out (they would mask ordinary
    text).
    """
    values: set[str] = set()
    for secret in secrets:
        values.add(secret)
        lines = secret.splitlines()
        if len(lines) > 1:
            values.update(line.strip() for line in lines)
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


class Masker:
    """Replaces secret values in text; longest first so a secret inside another is masked whole."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted(mask_values(secrets), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text


def log_path_for(slug: str, service: str, when: datetime | None = None) -> Path:
    """Where a simulation's log goes: render-sim's logs directory, never the repo."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{slug}-{service}")
    return locations.subdir("logs") / f"{safe}-{stamp}.log"


def report_path_for(log_path: Path) -> Path:
    """Where a simulation's HTML report goes: beside its saved log, with the same name."""
    return log_path.with_suffix(".html")


def _create(path: Path) -> tuple[Path, TextIO]:
    """A new file at `path`, or beside it with a number when another run took that name.

    Two simulations of one repo started in the same microsecond must not share a log file.
    """
    candidate = path
    for number in range(2, 1000):
        try:
            return candidate, candidate.open("x", encoding="utf-8")
        except FileExistsError:
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return path, path.open("w", encoding="utf-8")


class EchoThrottle:
    """The live echo of a build that prints faster than a terminal can show.

    At most `rate` output lines a second reach the echo; past that, lines are counted instead,
    and the echo says how many it left out when it catches up. When the build's output ends,
    the last lines it left out are shown (the error is usually there). Render's lines and
    render-sim's notes always pass. The record (saved log, diagnosis, --json) is not affected:
    only what is shown live is thinned.
    """

    WINDOW_S = 0.25

    def __init__(
        self,
        echo: Echo,
        rate: int = 2000,
        tail: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._echo = echo
        self._budget = max(1, int(rate * self.WINDOW_S))
        self._clock = clock
        self._window_start = clock()
        self._shown = 0
        self._skipped = 0
        self._tail: deque[str] = deque(maxlen=tail)

    def __call__(self, kind: str, line: str) -> None:
        if kind != "output":
            self._catch_up(show_tail=True)
            self._echo(kind, line)
            return
        now = self._clock()
        if now - self._window_start >= self.WINDOW_S:
            self._window_start, self._shown = now, 0
            self._catch_up(show_tail=False)
        if self._shown < self._budget:
            self._shown += 1
            self._echo(kind, line)
        else:
            self._skipped += 1
            self._tail.append(line)

    def flush(self) -> None:
        """The build's output ended: say what was left out, and show its last lines."""
        self._catch_up(show_tail=True)

    def _catch_up(self, *, show_tail: bool) -> None:
        if not self._skipped:
            return
        tail = list(self._tail) if show_tail else []
        hidden = self._skipped - len(tail)
        if hidden:
            self._echo(
                "note",
                f"{NOTE_PREFIX}{hidden:,} line(s) printed too fast to show here; "
                "the saved log has every line",
            )
        for line in tail:
            self._echo("output", line)
        self._skipped = 0
        self._tail.clear()


class BuildLog:
    """One simulation's log (a context manager closing the file).

    Every line is recorded (the file, `lines`, `all_lines`) however fast the build prints; the
    live echo is thinned by an `EchoThrottle` when the build prints faster than it can show.
    """

    FLUSH_S = 0.2  # the file is flushed at most this often while lines arrive, and at the end

    def __init__(self, path: Path, secrets: Iterable[str] = (), echo: Echo = _no_echo) -> None:
        self._mask = Masker(secrets)
        self._echo = EchoThrottle(echo)
        self.path, self._file = _create(path)
        self._flushed_at = time.monotonic()
        self.lines: list[str] = []  # the build's own output, masked (what the diagnosis reads)
        self.all_lines: list[str] = []  # everything, as saved

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._echo.flush()
        if not self._file.closed:
            self._file.close()

    def _write(self, kind: str, line: str) -> None:
        self.all_lines.append(line)
        if not self._file.closed:
            self._file.write(line + "\n")
            now = time.monotonic()
            if kind != "output" or now - self._flushed_at >= self.FLUSH_S:
                self._file.flush()
                self._flushed_at = now
        self._echo(kind, line)

    def render(self, line: str) -> None:
        """A line in Render's own words (`==> ...`)."""
        self._write("render", self._mask(line))

    def note(self, line: str) -> None:
        """render-sim's own remark, marked as such."""
        self._write("note", self._mask(NOTE_PREFIX + line))

    def output(self, line: str) -> None:
        """A line the build command printed."""
        masked = self._mask(line)
        self.lines.append(masked)
        self._write("output", masked)

    def text(self) -> str:
        """The whole log as saved (Render's lines and the output), for the classifier."""
        return "\n".join(self.all_lines)

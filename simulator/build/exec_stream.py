"""Reading a build command's output: whole lines from a byte stream, and the stream's end.

The build command's exec is streamed by a reader thread into a queue of (stdout, stderr) chunks;
each stream has its own `LineDecoder`, so a line written in pieces is never glued to a line of
the other stream (which would split a secret value across two lines, past the masking).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

OnOutput = Callable[[str], None]
Chunk = tuple[bytes | None, bytes | None]  # (stdout, stderr)
# The build command has exited: everything it wrote is read (see `drain`), then the stream is
# left once it is quiet for DRAIN_S or still open CLOSE_WAIT_S later. Docker itself closes it
# 2 s after the exec exits when a leftover process holds it open; other engines may never.
DRAIN_S = 0.5
CLOSE_WAIT_S = 10.0


def drain(
    chunks: queue.Queue[Chunk | None],
    feed: Callable[[Chunk], None],
) -> None:
    """Read the build's output to its end once its command has exited (or was killed).

    Everything already received is kept, however far the reader is behind: the record is never
    cut short. The stream's end is awaited while output still arrives: Docker closes it once
    the command's output is copied, or 2 s after the command exits when a leftover process holds
    it open (moby daemon/monitor.go); a stream quiet for DRAIN_S, or one still open CLOSE_WAIT_S
    later (an engine that never closes it), is read no further than what has arrived.
    """
    give_up = time.monotonic() + CLOSE_WAIT_S
    while (left := give_up - time.monotonic()) > 0:
        try:
            chunk = chunks.get(timeout=min(DRAIN_S, left))
        except queue.Empty:
            return  # quiet: the command's output has all arrived
        if chunk is None:
            return  # closed
        feed(chunk)
    for _ in range(chunks.qsize()):  # received before the give-up: kept
        chunk = chunks.get_nowait()
        if chunk is None:
            return
        feed(chunk)


class LineDecoder:
    """Turns a byte stream into whole lines of text (a partial last line is flushed on close)."""

    def __init__(self, on_line: OnOutput) -> None:
        self._on_line = on_line
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        for line in lines:
            self._on_line(line.rstrip(b"\r").decode(errors="replace"))

    def close(self) -> None:
        if self._pending:
            self._on_line(self._pending.rstrip(b"\r").decode(errors="replace"))
            self._pending = b""

"""Layer 2's vocabulary: the markers installers print, and the events they delimit.

A *marker* is a line whose shape says what an installer is doing (pip's `Collecting X`, uv's
`× Failed to build `X``, Poetry's `- Installing X (1.0): Failed`, Render's `==> Build failed`).
Its *role* says what it does to the event being read: open a new one, report a sub-step, close
it successfully, report a failure inside it, sum up a failure shown earlier, mark the end of a
successful install (a barrier: what failed before it was recovered), or report a kill.

An *event* is the span of lines from one opening marker to the next: `collect X==V` (with its
download, build requirements and metadata steps), `download file (size)`, `build X (wheel)`,
`resolve` (a resolver failure and its cause lines), `install`, `lock`, a shell `command`. The
error block inside an event belongs to the event's *owner*, the distribution whose step failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(Enum):
    OPEN = "open"  # a new event starts here (its kind and owner come from the line)
    STEP = "step"  # a sub-step of the current event (pip's build requirements, metadata)
    OK = "ok"  # the current event finished successfully
    FAIL = "fail"  # a failure inside the current event (pip's box, uv's chain, a traceback)
    SUMMARY = "summary"  # a closing line about a failure shown earlier (may name its owner)
    BARRIER = "barrier"  # an install finished: failures before it were recovered
    KILL = "kill"  # the process was killed (OOM) or stopped at a time limit
    INFO = "info"  # a phase or progress line; closes nothing


@dataclass(frozen=True)
class Marker:
    """One line shape: its name, the tool that prints it, its role, and the event it opens."""

    name: str
    tool: str
    role: Role
    pattern: bytes  # matched right after the line's indentation (a bytes regex)
    kind: str = ""  # for OPEN (and owned FAIL/SUMMARY): collect, download, build, resolve, ...
    step: str = ""  # for STEP/FAIL: what was being done (metadata, build requirements, wheel)
    owned: bool = False  # the line names a distribution (parsed by `owners.owner_of`)
    top_level: bool = False  # counts only at column 0 (e.g. a barrier, not pip's nested output)


@dataclass(frozen=True)
class Mark:
    """A marker found in the log: where its line starts and its indentation."""

    offset: int
    marker: Marker
    indent: int


@dataclass
class Event:
    """A span of the build: what happened there and whose step it was.

    `start`/`end` are byte offsets of the normalised log (end exclusive). `failure` is the offset
    of the first line reporting a failure in it; `ok` says it finished successfully.
    """

    kind: str
    tool: str
    start: int
    end: int
    owner: str | None = None
    version: str | None = None
    step: str = ""
    ok: bool = False
    failure: int | None = None
    kill: int | None = None
    marks: list[Mark] = field(default_factory=list)  # appended as the log is read
    indent: int = 0  # of the line that opened it: deeper lines are its own tools' output

    @property
    def failed(self) -> bool:
        return self.failure is not None and not self.ok

    def describe(self) -> str:
        """What this event was doing, for people: "the build of rsim-rust 0.1.0 (its metadata)"."""
        who = f"{self.owner} {self.version}" if self.owner and self.version else self.owner
        if self.kind == "download":
            return f"the download of {who}" if who else "a download"
        if self.kind in ("collect", "build") and who:
            return f"the build of {who}" if self.step or self.kind == "build" else f"{who}"
        if self.kind == "resolve":
            return "dependency resolution"
        if self.kind == "install":
            return f"the install of {who}" if who else "the install"
        if self.kind == "lock":
            return "reading the lock file"
        if who:
            return who
        return "the build command"


#: How each step is named in a sentence ("while preparing its metadata").
STEP_PHRASES = {
    "metadata": "preparing its metadata",
    "build requirements": "getting its build requirements",
    "build dependencies": "installing its build dependencies",
    "wheel": "building its wheel",
    "install": "installing it",
    "download": "downloading it",
}

"""Layer 2: the build cut into installer events, and the event in which it failed.

`read_log` first finds Render's own lines: the build command (`==> Running build command`), the
build's result (`==> Build failed` / `==> Build successful`) and, after a successful build, the
*runtime* section (`==> Deploying...`, `==> Running 'gunicorn app:app'`): a failure there is the
app's, not the build's. Without Render's lines the whole log is the build.

In the build section every marker line (`simulator.diagnose.markers`) is found in one C-level
pass, and the markers after the last *barrier* (an install that finished: what failed before it
was recovered) are read in order into events. The *failing* event is the first one that reports
a failure; when none does, the event that was running when a kill or a time limit came; when
none was, the distribution a closing summary names. Its owner is the distribution whose step
failed, read from its own lines (`simulator.diagnose.owners`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from simulator.diagnose.events import Event, Mark, Marker, Role
from simulator.diagnose.markers import ANYWHERE_MARKERS, LINE_MARKERS
from simulator.diagnose.owners import Owner, owner_of
from simulator.diagnose.scan import ScannedLog, decode

_GROUPS = {f"m{number}": marker for number, marker in enumerate(LINE_MARKERS)}
_LINE = re.compile(
    rb"\n(?P<indent>[ \t]*)(?:"
    + b"|".join(b"(?P<%s>%s)" % (name.encode(), m.pattern) for name, m in _GROUPS.items())
    + rb")"
)
_BUILD_COMMAND = b"\n==> Running build command"
_BUILD_FAILED = b"\n==> Build failed"
_BUILD_OK = b"\n==> Build successful"
# Render's deploy lines: none is printed while building ("Exited with status N" without
# "while building your code" is the start command's exit)
_RUNTIME_STARTS = (
    b"\n==> Deploying",
    b"\n==> Running '",
    b"\n==> Starting service",
    b"\n==> No open ports detected",
    b"\n==> Port scan timeout reached",
)
_EXITED = re.compile(rb"\n==> Exited with status \d+(?! while building)")
# Heroku's runtime log: "app[web.1]: ..." and "heroku[worker.1]: ..." (a build's lines are "remote:")
_DYNO = re.compile(rb"\n(?:app|heroku)\[(?:web|worker|release|clock|scheduler|run)\.\d+\]: ")
NESTED = 4  # this much deeper than the line that opened an event is that event's own output
# Kinds of event that take the kind of an owned failure folded into them
_ADOPTING = frozenset({"phase", "error", ""})


@dataclass(frozen=True)
class Sections:
    """Where the build and the runtime are in the log (byte ranges, end exclusive)."""

    build: tuple[int, int]
    runtime: tuple[int, int] | None = None
    result: str | None = None  # "failed", "succeeded", or None when the log does not say


@dataclass
class Reading:
    """The build read as events: the ones after the last barrier, and which one failed."""

    log: ScannedLog
    sections: Sections
    events: list[Event] = field(default_factory=list)
    start: int = 0  # where the events begin: the build's start, or after the last barrier
    kills: list[Mark] = field(default_factory=list)
    summaries: list[tuple[Mark, Owner | None]] = field(default_factory=list)
    failing: Event | None = None
    how: str = ""  # why `failing` was chosen: failure, kill, summary, running, none

    @property
    def end_section(self) -> tuple[int, int]:
        """After the build: Render's closing lines and event lines, up to the runtime."""
        start = self.sections.build[1]
        end = self.sections.runtime[0] if self.sections.runtime else len(self.log)
        return start, max(start, end)


def find_sections(log: ScannedLog) -> Sections:
    """The build section and, after a successful build, the runtime section."""
    data = b"\n" + log.data
    size = len(log.data)
    start = 0
    command = data.rfind(_BUILD_COMMAND)
    if command != -1:
        start = min(log.line_end(command) + 1, size)  # the line after Render's command line
    failed = data.find(_BUILD_FAILED, max(command, 0))
    succeeded = data.find(_BUILD_OK, max(command, 0))
    result = None
    end = size
    runtime = None
    if failed != -1 and (succeeded == -1 or failed < succeeded):
        result, end = "failed", failed
    elif succeeded != -1:
        result, end = "succeeded", succeeded
        runtime = (min(log.line_end(succeeded) + 1, size), size)
    if runtime is None:
        starts = [p for p in (data.find(n, max(command, 0)) for n in _RUNTIME_STARTS) if p != -1]
        for pattern, needle in ((_EXITED, b"==> Exited with status"), (_DYNO, b"[")):
            found = pattern.search(data, max(command, 0)) if needle in data else None
            if found is not None:
                starts.append(found.start())
        if starts and result != "failed":
            end = min(end, min(starts))
            runtime = (min(starts), size)
            result = result or "succeeded"
    if runtime and end > runtime[0]:
        end = runtime[0]
    return Sections((start, max(start, end)), runtime, result)


def find_marks(log: ScannedLog, start: int, end: int) -> list[Mark]:
    """Every marker line in [start, end), in order (one pass of one regex, plus a few needles)."""
    data = log.data
    marks: list[Mark] = []
    window = (b"\n" + data[start:end]) if start == 0 else data[start - 1 : end]
    base = start - 1
    for match in _LINE.finditer(window):
        group = match.lastgroup
        if group is None or group == "indent":
            continue
        marks.append(Mark(base + match.start() + 1, _GROUPS[group], len(match["indent"])))
    extra: list[Mark] = []
    for marker, needle, confirm in ANYWHERE_MARKERS:
        position = data.find(needle, start, end)
        while position != -1:
            line_start = log.line_start(position)
            line_end = log.line_end(position)
            if confirm.search(decode(data[line_start:line_end])):
                indent = len(data[line_start:line_end]) - len(data[line_start:line_end].lstrip())
                extra.append(Mark(line_start, marker, indent))
            position = data.find(needle, line_end, end)
    if extra:
        taken = {(m.offset, m.marker.role) for m in marks}
        marks += [m for m in extra if (m.offset, m.marker.role) not in taken]
        marks.sort(key=lambda m: m.offset)
    return marks


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and canonicalize_name(a or "") == canonicalize_name(b or "")


class _Walker:
    """Reads marks in order into events (see the module docstring)."""

    def __init__(self, log: ScannedLog, start: int, end: int, base_indent: int) -> None:
        self.log = log
        self.start = start
        self.end = end
        self.base = base_indent
        self.events: list[Event] = []
        self.current: Event | None = None
        self.kills: list[Mark] = []
        self.summaries: list[tuple[Mark, Owner | None]] = []

    def owner(self, mark: Mark) -> Owner | None:
        if not mark.marker.owned:
            return None
        found = owner_of(mark.marker.name, self.log.line_at(mark.offset)[1])
        if mark.marker.name == "pipx_failed_packages":
            names = [line.strip() for _, line in self.log.lines_after(mark.offset, 8)]
            names = [n for n in names if re.fullmatch(r"[A-Za-z0-9][\w.-]*", n)]
            return Owner(names[0], others=tuple(names[1:])) if names else None
        return found

    def open(self, mark: Mark, kind: str, owner: Owner | None) -> Event:
        if self.current is not None:
            self.current.end = mark.offset
        start = self.start if not self.events else mark.offset
        event = Event(
            kind=kind,
            tool=mark.marker.tool,
            start=start,
            end=self.end,
            owner=owner.name if owner and owner.name else None,
            version=owner.version if owner else None,
            step=(owner.step if owner and owner.step else mark.marker.step),
            indent=mark.indent,
        )
        self.events.append(event)
        self.current = event
        return event

    def walk(self, marks: list[Mark]) -> None:
        for mark in marks:
            marker = mark.marker
            if marker.top_level and mark.indent > self.base:
                continue
            handler = getattr(self, f"_{marker.role.value}")
            handler(mark, marker)
        if self.current is not None:
            self.current.end = self.end

    def _open(self, mark: Mark, marker: Marker) -> None:
        owner = self.owner(mark)
        current = self.current
        last = current.marks[-1] if current is not None and current.marks else None
        if (
            current is not None
            and last is not None
            and current.kind in ("error", "command", "phase", "")
            and current.owner is None
            and last.marker.role is Role.FAIL
            and last.marker.tool == marker.tool
            and last.indent == mark.indent
        ):
            # Poetry names the exception on a line of its own ("  SolverProblemError"), then
            # its message: the message is that failure's body, not a new event
            current.kind = marker.kind or current.kind
            current.marks.append(mark)
            return
        if current is not None and current.kind == marker.kind:
            same_owner = _same(current.owner, owner.name if owner else None)
            if same_owner or (marker.kind in ("resolve", "command", "phase") and not owner):
                current.marks.append(mark)
                return
        self.open(mark, marker.kind, owner)

    def _step(self, mark: Mark, marker: Marker) -> None:
        owner = self.owner(mark)
        if marker.kind == "download" and mark.indent <= self.base:
            self.open(mark, "download", owner)  # pip 23+ downloads after resolving, uv too
            return
        current = self.current or self.open(mark, "collect", None)
        if owner and owner.name:
            if current.owner is None or not _same(current.owner, owner.name):
                current.owner, current.version = owner.name, owner.version
            elif owner.version:
                current.version = current.version or owner.version
        if marker.step != "download" or not current.step:
            current.step = _step_name(self.log.line_at(mark.offset)[1]) or marker.step
        current.marks.append(mark)

    def _ok(self, mark: Mark, marker: Marker) -> None:
        if self.current is not None and self.current.failure is None:
            self.current.ok = True

    def _fail(self, mark: Mark, marker: Marker) -> None:
        current = self.current
        if current is not None and mark.indent >= current.indent + NESTED:
            # a subprocess's own output inside the event's error block (pip's build-dependency
            # install, uv's [stderr]): it is the event's failure, not a new event
            if current.failure is None:
                current.failure = mark.offset
            current.ok = False
            current.marks.append(mark)
            return
        owner = self.owner(mark)
        name = owner.name if owner and owner.name else None
        kind = (owner.kind if owner and owner.kind else "") or marker.kind
        current = self.current
        if current is None:
            current = self.open(mark, kind or "error", owner)
        elif (
            not name
            and kind == "resolve"
            and current.kind in ("collect", "download")
            and mark.indent <= current.indent
        ):
            # pip's resolver gives up after collecting: its failure and cause lines are an
            # event of their own, not the last collected package's
            current = self.open(mark, kind, None)
        elif name and current.owner and not _same(current.owner, name):
            current = self.open(mark, kind or "build", owner)
        elif name and not current.owner and current.kind == "command":
            # a command's own output before its first event line belongs to that failure
            body = self.log.line_end(current.start) + 1
            current = self.open(mark, kind or "build", owner)
            if len(self.events) >= 2:
                self.events[-2].end = current.start = min(body, mark.offset)
        elif name and not current.owner:
            current.owner, current.version = name, owner.version if owner else None
            if kind and current.kind in _ADOPTING:
                current.kind = kind
        elif kind and current.kind in ("phase", "error", "command", "") and current.failure is None:
            current.kind = kind
        if name and _same(current.owner, name) and owner and owner.version and not current.version:
            current.version = owner.version
        if owner and owner.step and (not current.step or current.kind == "build"):
            current.step = owner.step
        if marker.name == "pip_step_error":
            current.step = _step_name(self.log.line_at(mark.offset)[1]) or current.step
        if current.failure is None:
            current.failure = mark.offset
        current.ok = False
        current.marks.append(mark)

    def _summary(self, mark: Mark, marker: Marker) -> None:
        owner = self.owner(mark)
        self.summaries.append((mark, owner))
        current = self.current
        if current is not None and current.failed and not current.owner and owner and owner.name:
            current.owner, current.version = owner.name, owner.version  # pipx, pip's trailers

    def _barrier(self, mark: Mark, marker: Marker) -> None:
        if self.current is not None:
            self.current.end = mark.offset
        self.current = None
        self.events = []
        self.kills = []
        self.summaries = []
        self.start = self.log.line_end(mark.offset) + 1

    def _kill(self, mark: Mark, marker: Marker) -> None:
        self.kills.append(mark)
        if self.current is not None and self.current.kill is None:
            self.current.kill = mark.offset

    def _info(self, mark: Mark, marker: Marker) -> None:
        if self.current is not None:
            self.current.marks.append(mark)


_STEP_WORDS = (
    ("Preparing", "metadata"),
    ("Getting requirements", "build requirements"),
    ("Installing build dependencies", "build dependencies"),
    ("Installing backend dependencies", "build dependencies"),
    ("Downloading", "download"),
    ("Using cached", "download"),
)


def _step_name(line: str) -> str:
    stripped = line.strip()
    return next((step for word, step in _STEP_WORDS if stripped.startswith(word)), "")


def read_log(log: ScannedLog) -> Reading:
    """The log's sections, the events of its build, and the event that failed."""
    sections = find_sections(log)
    start, end = sections.build
    marks = find_marks(log, start, end)
    base = min((m.indent for m in marks), default=0)
    walker = _Walker(log, start, end, base)
    walker.walk(marks)
    reading = Reading(
        log,
        sections,
        walker.events,
        walker.start,
        walker.kills,
        walker.summaries,
    )
    tail_start, tail_end = reading.end_section
    for mark in find_marks(log, tail_start, tail_end):
        if mark.marker.role is Role.KILL:
            reading.kills.append(mark)
    reading.failing, reading.how = _choose(reading)
    return reading


def _choose(reading: Reading) -> tuple[Event | None, str]:
    events = reading.events
    failed = [event for event in events if event.failed]
    if failed:
        return failed[0], "failure"
    if reading.kills:
        kill = reading.kills[0].offset
        running = [event for event in events if event.start <= kill]
        if running and not running[-1].ok:
            return running[-1], "kill"
        return None, "kill"
    for mark, owner in reading.summaries:
        if owner and owner.name:
            event = Event(
                "build",
                mark.marker.tool,
                mark.offset,
                reading.log.line_end(mark.offset) + 1,
                owner=owner.name,
                version=owner.version,
                step=owner.step,
                failure=mark.offset,
            )
            return event, "summary"
    if events and not events[-1].ok:
        return events[-1], "running"
    return None, "none"

"""Which package a failed build is about: the culprit, found by the firing rule's steps.

A rule lists culprit steps in order (`data/rules.yaml`); `CulpritFinder` runs them until one
names a package, looking only inside the failing event (its `Scope`): the signal's own groups,
the event's owner (the distribution whose step failed, or that was running when a kill or a
time limit came), a build failure line, pip's unpack directory, a local crate, the last sdist,
the largest download, the failing `pip install` command, a resolver conflict's parties
(`simulator.diagnose.conflict`), the last installed package in a traceback, or the rule's
captures.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from simulator.diagnose.conflict import Conflict, find_conflict
from simulator.diagnose.diagnosis import PackageRef
from simulator.diagnose.events import Event
from simulator.diagnose.mentions import (
    Mention,
    Mentions,
    exact_version,
    parse_requirement,
)
from simulator.diagnose.owners import file_owner
from simulator.diagnose.rules import Rule, Signal
from simulator.diagnose.scan import Hit, ScannedLog, fixed_matcher, pick_near
from simulator.diagnose.scope import Scope

# meson, the build backend of numpy, scipy and others, names the project it configures.
_MESON_PROJECT = fixed_matcher(r"^\s*Project name: (?P<name>\S+)", ["Project name: "])
_MESON_VERSION = fixed_matcher(r"^\s*Project version: (?P<version>\S+)", ["Project version: "])
_FRAME = fixed_matcher(
    r'File "[^"]*[/\\](?:site|dist)-packages[/\\](?P<name>[A-Za-z0-9_][\w.-]*?)(?:[/\\"]|\.py)',
    ["-packages"],
)
# a traceback frame of the app's own code: a file that is neither "<frozen ...>" nor in the
# interpreter's lib/python3.X (the standard library, and site-packages below it)
_APP_FRAME = fixed_matcher(
    r'^\s*File "(?![^"]*[/\\][Ll]ib[/\\]python3\.\d+[/\\])(?![^"]*[/\\]Lib[/\\])[^"<][^"]*", line \d+',
    ['File "'],
)


_PIP_COMMAND = fixed_matcher(r"pip3? install (?P<args>.*)", ["pip install", "pip3 install"])
# Options of `pip install` that take a value (so the value is not a requirement).
_PIP_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
     "--extra-index-url", "-f", "--find-links", "--timeout", "--retries", "-t", "--target",
     "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi",
     "--src", "--upgrade-strategy", "--progress-bar", "--cache-dir", "--trusted-host",
     "--proxy", "--log", "--python", "--config-settings", "-C", "--only-binary",
     "--no-binary", "--report"}
)  # fmt: skip


@dataclass(frozen=True)
class Culprit:
    """The package a failure is about, where the log names it, and its `Collecting` line."""

    package: PackageRef
    start: int  # where the log names it (for evidence)
    size: float | None = None
    collected: Mention | None = None


class CulpritFinder:
    """Runs a rule's culprit steps inside the failing event's scope."""

    def __init__(
        self,
        log: ScannedLog,
        rule: Rule,
        decisive: Hit,
        signal: Signal,
        scope: Scope,
        event: Event | None = None,
    ) -> None:
        self.log = log
        self.rule = rule
        self.decisive = decisive
        self.signal = signal
        self.scope = scope
        self.event = event
        self.mentions = Mentions(log, scope)
        self.whole = Mentions(log)
        self.conflict: Conflict | None = None

    def find(self) -> Culprit | None:
        steps = self.signal.culprit if self.signal.culprit is not None else self.rule.culprit
        for step in steps:
            found = self._step(step)
            if found is not None:
                return self._complete(found)
        return None

    def _complete(self, culprit: Culprit) -> Culprit:
        key = canonicalize_name(culprit.package.name)
        version = (
            culprit.package.version
            or self.whole.version_of(key, self.decisive.start)
            or self._meson_version(key)
        )
        collected = self.whole.collecting(key)
        name = culprit.package.name
        if collected is not None and canonicalize_name(collected.name) == key:
            name = collected.name  # the spelling the user's requirement used
        return Culprit(PackageRef(name, version), culprit.start, culprit.size, collected)

    def _meson_version(self, key: str) -> str | None:
        names = self.scope.hits(_MESON_PROJECT)
        versions = self.scope.hits(_MESON_VERSION)
        for name in names:
            if canonicalize_name(name.match["name"]) != key:
                continue
            after = [hit for hit in versions if hit.start > name.start]
            if after:
                return after[0].match["version"]
        return None

    def _step(self, step: str) -> Culprit | None:
        anchor = self.decisive.start
        if step == "signal":
            groups = self.decisive.match.groupdict()
            if groups.get("name"):
                return Culprit(PackageRef(groups["name"], groups.get("version")), anchor)
            if groups.get("req"):
                req = parse_requirement(groups["req"].split(" (", 1)[0])
                if req:
                    return Culprit(PackageRef(req.name, exact_version(req)), anchor)
            if groups.get("file"):
                owner = file_owner(groups["file"])
                if owner:
                    return Culprit(PackageRef(owner.name, owner.version), anchor)
            if self.signal.package:
                return Culprit(PackageRef(self.signal.package), anchor)
            return None
        if step == "owner":
            event = self.event
            if event is None or not event.owner:
                return None
            return Culprit(PackageRef(event.owner, event.version), event.start)
        if step == "traceback-frame":
            frames = self.scope.hits(_FRAME, keep=10**6)
            before = [hit for hit in frames if hit.start <= anchor] or frames
            if not before:
                return None
            files = [hit for hit in self.scope.hits(_APP_FRAME, keep=10**6) if hit.start <= anchor]
            if files and files[-1].start > before[-1].start:
                return None  # the innermost frame is the app's own code, not a package's
            name = before[-1].match["name"]
            return Culprit(PackageRef(name.replace("_", "-")), before[-1].start)
        if step == "build-failure":
            return self._around(self.mentions.failures, prefer_after=True)
        if step == "pip-unpack-dir":
            return self._around(self.mentions.unpack_dirs, prefer_after=False)
        if step == "local-crate":
            return self._around(self.mentions.crates, prefer_after=False)
        if step == "last-sdist":
            mention = self.whole.last_sdist_before(anchor + 1)
            return self._from_mention(mention) if mention else None
        if step == "largest-download":
            sized = [m for m in self.mentions.files if m.size]
            if not sized:
                return None
            biggest = max(sized, key=lambda m: (m.size or 0, -m.start))
            return self._from_mention(biggest)
        if step == "failed-command":
            return self._failed_command()
        if step == "conflict":
            direct = frozenset(canonicalize_name(m.name) for m in self.whole.direct_requirements())
            self.conflict = find_conflict(self.scope, direct)
            if self.conflict is None:
                return None
            return Culprit(PackageRef(self.conflict.culprit, self.conflict.culprit_version), anchor)
        if step == "capture":
            for matcher in self.rule.captures:
                hits = self.scope.hits(matcher) or self.log.hits(matcher)
                if hits:
                    hit = pick_near(hits, anchor)
                    groups = hit.match.groupdict()
                    if groups.get("name"):
                        return Culprit(PackageRef(groups["name"], groups.get("version")), hit.start)
            return None
        raise AssertionError(step)

    def _from_mention(self, mention: Mention) -> Culprit:
        return Culprit(PackageRef(mention.name, mention.version), mention.start, mention.size)

    def _around(self, mentions: Sequence[Mention], prefer_after: bool) -> Culprit | None:
        """The mention nearest the decisive line: the first after it (a build's failure line
        follows its output) or the last before it (an unpack path precedes the error)."""
        anchor = self.decisive.start
        after = [m for m in mentions if m.start >= anchor]
        before = [m for m in mentions if m.start < anchor]
        ordered = ([after[0]] if after else []) + ([before[-1]] if before else [])
        if not prefer_after:
            ordered.reverse()
        return self._from_mention(ordered[0]) if ordered else None

    def _failed_command(self) -> Culprit | None:
        hits = self.scope.hits(_PIP_COMMAND) or self.log.hits(_PIP_COMMAND)
        if not hits:
            return None
        failing = [h for h in hits if "did not complete" in h.text or "non-zero" in h.text]
        hit = failing[0] if failing else pick_near(hits, self.decisive.start)
        args = hit.match["args"].replace('\\"', '"')
        args = re.split(r'"? did not complete|;|&&|\]: exit code', args)[0]
        try:
            tokens = shlex.split(args)
        except ValueError:
            tokens = args.split()
        skip = False
        for token in tokens:
            if skip:
                skip = False
                continue
            if token.startswith("-"):
                skip = token in _PIP_VALUE_OPTIONS
                continue
            req = parse_requirement(token)
            if req:
                return Culprit(PackageRef(req.name, exact_version(req)), hit.start)
        return None

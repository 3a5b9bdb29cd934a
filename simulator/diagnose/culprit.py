"""Which package a failed build is about: the culprit, found by the firing rule's steps.

A rule lists culprit steps in order (`data/rules.yaml`); `CulpritFinder` runs them over the
log's `Mentions` around the decisive line until one names a package: the signal's own groups,
the build that failed, pip's unpack directory, a local crate, the last sdist, the largest
download, the failing `pip install` command, a resolver conflict, or the rule's captures. The
distribution whose build failed beats the one the user asked for.

Resolver conflicts (pip, Poetry and uv wordings) are read here too: `find_conflict` says which
requirement excludes what the user asked for.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from simulator.diagnose.diagnosis import PackageRef
from simulator.diagnose.logtext import Hit, ScannedLog, fixed_matcher, pick_near
from simulator.diagnose.mentions import (
    DIST_NAME,
    Mention,
    Mentions,
    exact_version,
    parse_requirement,
)
from simulator.diagnose.rules import Rule, Signal


@dataclass(frozen=True)
class Conflict:
    """Two requirements that exclude each other, as the resolver reported them."""

    culprit: str
    culprit_version: str | None
    dependency: str
    required: str  # what the culprit needs, e.g. "<=1.4.41,>=1.4.17"
    requested: str  # what the user asked for, e.g. "sqlalchemy==2.0.20"

    def describe(self) -> str:
        who = f"{self.culprit} {self.culprit_version}" if self.culprit_version else self.culprit
        needs = f"{self.dependency}{self.required}" if self.required else self.dependency
        return f"{who} requires {needs}, but {self.requested} is requested"


_PIP_REQUESTED = fixed_matcher(r"The user requested (?:\(constraint\) )?(?P<req>\S+)")
_PIP_DEPENDS = fixed_matcher(
    rf"^\s*(?P<name>{DIST_NAME}) (?P<version>\S+) depends on (?P<req>.+?)\s*$", [" depends on "]
)
_POETRY_DEPENDS = fixed_matcher(
    rf"(?P<name>{DIST_NAME}) \((?P<version>[^)]+)\) depends on (?P<dep>{DIST_NAME}) \((?P<spec>[^)]+)\)",
    [") depends on "],
)
_POETRY_ROOT = fixed_matcher(
    rf"depends on both (?P<dep>{DIST_NAME}) \((?P<spec>[^)]+)\)", ["depends on both "]
)
_UV_DEPENDS = fixed_matcher(
    rf"(?P<name>{DIST_NAME})==(?P<version>[^\s,]+) depends on (?P<dep>{DIST_NAME})(?P<spec>[^\s,]*)",
    [" depends on "],
)
_UV_REQUESTED = fixed_matcher(
    rf"you require (?P<dep>{DIST_NAME})(?P<spec>[^\s,]*)", ["you require "]
)


def _pip_spec(text: str) -> str:
    """pip writes "pydantic!=1.8, <2.0.0 and >=1.7.4": make it a specifier string."""
    return text.replace(" and ", ",").replace(" ", "")


def _poetry_spec(text: str) -> str:
    text = text.strip()
    return f"=={text}" if re.fullmatch(r"\d[\w.]*", text) else text


def probe_version(spec: str) -> str | None:
    """A concrete version a requested specifier stands for: its ==/>= bound."""
    match = re.search(r"(?:===?|>=|~=|\^|~)\s*(\d[\w.+]*)", spec) or re.fullmatch(
        r"(\d[\w.+]*)", spec
    )
    return match.group(1) if match else None


def spec_allows(spec: str, version: str) -> bool | None:
    """Whether `version` satisfies `spec`; None when either cannot be parsed."""
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def find_conflict(log: ScannedLog) -> Conflict | None:
    """The requirement that excludes what the user asked for (pip, Poetry or uv wording)."""
    requested: dict[str, str] = {}
    for hit in log.hits(_PIP_REQUESTED):
        req = parse_requirement(hit.match["req"])
        if req:
            requested[canonicalize_name(req.name)] = hit.match["req"]
    for hit in log.hits(_POETRY_ROOT):
        requested[canonicalize_name(hit.match["dep"])] = hit.match["dep"] + _poetry_spec(
            hit.match["spec"]
        )
    for hit in log.hits(_UV_REQUESTED):
        requested[canonicalize_name(hit.match["dep"])] = hit.match["dep"] + hit.match["spec"]

    edges: list[tuple[str, str | None, str, str]] = []  # culprit, version, dependency, spec
    for hit in log.hits(_PIP_DEPENDS):
        req = parse_requirement(_pip_spec(hit.match["req"]))
        if req is None:
            continue
        edges.append((hit.match["name"], hit.match["version"], req.name, str(req.specifier)))
    for hit in log.hits(_POETRY_DEPENDS):
        edges.append(
            (
                hit.match["name"],
                hit.match["version"],
                hit.match["dep"],
                _poetry_spec(hit.match["spec"]),
            )
        )
    for hit in log.hits(_UV_DEPENDS):
        edges.append((hit.match["name"], hit.match["version"], hit.match["dep"], hit.match["spec"]))
    if not edges:
        return None

    def conflict_for(edge: tuple[str, str | None, str, str]) -> Conflict:
        name, version, dependency, spec = edge
        wanted = requested.get(canonicalize_name(dependency), dependency)
        return Conflict(name, version, dependency, spec, wanted)

    for edge in edges:
        wanted = requested.get(canonicalize_name(edge[2]))
        if wanted is None:
            continue
        probe = probe_version(
            wanted[len(edge[2]) :] if wanted.lower().startswith(edge[2].lower()) else wanted
        )
        if probe and spec_allows(edge[3], probe) is False:
            return conflict_for(edge)
    return conflict_for(edges[0])


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
    """Runs a rule's culprit steps over the log's mentions."""

    def __init__(self, log: ScannedLog, rule: Rule, decisive: Hit, signal: Signal) -> None:
        self.log = log
        self.rule = rule
        self.decisive = decisive
        self.signal = signal
        self.mentions = Mentions(log)
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
        version = culprit.package.version or self.mentions.version_of(key, self.decisive.start)
        collected = self.mentions.collecting(key)
        name = culprit.package.name
        if collected is not None and canonicalize_name(collected.name) == key:
            name = collected.name  # the spelling the user's requirement used
        return Culprit(PackageRef(name, version), culprit.start, culprit.size, collected)

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
            if self.signal.package:
                return Culprit(PackageRef(self.signal.package), anchor)
            return None
        if step == "build-failure":
            return self._around(self.mentions.failures, prefer_after=True)
        if step == "pip-unpack-dir":
            return self._around(self.mentions.unpack_dirs, prefer_after=False)
        if step == "local-crate":
            return self._around(self.mentions.crates, prefer_after=False)
        if step == "last-sdist":
            mention = self.mentions.last_sdist_before(anchor + 1)
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
            self.conflict = find_conflict(self.log)
            if self.conflict is None:
                return None
            return Culprit(PackageRef(self.conflict.culprit, self.conflict.culprit_version), anchor)
        if step == "capture":
            for matcher in self.rule.captures:
                hits = self.log.hits(matcher)
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
        hits = self.log.hits(_PIP_COMMAND)
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

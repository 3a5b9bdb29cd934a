"""Distributions the log names: what pip collected and downloaded, whose build failed, and where.

Each line that names a distribution becomes a `Mention` (its name as written, version, kind,
download size, the requirement that pulled it in). `Mentions` finds them lazily over a
`ScannedLog` and caches them; looking up one distribution searches only the lines holding one
of its spellings, which keeps logs with hundreds of thousands of `Collecting` lines cheap.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from functools import cached_property

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.utils import canonicalize_name

from simulator.diagnose.scan import Hit, Matcher, ScannedLog, fixed_matcher
from simulator.diagnose.scope import Scope

#: A distribution name as pip and the build tools print it.
DIST_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"


@dataclass(frozen=True)
class Mention:
    """A distribution named somewhere in the log."""

    start: int
    name: str  # as written (tarball underscores turned into hyphens)
    version: str | None = None
    kind: str = ""  # collect, sdist, wheel, failure, unpack, crate
    size: float | None = None  # download size in MB
    parent: str | None = None  # the immediate parent requirement ("pydantic==2.5.3")
    direct: bool = False  # requested by a requirements file or the command line

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


_COLLECTING = fixed_matcher(
    rf"Collecting (?P<name>{DIST_NAME})(?:\[[^\]]*\])?(?P<spec>[^\s;(]*)(?:\s+\(from (?P<chain>.*)\))?"
)
_EXACT = re.compile(r"===?\s*(?P<version>[^\s,;*]+)")
_DOWNLOAD = fixed_matcher(
    r"(?:Downloading|Using cached|Downloaded)\s+(?P<target>\S+)"
    r"(?:\s+\((?P<size>[\d.,]+)\s*(?P<unit>[kKMGT]?i?B|bytes)\))?",
    ["Downloading ", "Using cached ", "Downloaded "],
)
_FAILURES: tuple[Matcher, ...] = (
    fixed_matcher(rf"Failed building wheel for (?P<name>{DIST_NAME})"),
    fixed_matcher(rf"Failed to build '(?P<name>{DIST_NAME})'"),
    # pip prints it only for a build that failed (pip < 23: after "Running setup.py clean for X")
    fixed_matcher(rf"Failed cleaning build dir for (?P<name>{DIST_NAME})"),
    fixed_matcher(
        rf"Failed to (?:download and )?build `(?P<name>{DIST_NAME}?)(?:==(?P<version>[^`\s]+))?`",
        ["build `"],
    ),
    fixed_matcher(
        rf"Failed to (?:download and build|fetch wheel): (?P<name>{DIST_NAME}?)==(?P<version>\S+)",
        ["Failed to "],
    ),
    fixed_matcher(
        rf"^\s*(?:ERROR: )?Failed to build (?!installable)(?P<names>{DIST_NAME}(?: {DIST_NAME})*)\s*$",
        ["Failed to build "],
    ),
    fixed_matcher(
        rf"Building wheel for (?P<name>{DIST_NAME}) \(.*\) did not run successfully",
        ["did not run successfully"],
    ),
    fixed_matcher(rf"Could not build wheels for (?P<names>{DIST_NAME}(?:, {DIST_NAME})*)"),
    fixed_matcher(
        rf"pyproject\.toml based projects \((?P<names>{DIST_NAME}(?:, {DIST_NAME})*)\)",
        ["based projects ("],
    ),
    fixed_matcher(rf"╰─> (?P<name>{DIST_NAME})\s*$", ["╰─> "]),
    fixed_matcher(
        rf"- Installing (?P<name>{DIST_NAME}) \((?P<version>[^)]+)\): Failed", ["): Failed"]
    ),
    fixed_matcher(rf"issues with (?P<name>{DIST_NAME}) \((?P<version>[^)]+)\)", ["issues with "]),
    fixed_matcher(
        rf"Running setup\.py (?:install|bdist_wheel) for (?P<name>{DIST_NAME}) (?:\.\.\. )?error",
        ["Running setup.py "],
    ),
    fixed_matcher(r"pip failed to build packages:"),
)
# Where pip unpacked the sdist it builds: pip >= 10's pip-install-<random>/<name>_<hash>, pip 6-9's
# pip-build-<random>/<name> (not pip-build-env-, the isolated build environment), and pip 1.x's
# "failed with error code 1 in <venv>/build/<name>"
_UNPACK_DIR = fixed_matcher(
    r"(?:[/\\]pip-(?:install-|build-(?!env-))[^/\\\s]+|failed with error code \d+ in \S*[/\\]build)"
    r"[/\\](?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)(?:_[0-9a-f]{32})?(?:[/\\]|\s|'|$)",
    ["pip-install-", "pip-build-", "failed with error code "],
)
_LOCAL_CRATE = fixed_matcher(
    rf"failed to run custom build command for `(?P<name>{DIST_NAME}) v(?P<version>[\w.+-]+) \(/",
    ["failed to run custom build command for `"],
)
_SDIST = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*?)\.(?:tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$")
_UNIT_MB = {
    "b": 1e-6,
    "bytes": 1e-6,
    "kb": 1e-3,
    "kib": 1e-3,
    "mb": 1,
    "mib": 1,
    "gb": 1e3,
    "gib": 1e3,
    "tb": 1e6,
}


def exact_version(requirement: PepRequirement) -> str | None:
    """The version a requirement pins exactly (`==2.5.3`), else None."""
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def parse_requirement(text: str) -> PepRequirement | None:
    """A requirement as the log writes it (quotes allowed), or None when it is not one."""
    try:
        return PepRequirement(text.strip().strip("'\""))
    except InvalidRequirement:
        return None


def _written_name(name: str) -> str:
    return name.replace("_", "-")


def _file_mention(start: int, target: str, size: float | None) -> Mention | None:
    filename = urllib.parse.unquote(target.rsplit("/", 1)[-1].split("#", 1)[0])
    if filename.endswith(".metadata"):
        return None  # pip fetched only the wheel's metadata: not the download that matters
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) < 5:
            return None
        return Mention(start, _written_name(parts[0]), parts[1], "wheel", size)
    match = _SDIST.match(filename)
    if match:
        return Mention(start, _written_name(match["name"]), match["version"], "sdist", size)
    return None


def _collect_mention(start: int, match: re.Match[str]) -> Mention:
    exact = _EXACT.fullmatch(match["spec"])
    chain = (match["chain"] or "").split("->")
    first = chain[0].strip()
    parent = None if not first or first.startswith("-") else first
    direct = not match["chain"] or first.startswith(("-r ", "-c "))
    version = exact["version"] if exact else None
    return Mention(start, match["name"], version, "collect", parent=parent, direct=direct)


def _download_mention(start: int, match: re.Match[str]) -> Mention | None:
    size = None
    if match["size"]:
        try:
            size = float(match["size"].replace(",", "")) * _UNIT_MB.get(match["unit"].lower(), 1)
        except ValueError:
            size = None
    return _file_mention(start, match["target"], size)


class Mentions:
    """Distributions named in the log, found lazily and cached.

    The lists of downloads, failures, unpack directories and crates come from `scope` (the
    failing event's lines) when one is given, else from the whole log; `named` always looks at
    the whole log (a version or a `Collecting` line may be anywhere).
    """

    def __init__(self, log: ScannedLog, scope: Scope | None = None) -> None:
        self.log = log
        self.scope = scope
        self._named: dict[str, list[Mention]] = {}

    def _hits(self, matcher: Matcher, keep: int = 50) -> list[Hit]:
        if self.scope is not None:
            return self.scope.hits(matcher, keep)
        return self.log.hits(matcher, keep)

    @cached_property
    def files(self) -> list[Mention]:
        """Every download in the log (only the download-bound rules need them all)."""
        out = []
        for hit in self._hits(_DOWNLOAD, keep=10**9):
            mention = _download_mention(hit.start, hit.match)
            if mention:
                out.append(mention)
        return out

    @cached_property
    def failures(self) -> list[Mention]:
        out = []
        for matcher in _FAILURES:
            for hit in self._hits(matcher):
                groups = hit.match.groupdict()
                if matcher is _FAILURES[-1]:  # pipx lists the failed packages below the line
                    for start, line in self.log.lines_after(hit.start, 8):
                        name = line.strip()
                        if not line.startswith((" ", "\t")) or not re.fullmatch(DIST_NAME, name):
                            break
                        out.append(Mention(start, name, None, "failure"))
                    continue
                names = groups.get("names")
                if names:
                    first = re.split(r"[ ,]+", names.strip())[0]
                    out.append(Mention(hit.start, first, None, "failure"))
                elif groups.get("name") and groups["name"].lower() not in ("see", "error"):
                    out.append(Mention(hit.start, groups["name"], groups.get("version"), "failure"))
        out.sort(key=lambda m: m.start)
        return out

    @cached_property
    def unpack_dirs(self) -> list[Mention]:
        return [
            Mention(hit.start, hit.match["name"], None, "unpack")
            for hit in self._hits(_UNPACK_DIR, keep=10**9)
        ]

    @cached_property
    def crates(self) -> list[Mention]:
        return [
            Mention(hit.start, hit.match["name"], hit.match["version"], "crate")
            for hit in self._hits(_LOCAL_CRATE)
        ]

    def named(self, key: str) -> list[Mention]:
        """Collect/download/failure/crate mentions of distribution `key` only.

        Lines are found by the name's spellings (pydantic-core, pydantic_core, ...), so this
        stays cheap on logs with hundreds of thousands of `Collecting` lines.
        """
        if key not in self._named:
            spellings = {key, key.replace("-", "_"), key.replace("-", ".")}
            finder = Matcher(re.compile("."), tuple(sorted(spellings)), ignore_case=True)
            found: list[Mention] = []
            for hit in self.log.hits(finder, keep=10**9):
                found.extend(self._parse_line(hit.start, hit.text))
            self._named[key] = [m for m in found if m.key == key]
        return self._named[key]

    def _parse_line(self, start: int, line: str) -> list[Mention]:
        out: list[Mention] = []
        match = _COLLECTING.regex.search(line)
        if match:
            out.append(_collect_mention(start, match))
        match = _DOWNLOAD.regex.search(line)
        if match:
            mention = _download_mention(start, match)
            if mention:
                out.append(mention)
        match = _LOCAL_CRATE.regex.search(line)
        if match:
            out.append(Mention(start, match["name"], match["version"], "crate"))
        for matcher in _FAILURES[:-1]:
            match = matcher.regex.search(line)
            if match and match.groupdict().get("name") and match.groupdict().get("version"):
                out.append(Mention(start, match["name"], match["version"], "failure"))
        return out

    def last_sdist_before(self, anchor: int) -> Mention | None:
        """The last sdist pip downloaded before `anchor`, else the last `Collecting` line."""
        position = anchor
        while True:
            hit = self.log.last_hit_before(_DOWNLOAD, position)
            if hit is None:
                break
            mention = _download_mention(hit.start, hit.match)
            if mention is not None and mention.kind == "sdist":
                return mention
            position = hit.start
        hit = self.log.last_hit_before(_COLLECTING, anchor)
        return _collect_mention(hit.start, hit.match) if hit else None

    def version_of(self, key: str, anchor: int) -> str | None:
        """The version the log gives for distribution `key`, nearest before `anchor`."""
        candidates = [m for m in self.named(key) if m.version]
        if not candidates:
            return None
        before = [m for m in candidates if m.start <= anchor]
        chosen = (
            max(before, key=lambda m: m.start) if before else min(candidates, key=lambda m: m.start)
        )
        return chosen.version

    def direct_requirements(self) -> list[Mention]:
        """The distributions the user's own requirements name (`Collecting X` with no parent)."""
        return [
            mention
            for hit in self.log.hits(_COLLECTING, keep=10**6)
            if (mention := _collect_mention(hit.start, hit.match)).direct
        ]

    def collecting(self, key: str) -> Mention | None:
        """The `Collecting` line of distribution `key` (the first)."""
        for mention in self.named(key):
            if mention.kind == "collect":
                return mention
        return None

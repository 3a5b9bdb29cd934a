"""Whose line is it: the distribution (and version) a marker line names.

`owner_of` reads one decoded marker line (`simulator.diagnose.markers`) the way its tool writes
names: pip's `Collecting pydantic-core==2.23.4`, a wheel or sdist file name
(`pydantic_core-2.23.4.tar.gz`, URL-quoted or not), `Building wheel for X (pyproject.toml)`, the
box header `× Running setup.py install for X did not run successfully`, uv's backticks
(`` `pydantic-core==2.23.4` ``) and parentheses (`(rpds-py==0.18.0)`), Poetry's `X (1.0)`,
pdm's `Install X 1.0 failed`. It also says what kind of step a uv error chain is about.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from simulator.diagnose.mentions import DIST_NAME, exact_version, parse_requirement

_SDIST = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*?)\.(?:tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$")


@dataclass(frozen=True)
class Owner:
    """A distribution a line names; `kind`/`step` refine the event when the line says more."""

    name: str
    version: str | None = None
    kind: str = ""
    step: str = ""
    others: tuple[str, ...] = ()  # further names on the same line (pip's "Failed to build a b")


def _requirement(text: str) -> Owner | None:
    text = text.strip().strip("'\"`,;:")
    text = text.split(" (", 1)[0].split(";", 1)[0]
    req = parse_requirement(text)
    if req is None:
        match = re.match(DIST_NAME, text)
        return Owner(match.group(0)) if match else None
    return Owner(req.name, exact_version(req))


def file_owner(target: str) -> Owner | None:
    """The distribution a wheel or sdist file (or its URL) belongs to."""
    filename = urllib.parse.unquote(target.rsplit("/", 1)[-1].split("#", 1)[0])
    if filename.endswith(".metadata"):
        return None
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) < 5:
            return None
        return Owner(parts[0].replace("_", "-"), parts[1])
    match = _SDIST.match(filename)
    if match:
        return Owner(match["name"].replace("_", "-"), match["version"])
    return None


_COLLECT = re.compile(r"(?:Collecting|Obtaining|Processing) (?P<what>\S+)")
_DOWNLOAD = re.compile(
    r"(?:Downloading|Using cached|Downloaded) (?P<what>\S+)(?:\s+\((?P<size>[^)]*)\))?"
)
_BUILD = re.compile(
    rf"(?:Building (?:wheel|editable) for|Running setup\.py (?P<setup>\w+) for)"
    rf" (?P<name>{DIST_NAME})"
)
_BOX = re.compile(rf"\bfor (?P<name>{DIST_NAME})(?: \(|\s+did not run)")
_FAILED_BUILDING = re.compile(rf"Failed building wheel for (?P<name>{DIST_NAME})")
_FAILED_WHEN = re.compile(r"Failed to build '(?P<name>[^']+)' when (?P<step>[^\n]+)")
_SUMMARY = re.compile(
    rf"(?:Failed to build (?P<list>{DIST_NAME}(?: {DIST_NAME})*)\s*$"
    rf"|Could not build wheels for (?P<clist>{DIST_NAME}(?:, {DIST_NAME})*)"
    rf"|based projects \((?P<plist>{DIST_NAME}(?:, {DIST_NAME})*)\))"
)
# pip 25's list of the projects that failed to build: "╰─> a" or "╰─> a, b" (never prose)
_ARROW = re.compile(rf"(?:╰─>|└─|`->) (?P<list>{DIST_NAME}(?:, {DIST_NAME})*)\s*$")
_NO_MATCH = re.compile(r"(?:satisfies the requirement|distribution found for) (?P<req>\S+)")
_UNPACK = re.compile(
    r"/pip-(?:build|install)-[^/\s]+/(?P<name>[A-Za-z0-9][\w.-]*?)(?:_[0-9a-f]{32})?/"
)
_INVALID = re.compile(rf"Ignoring version (?P<version>\S+) of (?P<name>{DIST_NAME}) since")
_BACKTICK = re.compile(
    rf"`(?P<name>{DIST_NAME})(?:\[[^\]`]*\])?(?:==(?P<version>[^`\s]+))?(?: @ [^`]*)?`"
)
_UV_PLAIN = re.compile(rf": (?P<name>{DIST_NAME})==(?P<version>[^\s,)]+)")
_UV_PAREN = re.compile(rf"\((?P<name>{DIST_NAME})==(?P<version>[^\s,)]+)\)")
_UV_INCLUDED = re.compile(rf"`(?P<name>{DIST_NAME})` \(v(?P<version>[^)\s]+)\) was included")
_POETRY = re.compile(
    rf"(?P<name>{DIST_NAME}) \((?:[^()\n]*-> )?(?P<version>[^()\s]+)\)(?:: Failed)?\s*$"
)
_POETRY_NOTE = re.compile(rf"with (?P<name>{DIST_NAME}) \((?P<version>[^)\s]+)\)")
_CANDIDATES = re.compile(rf"candidates for (?P<name>{DIST_NAME}) \((?P<version>[^)\s]+)\)")
_PDM = re.compile(rf"Install (?P<name>{DIST_NAME}) (?P<version>\S+) failed")

_WHEN_STEPS = (
    ("getting requirements", "build requirements"),
    ("installing build dependencies", "build dependencies"),
    ("preparing metadata", "metadata"),
    ("building", "wheel"),
)
_UV_KINDS = (
    ("download and build", "build"),
    ("failed to build", "build"),
    ("failed to prepare", "build"),
    ("build backend", "build"),
    ("failed to download", "download"),
    ("failed to fetch", "download"),
    ("no solution found", "resolve"),
    ("failed to resolve", "resolve"),
    ("can't be installed", "resolve"),
    ("failed to install", "install"),
    ("lockfile", "lock"),
)


def _names(listed: str) -> tuple[str, ...]:
    return tuple(name for name in re.split(r"[ ,]+", listed.strip()) if name)


def _listed(listed: str) -> Owner:
    names = _names(listed)
    return Owner(names[0], others=names[1:])


def owner_of(marker: str, line: str) -> Owner | None:
    """The distribution a marker line names, or None when it names none."""
    if marker in ("pip_collect", "pip_processing"):
        match = _COLLECT.search(line)
        if not match:
            return None
        what = match["what"]
        if "/" in what or what.endswith((".whl", ".tar.gz", ".zip")):
            return file_owner(what)
        return _requirement(line[match.start("what") :])
    if marker == "pip_download":
        match = _DOWNLOAD.search(line)
        if not match:
            return None
        found = file_owner(match["what"])
        if found is None and match["size"] and re.fullmatch(DIST_NAME, match["what"]):
            return Owner(match["what"])  # uv: "Downloading torch (2.0GiB)"
        return found
    if marker in ("pip_build", "pip_build_error"):
        match = _BUILD.search(line)
        if not match:
            return None
        step = "install" if match["setup"] == "install" else "wheel"
        return Owner(match["name"], step=step)
    if marker == "pip_box":
        match = _BOX.search(line)
        return Owner(match["name"], step="wheel") if match else None
    if marker == "pip_failed_building":
        match = _FAILED_BUILDING.search(line)
        return Owner(match["name"], step="wheel") if match else None
    if marker == "pip_failed_when":
        match = _FAILED_WHEN.search(line)
        if not match:
            return None
        when = match["step"].lower()
        step = next((s for phrase, s in _WHEN_STEPS if phrase in when), "")
        return Owner(match["name"], step=step)
    if marker == "pip_summary_owned":
        match = _SUMMARY.search(line)
        if not match:
            return None
        return _listed(match["list"] or match["clist"] or match["plist"])
    if marker == "pip_arrow_names":
        match = _ARROW.search(line)
        return _listed(match["list"]) if match else None
    if marker == "pip_no_match":
        match = _NO_MATCH.search(line)
        return _requirement(match["req"]) if match else None
    if marker == "pip_failed_command":
        match = _UNPACK.search(line)
        return Owner(match["name"]) if match else None
    if marker == "pip_invalid_metadata":
        match = _INVALID.search(line)
        return Owner(match["name"], match["version"]) if match else None
    if marker in ("uv_chain", "uv_error", "uv_caused"):
        return _uv_owner(line)
    if marker == "uv_included":
        match = _UV_INCLUDED.search(line)
        return Owner(match["name"], match["version"]) if match else None
    if marker in ("poetry_op", "poetry_op_failed"):
        match = _POETRY.search(line)
        return Owner(match["name"], match["version"]) if match else None
    if marker == "poetry_note":
        match = _POETRY_NOTE.search(line)
        return Owner(match["name"], match["version"]) if match else None
    if marker == "poetry_candidates":
        match = _CANDIDATES.search(line)
        return Owner(match["name"], match["version"]) if match else None
    if marker == "pdm_install_failed":
        match = _PDM.search(line)
        return Owner(match["name"], match["version"]) if match else None
    return None


def uv_kind(line: str) -> str:
    """What a uv error chain's head is about: build, download, resolve, install or lock."""
    lowered = line.lower()
    return next((kind for phrase, kind in _UV_KINDS if phrase in lowered), "")


def _uv_owner(line: str) -> Owner | None:
    kind = uv_kind(line)
    for pattern in (_BACKTICK, _UV_PAREN, _UV_PLAIN):
        match = pattern.search(line)
        if match and match["name"].lower() not in ("uv", "uv.lock", "pyproject.toml"):
            if pattern is _BACKTICK and match["name"].endswith((".lock", ".toml", ".txt")):
                continue
            return Owner(match["name"], match["version"], kind=kind)
    return Owner("", kind=kind) if kind else None

"""Resolving requirements with pip through the stand-in index, and reading the outcome.

`resolve_requirements` runs pip against a `StandInIndex` in front of the real index(es) and
returns a `Resolution`: the releases pip chose, every stand-in among them (a package Render would
build from source, with whether its sdist has code to compile), and the failure when there is
one (no matching release, a conflict, a Python the project refuses) as a `Problem`, with the
parties of a conflict for the fix planner. An index that cannot be read raises
`IndexUnavailableError`.

A resolution depends only on its inputs (requirement lines, options, indexes) and the target
Python, so it is made once per process for each: two services sharing one requirements file,
and the fix planner asking again for the service `check` just resolved, reuse the first answer.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator.check.pip_run import run_pip
from simulator.check.results import IndexUnavailableError, SourceBuild
from simulator.check.source_reasons import display, explain_files
from simulator.config.dep_files import Problem, Requirements, requirement_name
from simulator.errors import RenderSimError
from simulator.index.client import PackageIndex
from simulator.index.sdist import PURE, UNKNOWN
from simulator.index.standin import STUB_PATH, StandInIndex
from simulator.index.versions import normal_version
from simulator.render.target import Target

PYPI_SIMPLE = "https://pypi.org/simple"
MAX_ROUNDS = 5

_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S+)")
_FROM_VERSIONS = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+).*?\(from versions: (?P<versions>[^)]*)\)"
)
_CONFLICT = re.compile(r"ResolutionImpossible|conflicting dependencies|Cannot install ")
_NO_PIP = re.compile(r"No module named '?pip")
_REQUIRES_PYTHON = re.compile(r"requires a different Python: (?P<detail>.*)")
_USER_REQUESTED = re.compile(r"^\s*The user requested (?P<req>\S+)")
_DEPENDS = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][\w.-]*) (?P<version>\S+) depends on (?P<req>.+?)\s*$"
)


@dataclass(frozen=True)
class ConflictPart:
    """One line under pip's "The conflict is caused by": who asks for what."""

    requirement: str  # "rsim-model<2"
    by: str | None = None  # "rsim-web" (None: the user's own requirements)
    by_version: str | None = None


@dataclass
class Resolution:
    """What pip chose for one set of requirements on one Python (see the module docstring)."""

    target: Target
    installed: dict[str, str] = field(default_factory=dict)  # canonical name -> version
    builds: list[SourceBuild] = field(default_factory=list)  # without fixes
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conflict: tuple[ConflictPart, ...] = ()
    packages: int = 0

    @property
    def resolved(self) -> bool:
        """pip found a complete set of releases (source builds included)."""
        return not self.problems

    @property
    def compiled(self) -> list[SourceBuild]:
        """The source builds that compile code (or might: their sdist could not be read)."""
        return [b for b in self.builds if b.compiled != PURE]

    @property
    def wheels_only(self) -> bool:
        """Every package installs from a wheel, or from a pure-Python sdist (seconds, no
        compiler): what Render builds without a toolchain."""
        return self.resolved and not self.compiled


def _edges(report: Mapping[str, Any], target: Target) -> dict[str, list[str]]:
    """child (canonical) -> ["parent 1.0", ...] from a pip report's requires_dist."""
    parents: dict[str, list[str]] = {}
    for item in report.get("install", []):
        metadata = item.get("metadata") or {}
        label = f"{metadata.get('name')}=={metadata.get('version')}"
        extras = item.get("requested_extras") or []
        for line in metadata.get("requires_dist") or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and not target.marker_holds(
                requirement.marker, extras
            ):
                continue
            parents.setdefault(canonicalize_name(requirement.name), []).append(label)
    return parents


def index_for(url: str) -> PackageIndex:
    """A PackageIndex for fixes and metadata: PyPI's JSON API for PyPI, else the simple API."""
    stripped = url.rstrip("/")
    if stripped in (PYPI_SIMPLE, "https://pypi.python.org/simple"):
        return PackageIndex("https://pypi.org")
    # Any other index is a simple index, whatever its URL ends with.
    return PackageIndex(stripped, simple_only=True)


_MEMO: dict[tuple[Any, ...], Resolution] = {}
_RUNS = [0]  # resolutions made in this process (each runs pip at least once)


def resolutions_made() -> int:
    """How many resolutions this process made (the memo answers the rest)."""
    return _RUNS[0]


_MEMO_LOCKS: dict[tuple[Any, ...], threading.Lock] = {}
_MEMO_GUARD = threading.Lock()


def _key(requirements: Requirements, target: Target, upstreams: Sequence[str]) -> tuple[Any, ...]:
    return (
        tuple(requirements.lines),
        tuple(requirements.constraints),
        tuple(u.rstrip("/") for u in upstreams),
        tuple(requirements.find_links),
        requirements.pre,
        requirements.no_deps,
        frozenset(requirements.no_binary),
        target,
    )


def resolve_requirements(
    requirements: Requirements,
    target: Target,
    index_url: str,
    *,
    prefetch: Iterable[str] = (),
) -> Resolution:
    """Resolve with pip through the stand-in index, once per (inputs, Python) in a process.

    `prefetch` names projects whose pages are fetched at once before pip starts (the planner
    passes those of an earlier resolution of the same service)."""
    upstreams = [index_url, *requirements.extra_index_urls]
    key = _key(requirements, target, upstreams)
    with _MEMO_GUARD:
        lock = _MEMO_LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key not in _MEMO:
            _RUNS[0] += 1
            _MEMO[key] = _resolve(requirements, target, upstreams, list(prefetch))
        return _MEMO[key]


def _resolve(
    requirements: Requirements, target: Target, upstreams: list[str], prefetch: list[str]
) -> Resolution:
    index_url = upstreams[0]
    indexes = [index_for(url) for url in upstreams]
    out = Resolution(target)
    phantoms: dict[str, str] = {}
    lines = [text for text, _ in requirements.lines]
    constraints = [text for text, _ in requirements.constraints]
    report: dict[str, Any] | None = None
    server: StandInIndex | None = None
    for _ in range(MAX_ROUNDS):
        with StandInIndex(upstreams, target, indexes, phantoms=phantoms) as stand_in:
            server = stand_in
            if prefetch:
                stand_in.prefetch(prefetch)
            run = run_pip(
                lines,
                constraints,
                target,
                [stand_in.url(i) for i in range(len(upstreams))],
                find_links=requirements.find_links,
                pre=requirements.pre,
                no_deps=requirements.no_deps,
            )
        if run.returncode == 0 and run.report is not None:
            report = run.report
            break
        if stand_in.errors:
            raise IndexUnavailableError(
                f"cannot read the package index {index_url}: {stand_in.errors[0]}",
                hint="check the network (and a proxy's CA bundle in SSL_CERT_FILE), or pass "
                "the index URL the build uses",
            )
        output = run.output
        if _NO_PIP.search(output):
            raise RenderSimError(
                "render-sim check runs pip, and pip is not installed in render-sim's environment",
                hint=f"{sys.executable} -m ensurepip",
            )
        missing = _NO_MATCH.search(output)
        if missing:
            spec = missing["req"]
            name = requirement_name(spec) or spec
            pinned = re.search(r"===?([^,;\s]+)$", spec)
            out.problems.append(_no_match_problem(spec, name, pinned, output, stand_in, target))
            if pinned and name not in phantoms:
                phantoms[name] = pinned[1]
                continue
            out.notes.append(
                f"the resolution stopped at {spec}: packages that depend on it were not checked"
            )
            return out
        if _CONFLICT.search(output):
            out.conflict = conflict_parts(output)
            out.problems.append(
                Problem(
                    f"pip cannot resolve these requirements together on Python {target.version}: "
                    f"{_conflict_text(output)}",
                    hint="relax one of the conflicting pins",
                )
            )
            out.notes.append("the resolution stopped at a conflict: no package was checked")
            return out
        python_issue = _REQUIRES_PYTHON.search(output)
        if python_issue:
            out.problems.append(Problem(f"a package {python_issue[0]}"))
            return out
        tail = "\n".join(line for line in output.strip().splitlines()[-6:])
        raise IndexUnavailableError(
            f"pip could not resolve the dependencies (exit {run.returncode}):\n{tail}",
            hint="check the network and the requirements",
        )
    else:
        out.notes.append(
            f"the resolution stopped after {MAX_ROUNDS} rounds of missing packages: more "
            "packages may be built from source than listed"
        )
        return out
    assert report is not None and server is not None
    _read_report(report, requirements, server, phantoms, out)
    return out


def _read_report(
    report: Mapping[str, Any],
    requirements: Requirements,
    server: StandInIndex,
    phantoms: Mapping[str, str],
    out: Resolution,
) -> None:
    target = out.target
    environment = report.get("environment") or {}
    if environment.get("python_version") != target.series:
        out.notes.append(
            "pip evaluated environment markers for this machine's Python, not "
            f"{target.series}: packages behind `python_version` markers may differ"
        )
    direct_names = {n for n in (requirement_name(t) for t, _ in requirements.lines) if n}
    where_of = {requirement_name(t): w for t, w in requirements.lines}
    parents = _edges(report, target)
    items = report.get("install", [])
    out.packages = len(items)
    for item in items:
        metadata = item.get("metadata") or {}
        url = str((item.get("download_info") or {}).get("url", ""))
        name = canonicalize_name(str(metadata.get("name", "")))
        version = str(metadata.get("version", ""))
        out.installed[name] = version
        no_binary = ":all:" in requirements.no_binary or name in requirements.no_binary
        is_stub = f"/{STUB_PATH}/" in url
        if not is_stub and not no_binary:
            continue
        if is_stub and name in phantoms and phantoms[name] == version:
            continue  # already a problem: no release at all
        stub = server.stubs.get((name, version))
        files = [f.filename for f in server.listings.get(name, {}).get(version, [])]
        facts = server.source_kind(name, version)
        pythons: tuple[str, ...]
        if no_binary and not is_stub:
            reason, why, pythons = (
                "no-binary",
                f"{name} {version} has a wheel, but --no-binary makes pip build it from source",
                (),
            )
        else:
            reason, why, pythons = explain_files(name, version, files, target, facts.kind)
        direct = bool(item.get("requested")) or name in direct_names
        item_parents = list(dict.fromkeys(parents.get(name, [])))  # one per parent release
        required_by = tuple(
            [
                *([where_of.get(name) or "your requirements"] if direct else []),
                *map(display, item_parents),
            ]
        )
        known = stub.dependencies_known if stub is not None else True
        if not known:
            out.notes.append(
                f"{name} {version}'s own dependencies could not be read without building it: "
                "the packages it needs were not checked"
            )
        out.builds.append(
            SourceBuild(
                name=str(metadata.get("name") or name),
                version=version,
                reason=reason,
                why=why,
                required_by=required_by,
                direct=direct,
                wheel_pythons=pythons,
                dependencies_known=known,
                compiled=facts.kind if reason != "no-binary" else UNKNOWN,
                evidence=facts.evidence,
                parents=tuple(item_parents),
            )
        )


def _no_match_problem(
    spec: str,
    name: str,
    pinned: re.Match[str] | None,
    output: str,
    stand_in: StandInIndex,
    target: Target,
) -> Problem:
    """pip found nothing for `spec`: a release that does not exist, or one this Python cannot
    install. The index's full listing (every release, whatever its files) tells them apart."""
    listed = sorted((v for v in stand_in.listings.get(name, {}) if _parses(v)), key=Version)
    if pinned and listed and normal_version(pinned[1]) not in {normal_version(v) for v in listed}:
        first, last = listed[0], listed[-1]
        where = "before" if Version(pinned[1]) < Version(first) else "among"
        return Problem(
            f"{name} has no release {pinned[1]}: no such version on the index; its releases "
            f"start at {first} (newest {last})",
            hint=f"pin a release that exists, e.g. {name}=={_nearest(pinned[1], listed)}"
            + (" (the pin is older than every release)" if where == "before" else ""),
        )
    if pinned and not listed and stand_in.listings.get(name) is None:
        return Problem(
            f"no project named {name} on the index: pip stops with "
            f"`No matching distribution found for {spec}`",
            hint="check the name (a project renamed on PyPI keeps its old name only as a stub)",
        )
    versions = _FROM_VERSIONS.search(output)
    available = versions["versions"].strip() if versions else ""
    return Problem(
        f"no release of {spec} installs on Python {target.version} (Linux x86_64): "
        f"pip stops with `No matching distribution found for {spec}`"
        + (
            f"; releases that do: {_shorten_versions(available)}"
            if available and available != "none"
            else ""
        ),
        hint="the release exists, but none of its files fits this Python (see its "
        "Requires-Python and wheel tags): change the pin or the Python",
    )


def _parses(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _nearest(wanted: str, listed: Sequence[str]) -> str:
    """The first release at or above `wanted` (else the newest)."""
    try:
        floor = Version(wanted)
    except InvalidVersion:
        return listed[-1]
    return next((v for v in listed if Version(v) >= floor), listed[-1])


def _shorten_versions(text: str, keep: int = 6) -> str:
    versions = [v.strip() for v in text.split(",") if v.strip()]
    if len(versions) <= keep:
        return ", ".join(versions)
    return "..., " + ", ".join(versions[-keep:])


def _conflict_text(output: str) -> str:
    lines = output.splitlines()
    for number, line in enumerate(lines):
        if "The conflict is caused by" in line:
            return " ".join(part.strip() for part in lines[number + 1 : number + 5] if part.strip())
    match = re.search(r"Cannot install .*", output)
    return match[0] if match else "ResolutionImpossible"


def conflict_parts(output: str) -> tuple[ConflictPart, ...]:
    """The lines under pip's "The conflict is caused by:", read into who asks for what."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "The conflict is caused by" in line), None)
    if start is None:
        return ()
    parts: list[ConflictPart] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        user = _USER_REQUESTED.match(line)
        if user:
            parts.append(ConflictPart(user["req"]))
            continue
        depends = _DEPENDS.match(line)
        if depends:
            # pip 24+ writes "pydantic!=1.8, !=1.8.1, <2.0.0 and >=1.7.4": one PEP 508 line
            requirement = re.sub(r",\s+|\s+and\s+", ",", depends["req"].strip())
            parts.append(ConflictPart(requirement, depends["name"], depends["version"]))
            continue
        if parts:
            break
    return tuple(parts)

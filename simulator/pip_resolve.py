"""Resolving requirements with pip through the stand-in index, and reading the outcome.

`resolve` runs pip against a `StandInIndex` in front of the real index(es). A successful report
lists every stand-in pip chose, each a package Render would build from source; a failure (no
matching release, a conflict, a Python the project refuses) becomes a `Problem`, and an index
that cannot be read an `IndexUnavailableError`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from simulator.check_results import IndexUnavailableError, Problem, SourceBuild
from simulator.dep_files import Requirements, requirement_name
from simulator.errors import RenderSimError
from simulator.pip_run import run_pip
from simulator.render_target import Target
from simulator.source_reasons import FixMaker, display, explain_files, parent_for_fix
from simulator.standin_index import STUB_PATH, StandInIndex
from simulator.wheels import PackageIndex

PYPI_SIMPLE = "https://pypi.org/simple"
MAX_ROUNDS = 5

_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S+)")
_FROM_VERSIONS = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+).*?\(from versions: (?P<versions>[^)]*)\)"
)
_CONFLICT = re.compile(r"ResolutionImpossible|conflicting dependencies|Cannot install ")
_NO_PIP = re.compile(r"No module named '?pip")
_REQUIRES_PYTHON = re.compile(r"requires a different Python: (?P<detail>.*)")


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


def resolve(
    requirements: Requirements,
    target: Target,
    index_url: str,
    fixer: FixMaker,
    notes: list[str],
    problems: list[Problem],
) -> tuple[int, list[SourceBuild]]:
    """Resolve with pip through the stand-in index; (packages installed, source builds)."""
    upstreams = [index_url, *requirements.extra_index_urls]
    indexes = [index_for(url) for url in upstreams]
    phantoms: dict[str, str] = {}
    lines = [text for text, _ in requirements.lines]
    constraints = [text for text, _ in requirements.constraints]
    direct_names = {n for n in (requirement_name(t) for t in lines) if n}
    where_of = {requirement_name(t): w for t, w in requirements.lines}
    report: dict[str, Any] | None = None
    server: StandInIndex | None = None
    for _ in range(MAX_ROUNDS):
        with StandInIndex(upstreams, target, indexes, phantoms=phantoms) as stand_in:
            server = stand_in
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
            versions = _FROM_VERSIONS.search(output)
            name = requirement_name(spec) or spec
            pinned = re.search(r"===?([^,;\s]+)$", spec)
            available = versions["versions"].strip() if versions else ""
            problems.append(
                Problem(
                    f"no release of {spec} installs on Python {target.version} (Linux x86_64): "
                    f"pip stops with `No matching distribution found for {spec}`"
                    + (
                        f"; releases that do: {_shorten_versions(available)}"
                        if available and available != "none"
                        else ""
                    ),
                    hint="check the name and the pin; a release may need a newer or older Python",
                )
            )
            if pinned and name not in phantoms:
                phantoms[name] = pinned[1]
                continue
            notes.append(
                f"the resolution stopped at {spec}: packages that depend on it were not checked"
            )
            return 0, []
        if _CONFLICT.search(output):
            detail = _conflict_text(output)
            problems.append(
                Problem(
                    f"pip cannot resolve these requirements together on Python {target.version}: "
                    f"{detail}",
                    hint="relax one of the conflicting pins",
                )
            )
            notes.append("the resolution stopped at a conflict: no package was checked")
            return 0, []
        python_issue = _REQUIRES_PYTHON.search(output)
        if python_issue:
            problems.append(Problem(f"a package {python_issue[0]}"))
            return 0, []
        tail = "\n".join(line for line in output.strip().splitlines()[-6:])
        raise IndexUnavailableError(
            f"pip could not resolve the dependencies (exit {run.returncode}):\n{tail}",
            hint="check the network and the requirements",
        )
    else:
        notes.append(
            f"the resolution stopped after {MAX_ROUNDS} rounds of missing packages: more "
            "packages may be built from source than listed"
        )
        return 0, []
    assert report is not None and server is not None
    environment = report.get("environment") or {}
    if environment.get("python_version") != target.series:
        notes.append(
            "pip evaluated environment markers for this machine's Python, not "
            f"{target.series}: packages behind `python_version` markers may differ"
        )
    parents = _edges(report, target)
    builds: list[SourceBuild] = []
    items = report.get("install", [])
    for item in items:
        metadata = item.get("metadata") or {}
        url = str((item.get("download_info") or {}).get("url", ""))
        name = canonicalize_name(str(metadata.get("name", "")))
        version = str(metadata.get("version", ""))
        no_binary = ":all:" in requirements.no_binary or name in requirements.no_binary
        is_stub = f"/{STUB_PATH}/" in url
        if not is_stub and not no_binary:
            continue
        stub = server.stubs.get((name, version))
        files = [f.filename for f in server.listings.get(name, {}).get(version, [])]
        pythons: tuple[str, ...]
        if no_binary and not is_stub:
            reason, why, pythons = (
                "no-binary",
                f"{name} {version} has a wheel, but --no-binary makes pip build it from source",
                (),
            )
        elif name in phantoms and phantoms[name] == version:
            continue  # already a problem: no release at all
        else:
            reason, why, pythons = explain_files(name, version, files, target)
        direct = bool(item.get("requested")) or name in direct_names
        item_parents = parents.get(name, [])
        required_by = tuple(
            [
                *([where_of.get(name) or "your requirements"] if direct else []),
                *map(display, item_parents),
            ]
        )
        known = stub.dependencies_known if stub is not None else True
        if not known:
            notes.append(
                f"{name} {version}'s own dependencies could not be read without building it: "
                "the packages it needs were not checked"
            )
        builds.append(
            SourceBuild(
                name=str(metadata.get("name") or name),
                version=version,
                reason=reason,
                why=why,
                required_by=required_by,
                direct=direct,
                wheel_pythons=pythons,
                dependencies_known=known,
                fixes=()
                if reason == "no-binary"
                else fixer.fixes(
                    str(metadata.get("name") or name),
                    version,
                    parent_for_fix(name, item_parents),
                    direct,
                ),
            )
        )
    return len(items), builds


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

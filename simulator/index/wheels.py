"""Which file of a release installs where: wheel tags, Requires-Python, and the searches the
fixes need ("the first release with a wheel for 3.14", "the parent release whose pinned child
has wheels").

Tags come from `packaging.tags` for the target: CPython X.Y on Linux x86_64 with Render's glibc
(`simulator.render.target`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from simulator.index.client import PackageIndex
from simulator.index.listing import DistFile
from simulator.index.versions import parse_python, parse_version
from simulator.render.target import RENDER_GLIBC, RENDER_PYTHON_MINORS


@lru_cache(maxsize=64)
def supported_tags(
    python: tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC, arch: str = "x86_64"
) -> frozenset[Tag]:
    """The tags pip on CPython `python`, glibc Linux `arch`, accepts (no free-threaded build)."""
    platforms = [f"manylinux_{glibc[0]}_{minor}_{arch}" for minor in range(glibc[1], 4, -1)]
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    for (major, minor), alias in legacy.items():
        if (major, minor) <= glibc:
            platforms.append(f"{alias}_{arch}")
    platforms.append(f"linux_{arch}")
    interpreter = f"cp{python[0]}{python[1]}"
    abi = interpreter + "m" if python < (3, 8) else interpreter  # pymalloc ABI until 3.8
    tags = set(cpython_tags(python, abis=[abi], platforms=platforms))
    tags.update(compatible_tags(python, interpreter=interpreter, platforms=platforms))
    return frozenset(tags)


def wheel_installs_on(
    filename: str, python: str | tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC
) -> bool:
    """Does this wheel filename install on CPython `python`, Linux x86_64 at `glibc`?"""
    if not (filename.endswith("-any.whl") or "x86_64" in filename):
        return False  # macOS, Windows, ARM, ...: not worth parsing (big projects list thousands)
    tags = _wheel_tags(filename)
    supported = supported_tags(parse_python(python), glibc)
    return not tags.isdisjoint(supported)


@lru_cache(maxsize=200_000)
def _wheel_tags(filename: str) -> frozenset[Tag]:
    """A wheel filename's tags (none when it is not a valid wheel name), parsed once: the
    resolutions of a run read the same listings for several Pythons."""
    try:
        return frozenset(parse_wheel_filename(filename)[3])
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


def requires_python_allows(spec: str | None, python: tuple[int, int]) -> bool:
    if not spec:
        return True
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return True  # a broken Requires-Python is ignored by pip too
    return specifiers.contains(f"{python[0]}.{python[1]}.0", prereleases=True) or (
        specifiers.contains(f"{python[0]}.{python[1]}.99", prereleases=True)
    )


def compatible_wheel(
    files: Iterable[DistFile], python: tuple[int, int], glibc: tuple[int, int]
) -> DistFile | None:
    for dist in files:
        if (
            dist.is_wheel
            and wheel_installs_on(dist.filename, python, glibc)
            and requires_python_allows(dist.requires_python, python)
        ):
            return dist
    return None


def has_wheel_for(
    index: PackageIndex,
    name: str,
    version: str,
    python: str | tuple[int, int],
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> bool | None:
    """True/False when the index says whether name==version has a wheel for `python`; None
    when it could not be asked. Yanked files count: an exact pin still installs them."""
    files = index.files(name, version)
    if not files.checked:
        return None
    return compatible_wheel(files, parse_python(python), glibc) is not None


def newest_python_with_wheels(
    index: PackageIndex,
    name: str,
    version: str,
    pythons: Sequence[str] = RENDER_PYTHON_MINORS,
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> str | None:
    """The newest of `pythons` (tried in the order given, newest first) with a wheel for
    name==version; None when none has one or the index could not be asked."""
    files = index.files(name, version)
    if not files.checked:
        return None
    for python in pythons:
        if compatible_wheel(files, parse_python(python), glibc) is not None:
            return python
    return None


def _release_candidates(
    index: PackageIndex, name: str, minimum: str | None
) -> list[tuple[Version, str]]:
    """Final, not fully yanked releases of `name` at or above `minimum`, oldest first."""
    floor = parse_version(minimum) if minimum else None
    found = []
    for listed in index.versions(name):
        parsed = parse_version(listed)
        if parsed is None or parsed.is_prerelease or parsed.is_devrelease:
            continue
        if floor is not None and parsed < floor:
            continue
        files = index.files(name, listed)
        if files and all(dist.yanked for dist in files):
            continue
        found.append((parsed, listed))
    found.sort()
    return found


def first_version_with_wheel(
    index: PackageIndex,
    name: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> str | None:
    """The oldest final release (at or above `minimum`) with a wheel for `python`."""
    target = parse_python(python)
    for _, listed in _release_candidates(index, name, minimum):
        if compatible_wheel(index.files(name, listed), target, glibc) is not None:
            return listed
    return None


def child_requirement(
    requires: Iterable[str], child: str, python: tuple[int, int]
) -> PepRequirement | None:
    """The unconditional (no extra) requirement on `child` that applies on Linux `python`."""
    wanted = canonicalize_name(child)
    environment = {
        "python_version": f"{python[0]}.{python[1]}",
        "python_full_version": f"{python[0]}.{python[1]}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    for line in requires:
        try:
            requirement = PepRequirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != wanted:
            continue
        try:
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
        except (InvalidMarker, UndefinedEnvironmentName):
            continue
        return requirement
    return None


@dataclass(frozen=True)
class ParentUpgrade:
    """The first parent release whose requirement lets pip pick a child with a wheel."""

    parent_version: str
    child_version: str
    child_specifier: str


def child_version_for_parent(
    index: PackageIndex,
    parent: str,
    parent_version: str,
    child: str,
    python: str | tuple[int, int],
) -> tuple[str, str] | None:
    """(newest child version the parent release allows, its specifier); None when unknown."""
    target = parse_python(python)
    requirement = child_requirement(index.requires_dist(parent, parent_version), child, target)
    if requirement is None:
        return None
    allowed = [
        (parsed, listed)
        for listed in index.versions(child)
        if (parsed := parse_version(listed)) is not None
        and requirement.specifier.contains(parsed, prereleases=True)
    ]
    if not allowed:
        return None
    return max(allowed)[1], str(requirement.specifier)


def first_parent_version_with_wheels(
    index: PackageIndex,
    parent: str,
    child: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
    child_minimum: str | None = None,
) -> str | None:
    """The oldest final release of `parent` (at or above `minimum`) whose requirement on `child`
    resolves to a child release with a wheel for `python` (e.g. pydantic for pydantic-core).

    `child_minimum` is the child release that failed: old releases with abi3 wheels install on
    any newer CPython, so the search for the child's first wheel starts there."""
    found = find_parent_upgrade(index, parent, child, python, minimum, glibc, child_minimum)
    return found.parent_version if found else None


def find_parent_upgrade(
    index: PackageIndex,
    parent: str,
    child: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
    child_minimum: str | None = None,
) -> ParentUpgrade | None:
    """Like `first_parent_version_with_wheels`, with the child version and specifier.

    Parents raise their child requirement over time, so the releases are binary-searched on
    "the child this release allows is at least the first child release with a wheel" (a few
    metadata fetches instead of one per release); the boundary is then checked for a real
    wheel, moving forward past releases whose child has a gap in its wheels.
    """
    target = parse_python(python)
    first_child = first_version_with_wheel(index, child, target, child_minimum, glibc)
    first_child_parsed = parse_version(first_child) if first_child else None
    if first_child_parsed is None:
        return None
    candidates = [listed for _, listed in _release_candidates(index, parent, minimum)]
    answers: dict[str, tuple[str, str] | None] = {}

    def child_of(version: str) -> tuple[str, str] | None:
        if version not in answers:
            answers[version] = child_version_for_parent(index, parent, version, child, target)
        return answers[version]

    def new_enough(version: str) -> bool | None:
        answer = child_of(version)
        if answer is None:
            # A release that does not depend on the child at all is "not yet"; one whose
            # metadata or pinned child the index does not know stays unknown.
            requires = index.requires_dist(parent, version)
            if requires.checked and child_requirement(requires, child, target) is None:
                return False
            return None
        parsed = parse_version(answer[0])
        return parsed is not None and parsed >= first_child_parsed

    boundary = _boundary(candidates, new_enough)
    if boundary is None:
        return None
    for version in candidates[boundary : boundary + 8]:
        answer = child_of(version)
        if answer and has_wheel_for(index, child, answer[0], target, glibc):
            return ParentUpgrade(version, answer[0], answer[1])
    return None


def first_release_where(
    index: PackageIndex,
    name: str,
    predicate: Callable[[str], bool | None],
    minimum: str | None = None,
    scan: int = 12,
) -> str | None:
    """The oldest final release of `name` (at or above `minimum`) for which `predicate` holds.

    The first `scan` releases are tried in order: the answer is usually close (fastapi 0.100.0
    accepts the pydantic 2 that 0.99.0 refuses), and a predicate that holds only for a while
    (later fastapi releases raise pydantic's minimum again) is found there. Past them it is
    assumed that once it holds it keeps holding (binary search; None answers are skipped)."""
    candidates = [listed for _, listed in _release_candidates(index, name, minimum)]
    for listed in candidates[:scan]:
        if predicate(listed):
            return listed
    candidates = candidates[scan:]
    boundary = _boundary(candidates, predicate)
    if boundary is None or boundary >= len(candidates):
        return None
    return candidates[boundary] if predicate(candidates[boundary]) else None


def _boundary(candidates: Sequence[str], predicate: Callable[[str], bool | None]) -> int | None:
    """Index of the first candidate where a monotonic `predicate` holds (len when none does);
    None when too many answers are unknown to tell."""
    low, high = 0, len(candidates)  # the boundary lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        verdict = _nearest_known(lambda i: predicate(candidates[i]), middle, low, high)
        if verdict is None:
            return None
        position, holds = verdict
        if holds:
            high = position
        else:
            low = position + 1
    return low


def _nearest_known(
    probe: Callable[[int], bool | None], middle: int, low: int, high: int, reach: int = 6
) -> tuple[int, bool] | None:
    """Probe `middle`, or the nearest position in [low, high) whose answer is known."""
    for distance in range(min(high - low, reach)):
        for position in (middle - distance, middle + distance):
            if low <= position < high:
                verdict = probe(position)
                if verdict is not None:
                    return position, verdict
    return None


def release_installs_on(
    files: Iterable[DistFile], python: str | tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC
) -> bool:
    """Can pip install this release on `python` at all: a compatible wheel, or an sdist whose
    Requires-Python allows it?"""
    target = parse_python(python)
    items = list(files)
    if compatible_wheel(items, target, glibc) is not None:
        return True
    return any(
        not dist.is_wheel and requires_python_allows(dist.requires_python, target) for dist in items
    )

"""Which pins must move, and where to, so that the packages built from source get wheels.

The fix planner asks three questions of the package index (metadata only, no resolution):

- `wheel_moves`: for each package built from source, the first release with a wheel for the
  target Python; when a parent pins it (pydantic pins pydantic-core exactly), the parent moves
  instead, to its first release whose requirement reaches a child with wheels;
- `conflict_moves`: for a resolver conflict between a pin and a package that excludes it, the
  forward fix (the first release of that package whose Requires-Dist accepts the pin) and the
  backward one (the pin moved to what the package accepts);
- `apply_moves`: the service's requirements with the moves written in (a pin rewritten where
  it is declared, a new line for a package the requirements do not name).

The planner then resolves the moved requirements together with pip, so a set of moves is only
offered once it is known to work as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator.check.pip_resolve import ConflictPart
from simulator.check.results import SourceBuild
from simulator.config.dep_files import Requirements, pinned_requirement, requirement_name
from simulator.diagnose.conflict import probe_version
from simulator.index.client import PackageIndex
from simulator.index.wheels import (
    child_requirement,
    compatible_wheel,
    find_parent_upgrade,
    first_release_where,
    first_version_with_wheel,
)
from simulator.render.target import Target

PLANNED = "render-sim's planned change"  # the `where` of a requirement line the planner adds


@dataclass(frozen=True)
class Move:
    """One requirement to change: `package` to `specifier`, and why, in one sentence."""

    package: str
    specifier: str
    why: str
    backward: bool = False  # moves the user's own pin back: only if their code works with it
    upward: bool = False  # a "backward" move that is an upgrade of the pin (helper==1 -> >=2)

    @property
    def key(self) -> str:
        return canonicalize_name(self.package)

    def __str__(self) -> str:
        return f"{self.package}{self.specifier}"


def wheel_words(index: PackageIndex, name: str, version: str, target: Target) -> str:
    """How a release's wheel for the target is called in a sentence: "cp314 manylinux wheels",
    or "a pure-Python wheel (py3-none-any)", which installs on every Python."""
    found = compatible_wheel(index.files(name, version), target.minor, target.glibc)
    if found is not None and found.filename.endswith("-none-any.whl"):
        return "a pure-Python wheel (py3-none-any)"
    if found is not None and "-abi3-" in found.filename:
        return f"abi3 manylinux wheels (for {target.cp_tag} and newer)"
    return f"{target.cp_tag} manylinux wheels"


def _parent(label: str) -> tuple[str, str] | None:
    name, _, version = label.partition("==")
    return (name, version) if version else None


def _blocking_parent(
    build: SourceBuild, first: str, index: PackageIndex, target: Target
) -> tuple[str, str] | None:
    """A parent release whose requirement keeps `build` below `first` (its first wheel)."""
    for label in build.parents:
        parent = _parent(label)
        if parent is None:
            continue
        requires = index.requires_dist(*parent)
        requirement = child_requirement(requires, build.name, target.minor)
        if requirement is not None and not requirement.specifier.contains(first, prereleases=True):
            return parent
    return None


def wheel_moves(
    builds: Sequence[SourceBuild], index: PackageIndex, target: Target
) -> tuple[list[Move], list[str]]:
    """The moves that give each build a wheel, and the builds no release of which has one.

    A build whose parent pins it below its first wheel moves through the parent (pydantic for
    pydantic-core), unless the parent is built from source too: then both move to their own
    first wheels (numpy and the pandas built against it), and the resolution of the moved set
    tells whether they fit together."""
    moves: list[Move] = []
    stuck: list[str] = []
    moving = {canonicalize_name(b.name) for b in builds}
    for build in builds:
        if build.version is None:
            stuck.append(build.name)
            continue
        first = first_version_with_wheel(index, build.name, target.minor, minimum=build.version)
        if first is None:
            stuck.append(str(build))
            continue
        parent = _blocking_parent(build, first, index, target)
        if parent is None or canonicalize_name(parent[0]) in moving:
            words = wheel_words(index, build.name, first, target)
            together = (
                f" ({parent[0]} {parent[1]} requires an older {build.name}: it moves too)"
                if parent is not None
                else ""
            )
            moves.append(
                Move(
                    build.name,
                    f">={first}",
                    f"{build} has no wheel for {target.cp_tag}; {build.name} {first} is its first "
                    f"release with {words}{together}",
                )
            )
            continue
        name, version = parent
        upgrade = find_parent_upgrade(
            index, name, build.name, target.minor, version, child_minimum=build.version
        )
        if upgrade is None:
            stuck.append(str(build))
            continue
        words = wheel_words(index, build.name, upgrade.child_version, target)
        moves.append(
            Move(
                name,
                f">={upgrade.parent_version}",
                f"{name} {version} pins {build.name} to {build.version}, which has no wheel for "
                f"{target.cp_tag}, so {name} moves with it: {name} {upgrade.parent_version} is the "
                f"first release whose requirement ({build.name}{upgrade.child_specifier}) gets "
                f"{build.name} {upgrade.child_version}, with {words}",
            )
        )
        if build.direct:
            moves.append(
                Move(
                    build.name,
                    f">={upgrade.child_version}",
                    f"your requirements also pin {build.name}: it moves with {name}",
                )
            )
    return sorted(_merged(moves), key=lambda m: m.key), stuck


def _merged(moves: Sequence[Move]) -> list[Move]:
    """One move per package: the higher floor wins (a later move for the same package)."""
    out: dict[str, Move] = {}
    for move in moves:
        out.setdefault(move.key, move)  # a package's own move comes before "moves with it"
    return list(out.values())


def conflict_moves(
    parts: Sequence[ConflictPart], requirements: Requirements, index: PackageIndex, target: Target
) -> tuple[list[Move], list[Move]]:
    """(forward moves, backward moves) for the conflict pip reported.

    Forward: for "X v depends on Y<spec>" against the requested Y, the first release of X
    (from v on) whose own requirement on Y accepts the requested version. Backward: Y moved to
    what X v accepts."""
    requested: dict[str, str] = {}
    for part in parts:
        if part.by is None:
            name = requirement_name(part.requirement)
            if name:
                requested[name] = part.requirement
    for text, _ in requirements.lines:
        name = requirement_name(text)
        if name and name not in requested:
            requested[name] = text
    forward: list[Move] = []
    backward: list[Move] = []
    for part in parts:
        if part.by is None:
            continue
        try:
            needed = Requirement(part.requirement)
        except InvalidRequirement:
            continue
        dependency = canonicalize_name(needed.name)
        wanted = requested.get(dependency)
        if wanted is None:
            continue
        probe = probe_version(
            wanted[len(needed.name) :] if wanted.lower().startswith(dependency) else wanted
        )
        if probe is None:
            continue
        culprit, culprit_version = part.by, part.by_version

        def accepts(
            version: str, culprit: str = culprit, dependency: str = dependency, probe: str = probe
        ) -> bool | None:
            requires = index.requires_dist(culprit, version)
            if not requires.checked:
                return None
            found = child_requirement(requires, dependency, target.minor)
            return found is None or found.specifier.contains(probe, prereleases=True)

        first = first_release_where(index, culprit, accepts, minimum=culprit_version)
        if first is not None and first != culprit_version:
            found = child_requirement(index.requires_dist(culprit, first), dependency, target.minor)
            accepted = f" ({needed.name}{found.specifier})" if found and found.specifier else ""
            forward.append(
                Move(
                    culprit,
                    f">={first}",
                    f"{culprit} {culprit_version} requires {part.requirement}, and your "
                    f"requirements ask for {wanted}; {culprit} {first} is the first release whose "
                    f"requirement{accepted} accepts {needed.name} {probe}",
                )
            )
        if needed.specifier:
            upward = any(
                spec.operator in (">", ">=", "~=", "==") and _above(spec.version, probe)
                for spec in needed.specifier
            )
            backward.append(
                Move(
                    needed.name,
                    str(needed.specifier),
                    f"{culprit} {culprit_version} accepts only {needed.name}{needed.specifier}, "
                    f"and your requirements ask for {wanted}",
                    backward=not upward,
                    upward=upward,
                )
            )
    return _merged(forward), _merged(backward)


def _above(version: str, than: str) -> bool:
    try:
        return Version(version) > Version(than)
    except InvalidVersion:
        return False


def apply_moves(requirements: Requirements, moves: Iterable[Move]) -> Requirements:
    """The requirements with each move written in: a declared pin (or constraint) rewritten, a
    package they do not name added as a new line."""
    lines = list(requirements.lines)
    constraints = list(requirements.constraints)
    for move in moves:
        found = False
        for table in (lines, constraints):
            for position, (text, where) in enumerate(table):
                if requirement_name(text) == move.key:
                    table[position] = (pinned_requirement(text, move.specifier), where)
                    found = True
        if not found:
            lines.append((f"{move.package}{move.specifier}", PLANNED))
    return replace(requirements, lines=lines, constraints=constraints)


def replace_requirement(requirements: Requirements, package: str, line: str) -> Requirements:
    """The requirements with the line naming `package` replaced by `line` (a swap)."""
    key = canonicalize_name(package)
    lines = [
        (line if requirement_name(text) == key else text, where)
        for text, where in requirements.lines
    ]
    return replace(requirements, lines=lines)

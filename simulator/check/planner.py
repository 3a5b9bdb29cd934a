"""The fix planner: whole-service changes after which every package installs from a wheel.

Pure (no Docker): given what a service installs and the Python Render would use, the planner
lists candidate changes and checks each with the same resolver `render-sim check` uses (pip
through the stand-in index, `simulator.check.pip_resolve`) before any container runs. A candidate is
offered only when its resolution has no compiled source build (a pure-Python sdist builds in
seconds and is allowed). In order:

1. a Python minor Render offers, newest first, for which the whole resolution needs no source
   build;
2. the smallest set of upgrades covering every source build at once, resolved together: a
   child pinned by its parent moves with the parent, and when the moved set conflicts (pandas
   built against an old numpy), the other party moves too, for a few rounds;
3. standard swaps (psycopg2 -> psycopg2-binary, `data/swaps.yaml`, each with its source);
4. for a resolver conflict, the forward fix first (the first release of the other party whose
   Requires-Dist accepts the user's pin), then the backward one, marked "only if your code
   works with it".

Configuration fixes (rootDir, a build command pointing at a missing path) come from the lint
(`simulator.plan.lint`) and are checked by resolving the service as the change would make it.
The candidates are resolved one after the other (on two CPUs, two pip runs and their stand-in
indexes are slower together than in turn); pages and metadata come from the run's cache.
"""

from __future__ import annotations

import functools
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.requirements import Requirement as PepRequirement
from packaging.utils import canonicalize_name

from simulator.check.pip_resolve import Resolution, index_for, resolve_requirements
from simulator.check.results import IndexUnavailableError
from simulator.check.upgrades import (
    Move,
    apply_moves,
    conflict_moves,
    replace_requirement,
    wheel_moves,
)
from simulator.config.dep_files import Requirements, requirement_name
from simulator.diagnose.actions import Replace, Several, pins
from simulator.diagnose.diagnosis import Fix, FixAction, Requirement, SetEnv
from simulator.index.client import PackageIndex
from simulator.render import facts
from simulator.render.target import RENDER_PYTHON_MINORS, Target

MAX_ROUNDS = 3  # extensions of one candidate: new source builds or conflicts it revealed
PYTHONS_TRIED = 2  # Python candidates resolved (the second is there when the first cannot run)
JOBS = (
    1  # one at a time: two pip runs and their stand-ins share 2 CPUs and one GIL, slower together
)


@dataclass(frozen=True)
class Swap:
    source: str  # canonical
    target: str
    same_versions: bool
    why: str
    cited: str


@functools.cache
def load_swaps() -> dict[str, Swap]:
    """The standard swaps (`data/swaps.yaml`), by the distribution they replace."""
    out: dict[str, Swap] = {}
    for row in facts.load("swaps")["swaps"]:
        key = canonicalize_name(row["from"])
        out[key] = Swap(
            key, row["to"], bool(row["same_versions"]), " ".join(row["why"].split()),
            " ".join(row["source"].split()),
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class PlanInput:
    """What the planner needs to know about a service."""

    requirements: Requirements
    target: Target  # the Python Render would use
    index_url: str
    python_source: str = "default"
    render_versions: Mapping[str, str] = field(default_factory=dict)  # minor -> newest patch
    runtime_txt: bool = False
    hosts: Mapping[str, str] = field(default_factory=dict)  # build-network host -> address
    #: also check the next Python after the best one (for --verify-fix, which tries it when
    #: this machine cannot run the best); `check` shows the best one only
    alternatives: bool = False


@dataclass(frozen=True)
class FixPlan:
    """The checked fixes, best first, and what the planner could not fix."""

    fixes: tuple[Fix, ...] = ()
    resolutions: int = 0  # candidate resolutions run (the service's own is not counted)
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    base: Resolution | None = None  # the service's own resolution

    def to_dict(self) -> dict[str, Any]:
        return {
            "fixes": [fix.to_dict() for fix in self.fixes],
            "resolutions": self.resolutions,
            "seconds": round(self.seconds, 2),
            "notes": list(self.notes),
        }


@dataclass
class _Candidate:
    kind: str  # python, upgrade, swap, forward, backward
    requirements: Requirements
    target: Target
    moves: list[Move] = field(default_factory=list)
    swap: Swap | None = None
    swapped_line: str = ""
    result: Resolution | None = None
    rounds: int = 0


def reachable(url: str, hosts: Mapping[str, str]) -> str:
    """`url` with a host only the build's Docker network knows replaced by its address."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or parts.hostname not in hosts:
        return url
    netloc = hosts[parts.hostname] + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def reachable_requirements(requirements: Requirements, hosts: Mapping[str, str]) -> Requirements:
    if not hosts:
        return requirements
    return replace(
        requirements,
        index_url=reachable(requirements.index_url, hosts) if requirements.index_url else None,
        extra_index_urls=[reachable(u, hosts) for u in requirements.extra_index_urls],
        find_links=[reachable(u, hosts) for u in requirements.find_links],
    )


class _Planner:
    def __init__(self, given: PlanInput, base: Resolution) -> None:
        self.given = given
        self.base = base
        self.index_url = reachable(given.index_url, given.hosts)
        self.requirements = reachable_requirements(given.requirements, given.hosts)
        self.index: PackageIndex = index_for(self.index_url)
        self.prefetch = sorted(base.installed)
        self.resolutions = 0
        self.notes: list[str] = []

    def resolve(self, requirements: Requirements, target: Target) -> Resolution:
        self.resolutions += 1
        return resolve_requirements(requirements, target, self.index_url, prefetch=self.prefetch)

    # -- candidates --------------------------------------------------------------------------

    def pythons(self) -> list[_Candidate]:
        current = self.given.target
        exact = {
            canonicalize_name(b.name)
            for b in self.base.compiled
            if b.direct and _exactly_pinned(self.requirements, b.name)
        }
        chosen: list[_Candidate] = []
        for minor in _render_minors(self.given.render_versions):
            if minor == current.series:
                continue
            pinned_ok = all(
                minor in b.wheel_pythons
                for b in self.base.compiled
                if canonicalize_name(b.name) in exact
            )
            if not pinned_ok:
                continue
            full = self.given.render_versions[minor]
            chosen.append(_Candidate("python", self.requirements, Target(full, current.glibc)))
            if len(chosen) == (PYTHONS_TRIED if self.given.alternatives else 1):
                break
        return chosen

    def upgrades(self) -> list[_Candidate]:
        moves, stuck = wheel_moves(self.base.compiled, self.index, self.given.target)
        for label in stuck:
            name, _, version = label.partition(" ")
            since = f" from {version} on" if version else ""
            self.notes.append(
                f"no release of {name}{since} has a wheel for {self.given.target.cp_tag}: no "
                "upgrade avoids its source build"
            )
        if not moves or stuck:
            return []
        return [
            _Candidate("upgrade", apply_moves(self.requirements, moves), self.given.target, moves)
        ]

    def swaps(self) -> list[_Candidate]:
        swaps = load_swaps()
        out = []
        for build in self.base.compiled:
            swap = swaps.get(canonicalize_name(build.name))
            line = _declared(self.requirements, build.name)
            if swap is None or line is None or not build.direct:
                continue
            new_line = _swapped_line(line, swap)
            requirements = replace_requirement(self.requirements, build.name, new_line)
            out.append(
                _Candidate(
                    "swap", requirements, self.given.target, swap=swap, swapped_line=new_line
                )
            )
        return out

    def conflicts(self) -> list[_Candidate]:
        forward, backward = conflict_moves(
            self.base.conflict, self.requirements, self.index, self.given.target
        )
        out = [
            _Candidate("forward", apply_moves(self.requirements, [m]), self.given.target, [m])
            for m in forward
        ]
        out += [
            _Candidate("backward", apply_moves(self.requirements, [m]), self.given.target, [m])
            for m in backward
        ]
        return out

    # -- checking ------------------------------------------------------------------------------

    def check(self, candidate: _Candidate) -> _Candidate:
        """Resolve the candidate; when it moved things forward but is not done (new source
        builds, a conflict with a moved pin), extend its moves and resolve again."""
        for round_number in range(MAX_ROUNDS):
            candidate.rounds = round_number + 1
            result = self.resolve(candidate.requirements, candidate.target)
            candidate.result = result
            if result.wheels_only or candidate.kind in ("python", "backward"):
                return candidate
            more: list[Move] = []
            if result.conflict:
                forward, backward = conflict_moves(
                    result.conflict, candidate.requirements, self.index, candidate.target
                )
                # forward first; else a pin the moved release needs higher (an upgrade too)
                moved = {x.key for x in candidate.moves}
                more = [m for m in forward if m.key not in moved] or [
                    m for m in backward if m.upward and m.key not in moved
                ]
            elif result.compiled:
                more, stuck = wheel_moves(result.compiled, self.index, candidate.target)
                if stuck:
                    return candidate
            if not more:
                return candidate
            candidate.moves = [*candidate.moves, *more]
            candidate.requirements = apply_moves(candidate.requirements, more)
        return candidate

    # -- texts ---------------------------------------------------------------------------------

    def fix(self, candidate: _Candidate) -> Fix | None:
        result = candidate.result
        if result is None or not result.wheels_only:
            return None
        target = candidate.target
        checked = _checked_sentence(result, target)
        compiled_now = ", ".join(str(b) for b in self.base.compiled)
        if candidate.kind == "python":
            minor = target.series
            how = (
                f"Set PYTHON_VERSION={target.version} on the service (Render needs a full version "
                f"there), or commit a .python-version file containing {minor}."
            )
            if self.given.runtime_txt:
                how += " Render ignores runtime.txt: it does not choose the Python."
            return Fix(
                f"Use Python {minor}: every package then installs from a wheel",
                f"On Python {self.given.target.version} pip compiles {compiled_now}. {checked} {how}",
                SetEnv("PYTHON_VERSION", target.version),
                True,
            )
        if candidate.kind == "swap" and candidate.swap is not None:
            swap = candidate.swap
            # the swapped line as the rounds left it (psycopg2-binary moved to a release with
            # wheels for this Python), and any other package they moved
            line = _declared(candidate.requirements, swap.target) or candidate.swapped_line
            others = [m for m in candidate.moves if m.key != canonicalize_name(swap.target)]
            action: FixAction = Replace(swap.source, line)
            if others:
                action = Several(
                    (action, pins([Requirement(m.package, m.specifier) for m in others]))
                )
            moved = "; ".join(m.why for m in candidate.moves)
            return Fix(
                f"Replace {swap.source} with {swap.target}",
                f"{swap.why}. Write `{line}` where {swap.source} is declared"
                + (f" ({moved})" if moved else "")
                + f". {checked} (Source: {swap.cited}.)",
                action,
                True,
            )
        moves = candidate.moves
        action = pins([Requirement(m.package, m.specifier) for m in moves])
        named = " and ".join(f"{m.package} to {m.specifier.lstrip('>=<~!')}" for m in moves)
        reasons = "; ".join(m.why for m in moves)
        if candidate.kind == "backward":
            (move,) = moves
            return Fix(
                f"Only if your code works with it: pin {move}",
                f"{reasons}. This moves your own pin back, to what the other package accepts: "
                f"prefer the upgrade above when there is one. {checked}",
                action,
                True,
            )
        together = " together" if len(moves) > 1 else ""
        title = f"Upgrade {named}{' or newer' if len(moves) == 1 else ''}{together}"
        return Fix(
            title,
            f"{reasons}. {checked}"
            + (f" ({candidate.rounds} rounds of resolution)" if candidate.rounds > 1 else ""),
            action,
            True,
        )


def _checked_sentence(result: Resolution, target: Target) -> str:
    pure = [str(b) for b in result.builds if b.harmless]
    sentence = (
        f"Checked with pip's resolver for Python {target.version} on Render's Linux: all "
        f"{result.packages} packages install from wheels"
    )
    if pure:
        sentence += f" (pure-Python {', '.join(pure)} still builds from source, in seconds)"
    return sentence + "."


def _render_minors(versions: Mapping[str, str]) -> list[str]:
    offered = [m for m in RENDER_PYTHON_MINORS if m in versions]
    return sorted(offered, key=lambda m: tuple(map(int, m.split("."))), reverse=True)


def _declared(requirements: Requirements, name: str) -> str | None:
    key = canonicalize_name(name)
    return next((t for t, _ in requirements.lines if requirement_name(t) == key), None)


def _exactly_pinned(requirements: Requirements, name: str) -> bool:
    line = _declared(requirements, name) or ""
    return "==" in line


def _swapped_line(line: str, swap: Swap) -> str:
    """The declaration `line` for the swap's target: its version kept when both publish the
    same versions, its environment marker kept always."""
    requirement = PepRequirement(line)
    specifier = str(requirement.specifier) if swap.same_versions else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{swap.target}{specifier}{marker}"


def plan_fixes(
    given: PlanInput,
    base: Resolution | None = None,
    *,
    jobs: int | None = None,
) -> FixPlan:
    """The checked whole-service fixes for `given`, best first (see the module docstring).

    `base` is the service's own resolution when the caller has it (else it is made here; the
    resolution cache makes that free when `check` just made it)."""
    started = time.monotonic()
    requirements = reachable_requirements(given.requirements, given.hosts)
    index_url = reachable(given.index_url, given.hosts)
    try:
        base = base or resolve_requirements(requirements, given.target, index_url)
    except IndexUnavailableError as error:
        return FixPlan(notes=(f"the planner could not read the index: {error}",))
    if base.wheels_only:
        return FixPlan(seconds=time.monotonic() - started, base=base)
    planner = _Planner(given, base)
    candidates: list[_Candidate] = []
    if base.conflict:
        candidates += planner.conflicts()
    elif base.resolved:
        candidates += planner.pythons()
        try:
            candidates += planner.upgrades()
        except IndexUnavailableError as error:
            planner.notes.append(f"upgrades not checked: {error}")
        candidates += planner.swaps()
    fixes: list[Fix] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs or JOBS)) as pool:
            checked: Sequence[_Candidate] = list(pool.map(planner.check, candidates))
    except IndexUnavailableError as error:
        planner.notes.append(f"the candidates could not be resolved: {error}")
        checked = []
    for candidate in checked:
        fix = planner.fix(candidate)
        if fix is not None and all(fix.action != f.action for f in fixes):
            fixes.append(fix)
    if candidates and not fixes:
        planner.notes.append(
            f"none of the {len(candidates)} candidate change(s) installs every package from a "
            "wheel when resolved"
        )
    return FixPlan(
        tuple(fixes),
        planner.resolutions,
        time.monotonic() - started,
        tuple(dict.fromkeys(planner.notes)),
        base,
    )


__all__ = ["FixPlan", "PlanInput", "Several", "load_swaps", "plan_fixes", "reachable"]

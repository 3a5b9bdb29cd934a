"""The lint and the fix planner for one planned service (what `check`, `plan` and
`simulate --verify-fix` call).

`service_lints` reads the service's build command; `plan_service` reads what it installs,
resolves it and plans the fixes; configuration fixes (rootDir, a path in the build command)
are checked by resolving the service as the change would leave it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from simulator.check.pip_resolve import PYPI_SIMPLE, Resolution, index_for, resolve_requirements
from simulator.check.planner import FixPlan, PlanInput, _checked_sentence, plan_fixes, reachable
from simulator.check.results import IndexUnavailableError
from simulator.config.build_command import read_service_plan
from simulator.config.python_releases import load_releases
from simulator.diagnose.actions import SetRootDir
from simulator.diagnose.diagnosis import BuildCommand, Diagnosis, Fix
from simulator.errors import ConfigurationError, InputError, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.lint import Lint, LintInput, lint
from simulator.plan.models import BuildPlan, ServicePlan
from simulator.render.target import RENDER_PYTHON_MINORS, Target

CONFIG_CODES = ("missing-path", "cd-into-root-dir")
#: What a dependency file of the wrong shape raises on reading (the caller reports it).
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError)
_UPGRADES_PIP = re.compile(r"(?:-U|--upgrade)\b.*\bpip\b|\bpip\b.*(?:-U|--upgrade)\b")


def render_versions() -> dict[str, str]:
    """The newest patch of each minor Render offers ({"3.13": "3.13.18", ...})."""
    releases = load_releases()
    return {m: v for m in RENDER_PYTHON_MINORS if (v := releases.newest(m))}


def newest_pip(index: PackageIndex | None) -> str | None:
    """The newest final pip on the index, for the pin the lint suggests (None offline)."""
    if index is None:
        return None
    from packaging.version import InvalidVersion, Version

    finals = []
    for listed in index.versions("pip"):
        try:
            parsed = Version(listed)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease and not parsed.is_devrelease:
            finals.append((parsed, listed))
    return max(finals)[1] if finals else None


def service_lints(
    plan: BuildPlan, service: ServicePlan, index: PackageIndex | None = None
) -> list[Lint]:
    """The build-command lint of a planned service (the index only names pip's newest)."""
    wants_pip = index if _UPGRADES_PIP.search(service.build_command) else None
    return lint(
        LintInput(
            plan.repo,
            service.root_dir,
            service.build_command,
            dict(service.env),
            service.files,
            service.python.version,
            service.python.source,
            newest_pip(wants_pip),
        )
    )


@dataclass(frozen=True)
class ServiceFixes:
    """A service's lint, its own resolution (None when its requirements could not be read),
    and the planned fixes, configuration fixes first."""

    lints: tuple[Lint, ...]
    resolution: Resolution | None
    plan: FixPlan
    notes: tuple[str, ...] = field(default_factory=tuple)


def config_fixes(
    plan: BuildPlan,
    service: ServicePlan,
    lints: Sequence[Lint],
    index_url: str | None,
    hosts: Mapping[str, str],
) -> list[Fix]:
    """The lint's configuration fixes as fixes, each checked by resolving the service as the
    change leaves it (its requirements read from the new root, or by the new command)."""
    fixes: list[Fix] = []
    target = Target(service.python.version)
    for item in lints:
        if item.code not in CONFIG_CODES or item.action is None:
            continue
        if isinstance(item.action, SetRootDir):
            root_dir, command = item.action.value, service.build_command
            title = f"Set the service's Root Directory to {root_dir}"
        elif isinstance(item.action, BuildCommand):
            root_dir, command = service.root_dir, item.action.value
            title = f"Change the build command to `{command}`"
        else:
            continue
        root = plan.repo / root_dir if root_dir else plan.repo
        detail = f"{item.message}. {item.fix[0].upper()}{item.fix[1:]}."
        checked = False
        try:
            deps = read_service_plan(plan.repo, root, command, service.env, target)
            url = reachable(index_url or deps.requirements.index_url or PYPI_SIMPLE, hosts)
            if deps.requirements.lines:
                resolution = resolve_requirements(deps.requirements, target, url)
                checked = resolution.wheels_only
                if checked:
                    detail += " " + _checked_sentence(resolution, target)
                else:
                    built = ", ".join(str(b) for b in resolution.compiled) or "nothing"
                    detail += (
                        f" With the change pip finds the requirements, and still compiles "
                        f"{built}: see the other fixes once it is made."
                    )
        except (ConfigurationError, InputError, IndexUnavailableError) as error:
            detail += f" (not checked: {error})"
        fixes.append(Fix(title, detail, item.action, checked))
    return fixes


def plan_service(
    plan: BuildPlan,
    service: ServicePlan,
    *,
    index_url: str | None = None,
    hosts: Mapping[str, str] | None = None,
    index: PackageIndex | None = None,
    base: Resolution | None = None,
    alternatives: bool = False,
) -> ServiceFixes:
    """Lint the service, read and resolve what it installs, and plan the fixes (no Docker).

    `hosts` maps the hostnames of the build's Docker network to addresses this machine
    reaches (an index only the build network serves); `alternatives` also checks the next
    best Python (--verify-fix tries it when this machine cannot run the best)."""
    hosts = hosts or {}
    root = plan.repo / service.root_dir if service.root_dir else plan.repo
    target = Target(service.python.version)
    deps = None
    unread = ""
    try:
        deps = read_service_plan(plan.repo, root, service.build_command, service.env, target)
    except (ConfigurationError, InputError, *_SHAPE_ERRORS) as error:
        unread = f"not resolved: {error}"
    url = index_url or (deps.requirements.index_url if deps else None) or PYPI_SIMPLE
    lints = tuple(service_lints(plan, service, index or index_for(reachable(url, hosts))))
    configured = tuple(config_fixes(plan, service, lints, index_url, hosts))
    if deps is None:
        return ServiceFixes(lints, None, FixPlan(configured), (unread,))
    if deps.lock is not None or not deps.requirements.lines:
        reason = "the build installs from a lockfile" if deps.lock else "nothing to resolve"
        return ServiceFixes(lints, None, FixPlan(configured), (reason,))
    given = PlanInput(
        deps.requirements,
        target,
        url,
        service.python.source,
        render_versions(),
        (root / "runtime.txt").is_file(),
        hosts,
        alternatives,
    )
    planned = plan_fixes(given, base)
    return ServiceFixes(
        lints, planned.base, replace(planned, fixes=(*configured, *planned.fixes)), planned.notes
    )


def planner_for(hosts: Mapping[str, str]) -> Callable[[BuildPlan, ServicePlan], FixPlan]:
    """The fix planner as `simulate --verify-fix` calls it: the next-best Python checked too,
    an index only the build's Docker network serves reached through `hosts`."""
    return lambda plan, service: plan_service(plan, service, hosts=hosts, alternatives=True).plan


def explain_with_repo(
    log: str, repo: Path, service: str | None, index: PackageIndex, *, plan: bool = True
) -> tuple[Diagnosis, FixPlan | None]:
    """`explain --repo`: the log diagnosed with what the repo says (the service's Python, its
    build command), and the fixes planned for the whole service (`plan`: needs the index)."""
    from simulator.build.simulation import diagnosis_context
    from simulator.diagnose.explain import explain_file
    from simulator.plan.build_plan import make_plan
    from simulator.plan.models import Options

    built = make_plan(repo, Options(service=service, probe_network=False), client=None)
    if len(built.services) > 1:
        names = ", ".join(s.name for s in built.services)
        raise UsageError(
            f"--repo {repo} has {len(built.services)} Python services",
            hint=f"pass --service NAME ({names})",
        )
    target = built.services[0]
    diagnosis = explain_file(log, diagnosis_context(built, target), index)
    planned = plan_service(built, target).plan if plan else None
    return diagnosis, planned


__all__ = [
    "ServiceFixes",
    "config_fixes",
    "explain_with_repo",
    "index_for",
    "plan_service",
    "planner_for",
    "service_lints",
]

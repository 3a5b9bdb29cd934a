"""`render-sim check`: which packages would Render build from source, found without Docker.

For each Python service of the repo, `check_repo` reads the dependencies the build command
installs (requirements files with their `-r`/`-c` includes, `pyproject.toml`, `uv.lock`,
`poetry.lock`), and asks a real resolver which releases Render's pip would install on the
Python Render would pick, on Linux x86_64 with glibc 2.36 (Debian 12 bookworm).

How the resolution works: pip (`pip install --dry-run --report --only-binary=:all:` with
`--python-version`, `--platform`, `--implementation cp`, `--abi cpXY`) runs in a subprocess,
isolated from the host's pip configuration, against a small index server on 127.0.0.1 that
stands in front of the real index. That server passes the real listing through and adds, for
every release that has a source distribution but no wheel for the target, a tiny *stand-in
wheel* carrying the release's real dependencies. pip therefore sees the same releases Render's
pip sees (each either a real wheel or a stand-in for its sdist), prefers the newest one as
Render's pip does, and resolves the whole tree in one pass; every stand-in in pip's report is a
package Render would build from source. Environment markers are evaluated for the target
(pip alone would evaluate them for the host's Python).

Lockfiles need no resolution: each locked package's files (listed in the lock) are checked for a
wheel that installs on the target.

The work is split by concern: `build_command`, `requirements_files`, `pyproject_deps` and
`lockfiles` read what a service installs; `index.standin`, `pip_run` and `pip_resolve` resolve
it; `source_reasons` explains each source build and its fixes. Results are plain data
(`simulator.check.results`); `simulator.report.check_view` shows them. The exit code is
`CheckReport.exit_code`: 0 when nothing is built from source, 1 otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from packaging.requirements import InvalidRequirement
from packaging.utils import canonicalize_name

from simulator.check.pip_resolve import PYPI_SIMPLE, index_for, resolve_requirements
from simulator.check.results import (
    CheckReport,
    ServiceCheck,
    SourceBuild,
    direct_reference,
)
from simulator.check.service import plan_service
from simulator.check.source_reasons import FixMaker, display, explain_files, parent_for_fix
from simulator.config.blueprint import find_blueprint
from simulator.config.build_command import read_service_plan
from simulator.config.dep_files import Problem, relative
from simulator.config.lockfiles import Locked, read_poetry_lock, read_uv_lock
from simulator.config.python_version import SOURCE_DEFAULT
from simulator.diagnose.diagnosis import Fix, PythonInfo
from simulator.errors import ConfigurationError, Location
from simulator.index.listing import DistFile
from simulator.index.wheels import compatible_wheel
from simulator.plan.build_plan import make_plan
from simulator.plan.lint import ERROR, Lint
from simulator.plan.models import BuildPlan, Options, ServicePlan
from simulator.render.target import Target


def with_fixes(build: SourceBuild, fixer: FixMaker) -> SourceBuild:
    """The build with the fixes `explain` gives for its package; none for a pure-Python sdist
    (it builds anyway, in seconds) or one that --no-binary asks for."""
    if build.harmless or build.reason == "no-binary":
        return build
    parent = parent_for_fix(build.name, list(build.parents))
    return replace(build, fixes=fixer.fixes(build.name, build.version, parent, build.direct))


def _check_locked(
    locked: Sequence[Locked], target: Target, fixer: FixMaker, lock_name: str
) -> tuple[list[SourceBuild], list[Problem]]:
    builds: list[SourceBuild] = []
    problems: list[Problem] = []
    for package in locked:
        if package.source == "git":
            builds.append(
                SourceBuild(
                    package.name,
                    package.version,
                    "direct-reference",
                    f"{package.name} {package.version} is locked to a git source: it is built from "
                    "source on every deploy",
                    tuple(map(display, package.parents)) or (lock_name,),
                    package.direct,
                    dependencies_known=True,
                )
            )
            continue
        dists = [DistFile(f) for f in package.files]
        if compatible_wheel(dists, target.minor, target.glibc) is not None:
            continue
        sdists = [f for f in package.files if not f.endswith(".whl")]
        if not sdists:
            problems.append(
                Problem(
                    f"{lock_name} has no file of {package.name} {package.version} that installs "
                    f"on Python {target.version} (Linux x86_64): the install fails",
                    hint=f"relock for Python {target.series}, or pin a Python the lock has wheels for",
                )
            )
            continue
        reason, why, pythons = explain_files(package.name, package.version, package.files, target)
        builds.append(
            SourceBuild(
                package.name,
                package.version,
                reason,
                why,
                tuple(map(display, package.parents)) or (lock_name,),
                package.direct,
                pythons,
                True,
                fixer.fixes(
                    package.name,
                    package.version,
                    parent_for_fix(package.name, list(package.parents)),
                    package.direct,
                ),
            )
        )
    return builds, problems


#: What a TOML file of the wrong shape (a string where a table belongs, ...) raises on reading.
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, InvalidRequirement)
_PLAN_ONLY = ("uncommitted changes", "untracked file(s) are not copied")


def check_service(
    plan: BuildPlan,
    service: ServicePlan,
    *,
    index_url: str | None = None,
    inferred_command: bool = False,
) -> ServiceCheck:
    """Check one planned service: read its dependencies, resolve, list the source builds."""
    started = time.monotonic()
    from simulator.build.simulation import diagnosis_context

    repo = plan.repo
    root = repo / service.root_dir if service.root_dir else repo
    target = Target(service.python.version)
    planned = plan_service(plan, service, index_url=index_url)
    lints = planned.lints
    try:
        deps = read_service_plan(repo, root, service.build_command, service.env, target)
    except _SHAPE_ERRORS as error:
        raise ConfigurationError(
            f"a dependency file of service {service.name!r} has an unexpected shape: {error!r}",
            hint="check pyproject.toml against PEP 621 (or Poetry's format)",
        ) from error
    except ConfigurationError:
        blocking = [item for item in lints if item.severity == ERROR]
        if not blocking:
            raise
        return _unreadable(service, blocking, lints, planned.plan.fixes, started)
    requirements = deps.requirements
    chosen_index = index_url or requirements.index_url or PYPI_SIMPLE
    notes = [*deps.notes, *requirements.notes]
    if inferred_command:
        notes.insert(
            0, f"no render.yaml: checked as if the build command were `{service.build_command}`"
        )
    if requirements.index_url and index_url and requirements.index_url != index_url:
        notes.append(
            f"the requirements' --index-url {requirements.index_url} was replaced by {index_url}"
        )
    problems = list(requirements.problems)
    context = diagnosis_context(plan, service)
    python = PythonInfo(service.python.version, "context", None, service.python.source)
    index = index_for(chosen_index)
    fixer = FixMaker(context, python, index)
    builds: list[SourceBuild] = [direct_reference(ref) for ref in requirements.direct]
    packages = 0
    methods: list[str] = []
    inputs = list(requirements.files)
    if deps.uses_pip and requirements.lines:
        methods.append("pip")
        resolution = planned.resolution or resolve_requirements(requirements, target, chosen_index)
        notes += resolution.notes
        problems += resolution.problems
        packages += resolution.packages
        builds += [with_fixes(build, fixer) for build in resolution.builds]
    elif deps.uses_pip and requirements.direct:
        methods.append("pip")
    if deps.lock is not None:
        kind, path, options = deps.lock
        shown = relative(repo, path)
        inputs.append(shown)
        methods.append(kind)
        try:
            if kind == "uv.lock":
                locked, lock_problems, lock_notes = read_uv_lock(
                    path, shown, target, **options, repo=repo
                )
            else:
                pyproject = path.parent / "pyproject.toml"
                if pyproject.is_file():
                    inputs.append(relative(repo, pyproject))
                locked, lock_problems, lock_notes = read_poetry_lock(
                    path, shown, target, pyproject, **options, repo=repo
                )
        except _SHAPE_ERRORS as error:
            raise ConfigurationError(
                f"{shown} is not a {kind} render-sim understands: {error!r}",
                hint=f"regenerate it ({'uv lock' if kind == 'uv.lock' else 'poetry lock'})",
                where=Location(shown),
            ) from error
        notes += lock_notes
        problems += lock_problems
        found, missing = _check_locked(locked, target, fixer, shown)
        builds += found
        problems += missing
        packages += len(locked)
    unique: dict[tuple[str, str | None], SourceBuild] = {}
    for build in builds:
        unique.setdefault((canonicalize_name(build.name), build.version), build)
    warnings = [w for w in service.warnings]
    return ServiceCheck(
        name=service.name,
        root_dir=service.root_dir,
        build_command=service.build_command,
        python=service.python.version,
        python_source=service.python.source,
        method="+".join(methods) or "none",
        inputs=tuple(dict.fromkeys(inputs)),
        packages=packages,
        source_builds=tuple(unique.values()),
        problems=tuple(problems),
        notes=tuple(dict.fromkeys([*notes, *planned.plan.notes])),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
        lints=lints,
        fixes=planned.plan.fixes,
    )


def _unreadable(
    service: ServicePlan,
    blocking: Sequence[Lint],
    lints: Sequence[Lint],
    fixes: Sequence[Fix],
    started: float,
) -> ServiceCheck:
    """A service whose build command cannot read its requirements on Render (a missing file,
    docker): the lint says why, and the configuration fixes how to get there."""
    return ServiceCheck(
        name=service.name,
        root_dir=service.root_dir,
        build_command=service.build_command,
        python=service.python.version,
        python_source=service.python.source,
        method="none",
        inputs=(),
        packages=0,
        source_builds=(),
        problems=tuple(Problem(item.message, hint=item.fix) for item in blocking),
        notes=(
            "the requirements could not be read as the build command names them: nothing "
            "was resolved",
        ),
        warnings=tuple(service.warnings),
        seconds=time.monotonic() - started,
        lints=tuple(lints),
        fixes=tuple(fixes),
    )


def _default_build_command(repo: Path) -> str | None:
    if (repo / "uv.lock").is_file():
        return "uv sync"
    if (repo / "poetry.lock").is_file():
        return "poetry install"
    if (repo / "requirements.txt").is_file():
        return "pip install -r requirements.txt"
    if (repo / "pyproject.toml").is_file():
        return "pip install ."
    return None


def moved_default(service: ServicePlan, version: str) -> ServicePlan:
    """`service` as it would be if Render's default Python were `version`: a service that
    takes the default gets it; one that pins its Python (PYTHON_VERSION, .python-version)
    keeps its own."""
    if service.python.source != SOURCE_DEFAULT:
        return service
    moved = replace(
        service.python,
        version=version,
        requested=f"Render's default moved to {'.'.join(version.split('.')[:2])}",
    )
    return replace(service, python=moved)


def check_repo(
    repo: Path,
    options: Options,
    *,
    index_url: str | None = None,
    default_python: str | None = None,
) -> CheckReport:
    """Check every Python service of `repo` (one when `options.service` is set) without Docker.

    `index_url` replaces the index (a simple index URL); by default the requirements' own
    `--index-url`, else https://pypi.org/simple. `default_python` (X.Y.Z) asks what breaks when
    Render's default moves there (`moved_default`). Raises `ConfigurationError` (exit 2) for a
    missing file or an unreadable configuration, `InputError` (exit 6) for an empty, binary or
    non-UTF-8 dependency file or an index that cannot be read.
    """
    started = time.monotonic()
    repo = Path(repo)
    inferred = False
    if repo.is_dir() and find_blueprint(repo.resolve()) is None and not options.build_command:
        command = _default_build_command(repo)
        if command is not None:
            options = replace(options, build_command=command)
            inferred = True
    plan = make_plan(repo, options, client=None)
    if default_python:
        plan = replace(
            plan, services=tuple(moved_default(s, default_python) for s in plan.services)
        )
    services = tuple(
        check_service(plan, service, index_url=index_url, inferred_command=inferred)
        for service in plan.services
    )
    warnings = tuple(w for w in plan.warnings if not any(p in w for p in _PLAN_ONLY))
    return CheckReport(
        repo=plan.repo,
        index_url=index_url or PYPI_SIMPLE,
        services=services,
        warnings=warnings,
        seconds=time.monotonic() - started,
    )

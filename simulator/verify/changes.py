"""Applying a fix's action to a copy of the repo, and the exact change to tell the user.

The files the plan copies into the build are copied into a temporary directory (the user's
repo is never written), the action is applied there and to the rebuild's options, and the
result is a `Change`: a short summary, where to make the change on Render or in the repo, the
rebuild's options and the files changed (`FileChange`, a diff `git apply` takes). Changes
compose (`Change.then`): a fix extended over several rounds is still one change.

Actions (`diagnose.diagnosis`, `diagnose.actions`):
- `SetEnv`: the variable is set for the rebuild (PYTHON_VERSION goes through the plan exactly as
  Render reads it); the user is told where to set it (render.yaml's envVars, or the Dashboard);
- `PythonVersionFile`: `.python-version` is written in the service's root directory;
- `Pin` / `Replace`: the requirement is rewritten where it is declared (`simulator.verify.pins`);
- `BuildCommand`: the rebuild runs that command;
- `SetRootDir`: render.yaml's `rootDir` is set for the service (`simulator.verify.blueprint_edit`);
- `Several`: its steps, in order, each on the copy as the one before left it.
"""

from __future__ import annotations

import difflib
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from simulator.config.blueprint import find_blueprint, load_blueprint
from simulator.config.build_command import read_service_plan
from simulator.config.env_vars import EnvVar
from simulator.config.version_requests import SOURCE_ENV
from simulator.diagnose.actions import Replace, SetRootDir, Several
from simulator.diagnose.diagnosis import (
    BuildCommand,
    FixAction,
    Pin,
    PythonVersionFile,
    Requirement,
    SetEnv,
)
from simulator.errors import ConfigurationError
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, Options, ServicePlan
from simulator.render.target import Target
from simulator.verify.blueprint_edit import BlueprintNotEditable, set_env_var, set_service_key
from simulator.verify.pins import Edits, FixNotApplicable, add_line, declared, rewrite_declaration
from simulator.verify.text import (
    build_command_instructions,
    env_instructions,
    root_dir_instructions,
)

#: Files outside the service's root directory that the plan reads from the repo root.
ROOT_FILES = (".python-version", "runtime.txt")

__all__ = ["Change", "FileChange", "FixNotApplicable", "apply_fix", "copy_files", "files_to_copy"]


@dataclass(frozen=True)
class FileChange:
    """One file of the copy that the fix changed: its repo-relative path, before and after."""

    path: str
    before: str | None  # None: the fix created the file
    after: str

    def diff(self) -> str:
        """A unified diff with git's a/ b/ prefixes, so `git apply` takes it."""
        before = [] if self.before is None else self.before.splitlines(keepends=True)
        after = self.after.splitlines(keepends=True)
        lines = difflib.unified_diff(
            _terminated(before),
            _terminated(after),
            fromfile="/dev/null" if self.before is None else f"a/{self.path}",
            tofile=f"b/{self.path}",
        )
        return "".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "created": self.before is None}


def _terminated(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n\\ No newline at end of file\n"]
    return lines


@dataclass(frozen=True)
class Change:
    """A fix applied to the copy: what the rebuild uses, and the exact change for the user.

    `summary` is short ("PYTHON_VERSION=3.13.18"); `instructions` says where to make the change
    in the repo or on Render; `options` are the rebuild's options; `files` the files changed;
    `env` the service variables the change sets (told as render.yaml entries or Dashboard
    settings, or written into render.yaml's diff when files change too)."""

    summary: str
    instructions: str
    options: Options
    files: tuple[FileChange, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    def diff(self) -> str:
        return "".join(change.diff() for change in self.files if change.before != change.after)

    def then(self, other: Change) -> Change:
        """This change followed by `other` (made on the copy this one left): one change."""
        files = {f.path: f for f in self.files}
        for change in other.files:
            first = files.get(change.path)
            files[change.path] = FileChange(
                change.path, first.before if first else change.before, change.after
            )
        env = dict(self.env)
        env.update(other.env)
        return Change(
            f"{self.summary} and {other.summary}",
            "\n".join(t for t in (self.instructions, other.instructions) if t),
            other.options,
            tuple(files.values()),
            tuple(env.items()),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "instructions": self.instructions,
            "files": [change.to_dict() for change in self.files],
            "env": dict(self.env),
            "diff": self.diff(),
        }


# -- the copy ---------------------------------------------------------------------------------


def files_to_copy(plan: BuildPlan, service: ServicePlan) -> tuple[str, ...]:
    """The files the plan copies into the build, and those the plan itself reads from the repo
    (the Blueprint, a repo-root .python-version or runtime.txt), repo-relative."""
    names = set(service.files)
    if plan.blueprint is not None:
        names.add(plan.blueprint.relative_to(plan.repo).as_posix())
    root = f"{service.root_dir}/" if service.root_dir else ""
    for name in ROOT_FILES:
        for candidate in {name, f"{root}{name}"}:
            if (plan.repo / candidate).is_file():
                names.add(candidate)
    return tuple(sorted(names))


def copy_files(repo: Path, files: tuple[str, ...], dest: Path) -> None:
    """Copy `files` (repo-relative) from `repo` to `dest`, keeping modes and symlinks."""
    for name in files:
        source = repo / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink() or source.is_file():
            shutil.copy2(source, target, follow_symlinks=False)


# -- applying an action -----------------------------------------------------------------------


def apply_fix(action: FixAction, copy: Path, service: ServicePlan, options: Options) -> Change:
    """Apply `action` to the repo copy at `copy` (files) and to `options` (the rebuild).

    `service` is the plan of the service as the copy stands. Raises FixNotApplicable when the
    action cannot be carried out on this repo (a lockfile pins the package, ...)."""
    options = replace(options, service=service.name)
    blueprint = find_blueprint(copy)
    blueprint_name = blueprint.name if blueprint else None
    if isinstance(action, Several):
        change: Change | None = None
        current = service
        for step in action.steps:
            made = apply_fix(step, copy, current, change.options if change else options)
            change = made if change is None else change.then(made)
            current = _replanned(copy, change.options, service.name)
        if change is None:
            raise FixNotApplicable("the fix has no steps")
        return change
    if isinstance(action, SetEnv):
        existing = _blueprint_var(copy, service.name, action.key)
        instructions = env_instructions(
            action.key, action.value, service.name, blueprint_name, existing
        )
        if action.key == SOURCE_ENV:
            options = replace(options, python=action.value)  # as --python: above every source
        else:
            options = replace(options, env={**options.env, action.key: action.value})
        return Change(
            f"{action.key}={action.value}",
            instructions,
            options,
            env=((action.key, action.value),),
        )
    if isinstance(action, PythonVersionFile):
        return _python_version_file(action, copy, service, options)
    if isinstance(action, BuildCommand):
        instructions = build_command_instructions(action.value, service.name, blueprint_name)
        options = replace(options, build_command=action.value)
        return Change(f"the build command `{action.value}`", instructions, options)
    if isinstance(action, SetRootDir):
        return _root_dir(action, copy, service, options)
    if isinstance(action, (Pin, Replace)):
        return _requirements(action, copy, service, options, blueprint_name)
    raise FixNotApplicable(f"render-sim cannot apply a {action.kind!r} action")


def _replanned(copy: Path, options: Options, name: str) -> ServicePlan:
    try:
        plan = make_plan(copy, replace(options, probe_network=False, service=name), client=None)
    except ConfigurationError as error:
        raise FixNotApplicable(f"the change leaves the repo unreadable: {error}") from error
    return plan.services[0]


def _blueprint_var(copy: Path, service: str, key: str) -> EnvVar | None:
    path = find_blueprint(copy)
    if path is None:
        return None
    blueprint = load_blueprint(path, copy)
    found = [s for s in blueprint.services if s.name == service]
    if not found:
        return None
    return next((var for var in found[0].env_vars if var.key == key), None)


def _root(copy: Path, service: ServicePlan) -> Path:
    return copy / service.root_dir if service.root_dir else copy


def _python_version_file(
    action: PythonVersionFile, copy: Path, service: ServicePlan, options: Options
) -> Change:
    path = _root(copy, service) / ".python-version"
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    after = f"{action.value}\n"
    path.write_text(after, encoding="utf-8")
    shown = path.relative_to(copy).as_posix()
    verb = "change" if before is not None else "commit"
    instructions = f"{verb} {shown} so that it contains {action.value} (the diff below)"
    if service.python.source == SOURCE_ENV:
        instructions += (
            f"; PYTHON_VERSION is set on the service ({service.python.requested}) and wins over "
            "the file: remove it"
        )
    return Change(
        f"{shown} = {action.value}", instructions, options, (FileChange(shown, before, after),)
    )


def _edit_blueprint(copy: Path, service: str, edit: Any) -> FileChange:
    """Apply `edit(text, service_line)` to the copy's render.yaml and check it still reads."""
    path = find_blueprint(copy)
    if path is None:
        raise FixNotApplicable("the repo has no render.yaml to write the setting in")
    before = path.read_text(encoding="utf-8")
    found = [s for s in load_blueprint(path, copy).services if s.name == service]
    if not found:
        raise FixNotApplicable(f"render.yaml has no service {service!r}")
    try:
        after = edit(before, found[0].line)
    except BlueprintNotEditable as error:
        raise FixNotApplicable(f"render.yaml cannot be edited here: {error}") from error
    path.write_text(after, encoding="utf-8")
    try:
        load_blueprint(path, copy)
    except ConfigurationError as error:
        path.write_text(before, encoding="utf-8")
        raise FixNotApplicable(f"the edited render.yaml does not read back: {error}") from error
    return FileChange(path.relative_to(copy).as_posix(), before, after)


def _root_dir(action: SetRootDir, copy: Path, service: ServicePlan, options: Options) -> Change:
    if not (copy / action.value).is_dir():
        raise FixNotApplicable(f"{action.value} is not a directory of the repo")
    changed = _edit_blueprint(
        copy, service.name, lambda text, line: set_service_key(text, line, "rootDir", action.value)
    )
    instructions = root_dir_instructions(action.value, service.name, changed.path)
    return Change(f"rootDir: {action.value}", instructions, options, (changed,))


def env_into_blueprint(change: Change, copy: Path, service: str) -> Change:
    """The change with its service variables written into the copy's render.yaml too, so a
    change that also edits files is one diff (unchanged when that cannot be done)."""
    if not change.env or not change.files or find_blueprint(copy) is None:
        return change
    made = change
    for key, value in change.env:
        existing = _blueprint_var(copy, service, key)
        if existing is not None and existing.origin != "service":
            return change  # set by a group, or left to the Dashboard: the instructions say so
        line = existing.line if existing is not None else None
        try:
            edited = _edit_blueprint(
                copy,
                service,
                lambda text, at, k=key, v=value, e=line: set_env_var(text, at, k, v, e),
            )
        except FixNotApplicable:
            return change
        made = made.then(Change("", "", made.options, (edited,)))
    return replace(
        made,
        summary=change.summary,
        instructions=change.instructions
        + "\n(the variables are in render.yaml's part of the diff too)",
    )


def _requirements(
    action: Pin | Replace, copy: Path, service: ServicePlan, options: Options, blueprint: str | None
) -> Change:
    root = _root(copy, service)
    command = options.build_command or service.build_command
    deps = read_service_plan(copy, root, command, service.env, Target(service.python.version))
    package = action.package
    if deps.lock is not None:
        kind, path, _ = deps.lock
        tool = "uv lock --upgrade-package" if kind == "uv.lock" else "poetry update"
        raise FixNotApplicable(
            f"the build installs from {path.relative_to(copy).as_posix()}, which pins every "
            f"version: update the lock with `{tool} {package}` (render-sim does not rewrite "
            "lockfiles)"
        )
    edits = Edits(copy)
    new_command = command
    all_declared = [*deps.requirements.lines, *deps.requirements.constraints]
    if isinstance(action, Replace):
        hits = declared(all_declared, package)
        if not hits:
            raise FixNotApplicable(f"{package} is not declared where render-sim can replace it")
        for text, where in hits:
            new_command = rewrite_declaration(
                edits, text, where, new_command, root, line=action.requirement
            )
        summary = f"{action.requirement} instead of {package}"
    else:
        wanted = [Requirement(action.package, action.specifier), *action.also]
        for requirement in wanted:
            hits = declared(all_declared, requirement.package)
            for text, where in hits:
                new_command = rewrite_declaration(
                    edits, text, where, new_command, root, specifier=requirement.specifier
                )
            if not hits:
                add_line(
                    edits,
                    f"{requirement.package}{requirement.specifier}",
                    requirement.package,
                    deps.requirements.lines,
                    deps.requirements.files,
                )
        summary = " and ".join(f"{r.package}{r.specifier}" for r in wanted)
    files = tuple(FileChange(*changed) for changed in edits.write())
    lines = list(edits.notes)
    if new_command != command:
        options = replace(options, build_command=new_command)
        lines.append(build_command_instructions(new_command, service.name, blueprint))
    if files:
        lines.append("the diff below makes these changes (`git apply` takes it)")
    return Change(summary, "\n".join(lines), options, files)

"""`simulate --verify-fix`: apply a diagnosis's first fix to a copy of the repo and build again.

A diagnosis proposes fixes; this proves the first one that carries an action. The files the plan
copies into the build are copied into a temporary directory (the user's repo is never written),
the action is applied there, and the copy is simulated again with the same options, except for
the change and a cold start (no build cache: a fix that works on a first deploy works on every
later one). The outcome is a `Verification`: verified (the build passes with the change, and the
exact change to make is spelled out, with a unified diff of any file it touched) or not, and why.

Actions (simulator.diagnose.diagnosis):
- `SetEnv`: the variable is set for the rebuild (PYTHON_VERSION goes through the plan exactly as
  Render reads it); the user is told where to set it (render.yaml's envVars, or the Dashboard).
- `PythonVersionFile`: `.python-version` is written in the service's root directory of the copy.
- `Pin`: the requirement is rewritten where it is declared (requirements files, pyproject.toml's
  [project] or Poetry tables, the build command or its script), with the `also` pins; a package
  that is only a dependency of a dependency gets a new line in the requirements file the build
  command installs.
- `BuildCommand`: the rebuild runs that command.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import docker
import yaml
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from simulator.blueprint import EnvVar, find_blueprint, load_blueprint
from simulator.build_command import read_service_plan
from simulator.buildlog import Echo
from simulator.dep_files import location
from simulator.diagnose.diagnosis import (
    BuildCommand,
    Diagnosis,
    Fix,
    FixAction,
    Pin,
    PythonVersionFile,
    Requirement,
    SetEnv,
)
from simulator.errors import RenderSimError, UsageError
from simulator.plan import BuildPlan, Options, ServicePlan, make_plan
from simulator.python_version import SOURCE_ENV, SOURCE_FILE
from simulator.render_target import Target
from simulator.simulation import BuildResult, build_image, diagnose, simulate_service
from simulator.wheels import PackageIndex

#: Verification statuses; only VERIFIED (and NOT_NEEDED: nothing failed) end with exit code 0.
VERIFIED = "verified"
STILL_FAILS = "still-fails"
NO_ACTION = "no-action"
NOT_APPLIED = "not-applied"
NOT_RUN = "not-run"
NOT_NEEDED = "not-needed"

#: Files outside the service's root directory that the plan reads from the repo root.
ROOT_FILES = (".python-version", "runtime.txt")
DASHBOARD = "the service's Environment page in the Render Dashboard"


class FixNotApplicable(Exception):
    """The fix's action cannot be applied to this repo (the message says why)."""


# -- data -------------------------------------------------------------------------------------


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
    in the repo or on Render; `options` are the rebuild's options; `files` the files changed.
    """

    summary: str
    instructions: str
    options: Options
    files: tuple[FileChange, ...] = ()

    def diff(self) -> str:
        return "".join(change.diff() for change in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "instructions": self.instructions,
            "files": [change.to_dict() for change in self.files],
            "diff": self.diff(),
        }


@dataclass
class Verification:
    """How `--verify-fix` ended for one service."""

    service: str
    status: str  # one of the statuses above
    original: BuildResult
    fix: Fix | None = None
    fix_number: int | None = None  # 1-based, in the diagnosis's order
    change: Change | None = None
    result: BuildResult | None = None  # the rebuild's
    reason: str = ""  # why it was not applied or not run
    hint: str | None = None
    plan_warnings: list[str] = field(default_factory=list)  # the rebuild's plan

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def passed(self) -> bool:
        """Whether `simulate --verify-fix` exits 0: verified, or nothing had failed."""
        return self.status in (VERIFIED, NOT_NEEDED)

    @property
    def message(self) -> str:
        """One line: "verified: the build passes with ..." or "not verified: ..."."""
        if self.status == VERIFIED:
            assert self.change is not None
            return f"verified: the build passes with {self.change.summary}"
        if self.status == STILL_FAILS:
            return f"not verified: still fails: {_failure_headline(self.result)}"
        if self.status == NO_ACTION:
            return (
                "not verified: no fix of the diagnosis can be applied automatically "
                "(none has an action)"
            )
        if self.status == NOT_APPLIED:
            return f"not verified: the fix could not be applied: {self.reason}"
        if self.status == NOT_RUN:
            return f"not verified: the rebuild could not run: {self.reason}"
        return "nothing to verify: the build succeeded as it is"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "verified": self.verified,
            "message": self.message,
            "original": {
                "outcome": self.original.outcome,
                "class": self.original.diagnosis.failure_class if self.original.diagnosis else None,
                "headline": _failure_headline(self.original)
                if not self.original.succeeded
                else None,
            },
            "fix": self.fix.to_dict() if self.fix else None,
            "fix_number": self.fix_number,
            "change": self.change.to_dict() if self.change else None,
            "result": self.result.to_dict() if self.result else None,
            "reason": self.reason or None,
            "hint": self.hint,
            "plan_warnings": self.plan_warnings,
        }


def _failure_headline(result: BuildResult | None) -> str:
    if result is None:
        return "no result"
    if result.diagnosis is not None:
        return result.diagnosis.headline
    return result.event or result.outcome


def first_actionable_fix(diagnosis: Diagnosis | None) -> tuple[int, Fix] | None:
    """The first fix (1-based number, fix) that carries a machine-applicable action."""
    if diagnosis is None:
        return None
    for number, fix in enumerate(diagnosis.fixes, 1):
        if fix.action is not None:
            return number, fix
    return None


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

    `service` is the original plan of the service. Raises FixNotApplicable when the action
    cannot be carried out on this repo (a lockfile pins the package, ...).
    """
    options = replace(options, service=service.name)
    blueprint = find_blueprint(copy)
    blueprint_name = blueprint.name if blueprint else None
    if isinstance(action, SetEnv):
        existing = _blueprint_var(copy, service.name, action.key)
        instructions = env_instructions(
            action.key, action.value, service.name, blueprint_name, existing
        )
        if action.key == SOURCE_ENV:
            options = replace(options, python=action.value)  # as --python: above every source
        else:
            options = replace(options, env={**options.env, action.key: action.value})
        return Change(f"{action.key}={action.value}", instructions, options)
    if isinstance(action, PythonVersionFile):
        return _python_version_file(action, copy, service, options)
    if isinstance(action, BuildCommand):
        instructions = build_command_instructions(action.value, service.name, blueprint_name)
        options = replace(options, build_command=action.value)
        return Change(f"the build command `{action.value}`", instructions, options)
    if isinstance(action, Pin):
        return _pin(action, copy, service, options, blueprint_name)
    raise FixNotApplicable(f"render-sim cannot apply a {action.kind!r} action")


def _blueprint_var(copy: Path, service: str, key: str) -> EnvVar | None:
    path = find_blueprint(copy)
    if path is None:
        return None
    blueprint = load_blueprint(path, copy)
    found = [s for s in blueprint.services if s.name == service]
    if not found:
        return None
    return next((var for var in found[0].env_vars if var.key == key), None)


def yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as the same string (quoted when needed)."""
    try:
        plain = yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain = False
    return value if plain and value.strip() == value else json.dumps(value)


def env_instructions(
    key: str, value: str, service: str, blueprint: str | None, existing: EnvVar | None
) -> str:
    """Where to set `key` = `value` for the service on Render, as exact as the repo allows."""
    entry = f"  - key: {key}\n    value: {yaml_scalar(value)}"
    dashboard = f"{key}={value} in {DASHBOARD}"
    if blueprint is None:
        return f"set {dashboard} (the repo has no render.yaml)"
    if existing is not None and existing.origin.startswith("group:"):
        group = existing.origin.split(":", 1)[1]
        return (
            f"{blueprint} sets {key} in env group {group}: change its value there to "
            f"{yaml_scalar(value)}, or set {dashboard}"
        )
    if existing is not None and existing.kind == "value":
        line = f" (line {existing.line})" if existing.line else ""
        return (
            f"in {blueprint}, under service {service}, change the envVars entry for {key}{line} "
            f"to:\n{entry}\nor set {dashboard}"
        )
    if existing is not None:
        return f"{blueprint} leaves {key} to the Dashboard: set {dashboard}"
    return f"add to {blueprint}, under service {service}, envVars:\n{entry}\nor set {dashboard}"


def build_command_instructions(command: str, service: str, blueprint: str | None) -> str:
    """Where to change the service's build command on Render."""
    dashboard = "the Build Command in the service's Settings in the Render Dashboard"
    if blueprint is None:
        return f"set {dashboard} to: {command}"
    return (
        f"in {blueprint}, under service {service}, set:\n  buildCommand: {yaml_scalar(command)}\n"
        f"(or {dashboard})"
    )


def _root(copy: Path, service: ServicePlan) -> Path:
    return copy / service.root_dir if service.root_dir else copy


def _relative(copy: Path, path: Path) -> str:
    return path.relative_to(copy).as_posix()


def _python_version_file(
    action: PythonVersionFile, copy: Path, service: ServicePlan, options: Options
) -> Change:
    path = _root(copy, service) / ".python-version"
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    after = f"{action.value}\n"
    path.write_text(after, encoding="utf-8")
    shown = _relative(copy, path)
    verb = "change" if before is not None else "commit"
    instructions = f"{verb} {shown} so that it contains {action.value} (the diff below)"
    if service.python.source == SOURCE_ENV:
        instructions += (
            f"; PYTHON_VERSION is set on the service ({service.python.requested}) and wins over "
            "the file: remove it"
        )
    return Change(
        f"{shown} = {action.value}",
        instructions,
        options,
        (FileChange(shown, before, after),),
    )


# -- pins ---------------------------------------------------------------------------------------


def pinned_requirement(text: str, specifier: str) -> str:
    """The requirement `text` with its version specifier replaced; name, extras, marker kept."""
    requirement = Pep508(text)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras}{specifier}{marker}"


def _same_package(text: str, package: str) -> bool:
    try:
        return canonicalize_name(Pep508(text).name) == canonicalize_name(package)
    except InvalidRequirement:
        return False


class _Edits:
    """The files a Pin rewrites in the copy, each read once and written at the end."""

    def __init__(self, copy: Path) -> None:
        self.copy = copy
        self.before: dict[str, str | None] = {}
        self.after: dict[str, str] = {}
        self.notes: list[str] = []

    def path(self, shown: str) -> Path:
        path = (self.copy / shown).resolve()
        if not path.is_relative_to(self.copy.resolve()):
            raise FixNotApplicable(f"{shown} is outside the repo")
        return path

    def text(self, shown: str) -> str:
        if shown not in self.after:
            path = self.path(shown)
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            self.before[shown] = current
            self.after[shown] = current or ""
        return self.after[shown]

    def set(self, shown: str, text: str) -> None:
        self.text(shown)
        self.after[shown] = text

    def write(self) -> tuple[FileChange, ...]:
        changes = []
        for shown, text in self.after.items():
            if text == self.before[shown]:
                continue
            self.path(shown).write_text(text, encoding="utf-8")
            changes.append(FileChange(shown, self.before[shown], text))
        return tuple(changes)


def _pin(
    action: Pin, copy: Path, service: ServicePlan, options: Options, blueprint: str | None
) -> Change:
    root = _root(copy, service)
    command = options.build_command or service.build_command
    deps = read_service_plan(copy, root, command, service.env, Target(service.python.version))
    if deps.lock is not None:
        kind, path, _ = deps.lock
        tool = "uv lock --upgrade-package" if kind == "uv.lock" else "poetry update"
        raise FixNotApplicable(
            f"the build installs from {_relative(copy, path)}, which pins every version: "
            f"update the lock with `{tool} {action.package}` (render-sim does not rewrite lockfiles)"
        )
    edits = _Edits(copy)
    wanted = [Requirement(action.package, action.specifier), *action.also]
    new_command = command
    declared = [*deps.requirements.lines, *deps.requirements.constraints]
    for requirement in wanted:
        hits = [
            (text, where) for text, where in declared if _same_package(text, requirement.package)
        ]
        for text, where in hits:
            new_command = _rewrite(edits, text, where, requirement.specifier, new_command, root)
        if not hits:
            _add_pin(edits, requirement, deps.requirements.lines, deps.requirements.files)
    files = edits.write()
    summary = " and ".join(f"{r.package}{r.specifier}" for r in wanted)
    lines = list(edits.notes)
    if new_command != command:
        options = replace(options, build_command=new_command)
        lines.append(build_command_instructions(new_command, service.name, blueprint))
    if files:
        lines.append("the diff below makes these changes (`git apply` takes it)")
    return Change(summary, "\n".join(lines), options, files)


def _rewrite(edits: _Edits, text: str, where: str, specifier: str, command: str, root: Path) -> str:
    """Rewrite the declaration `text` found at `where`; returns the (new) build command."""
    new = pinned_requirement(text, specifier)
    if where == "build command":
        # the requirement as a whole shell word, bare or quoted
        word = re.compile(rf"""(?<![^\s'"]){re.escape(text)}(?![^\s'"])""")
        if word.search(command):
            edits.notes.append(f"in the build command, change {text} to {new}")
            return word.sub(lambda _: new, command)
        for script in sorted(root.rglob("*.sh")):
            shown = _relative(edits.copy, script)
            content = edits.text(shown)
            if word.search(content):
                edits.set(shown, word.sub(lambda _: new, content))
                edits.notes.append(f"in {shown}, change {text} to {new}")
                return command
        raise FixNotApplicable(f"could not find where the build command installs {text}")
    if " [" in where:  # pyproject.toml [project].dependencies[0], [tool.poetry.dependencies], ...
        shown, table = where.split(" [", 1)
        content = edits.text(shown)
        if table.startswith("tool.poetry"):
            table = table.rstrip("]")
            updated = _rewrite_poetry(content, table, text, specifier)
            new = f"{Pep508(text).name} = {json.dumps(specifier)} in [{table}]"
        else:
            updated = content
            for quote in ('"', "'"):
                updated = updated.replace(f"{quote}{text}{quote}", f"{quote}{new}{quote}")
        if updated == content:
            raise FixNotApplicable(f"could not find {text} in {shown}")
        edits.set(shown, updated)
        edits.notes.append(f"in {shown}, change {text} to {new}")
        return command
    place = location(where)
    content = edits.text(place.file)
    lines = content.splitlines(keepends=True)
    if not 0 < place.line <= len(lines):
        raise FixNotApplicable(f"{where} is not in {place.file}")
    line = lines[place.line - 1]
    if text in line:
        lines[place.line - 1] = line.replace(text, new, 1)
    elif line.rstrip().endswith("\\"):
        raise FixNotApplicable(f"{where} continues on the next line: change {text} by hand")
    else:  # ${VAR} expanded: replace the requirement, keep indentation, options and comment
        match = re.match(r"(\s*)(\S+)(.*)", line, re.DOTALL)
        assert match is not None
        lines[place.line - 1] = f"{match[1]}{new}{match[3]}"
    edits.set(place.file, "".join(lines))
    edits.notes.append(f"in {place.file}, line {place.line}, change {text} to {new}")
    return command


def _rewrite_poetry(content: str, table: str, text: str, specifier: str) -> str:
    """Set the Poetry dependency `text` of `[table]` to `specifier` (string or inline table)."""
    name = canonicalize_name(Pep508(text).name)
    lines = content.splitlines(keepends=True)
    inside = False
    for number, line in enumerate(lines):
        header = re.match(r"\s*\[([^\[\]]+)\]\s*(#.*)?$", line)
        if header:
            inside = header[1].strip() == table
            continue
        key = re.match(r"""(\s*["']?)([A-Za-z0-9._-]+)(["']?\s*=\s*)(.*)""", line, re.DOTALL)
        if not inside or not key or canonicalize_name(key[2]) != name:
            continue
        value = key[4]
        if value.lstrip().startswith(("'", '"')):
            value = re.sub(r"""(["']).*?\1""", f'"{specifier}"', value, count=1)
        elif re.search(r"""version\s*=\s*["']""", value):
            value = re.sub(
                r"""(version\s*=\s*)(["']).*?\2""", rf'\g<1>"{specifier}"', value, count=1
            )
        else:
            raise FixNotApplicable(f"{table}.{key[2]} has no version to change")
        lines[number] = f"{key[1]}{key[2]}{key[3]}{value}"
        return "".join(lines)
    return content


def _add_pin(
    edits: _Edits, requirement: Requirement, lines: list[tuple[str, str]], files: list[str]
) -> None:
    """Pin a package nothing declares (a dependency of a dependency) where the build installs."""
    line = f"{requirement.package}{requirement.specifier}"
    installed = [f for f in files if any(where.startswith(f"{f}:") for _, where in lines)]
    if installed:
        shown = installed[0]
        content = edits.text(shown)
        if content and not content.endswith("\n"):
            content += "\n"
        edits.set(shown, content + line + "\n")
        edits.notes.append(
            f"add {line} to {shown} ({requirement.package} is a dependency of a dependency: "
            "the line makes pip choose that version)"
        )
        return
    projects = [f for f in files if f.endswith("pyproject.toml")]
    for shown in projects:
        content = edits.text(shown)
        match = re.search(r"^\[project\][^\[]*?^dependencies\s*=\s*\[", content, re.M | re.S)
        if match:
            edits.set(shown, f'{content[: match.end()]}\n    "{line}",{content[match.end() :]}')
            edits.notes.append(f"add {line} to [project].dependencies in {shown}")
            return
    raise FixNotApplicable(
        f"{requirement.package} is not declared anywhere render-sim can rewrite, and the build "
        "installs no requirements file to add the pin to"
    )


# -- the rebuild --------------------------------------------------------------------------------


def _took_effect(action: FixAction, service: ServicePlan) -> str:
    """Why the planned rebuild does not carry the change ("" when it does)."""
    if isinstance(action, SetEnv) and action.key == SOURCE_ENV:
        if service.python.version != action.value:
            return f"the rebuild's plan picked Python {service.python.version}"
    elif isinstance(action, SetEnv) and service.env.get(action.key) != action.value:
        return f"{action.key} is also set by --env-file, which wins: change it there"
    elif isinstance(action, PythonVersionFile) and service.python.source != SOURCE_FILE:
        return (
            f"Python is chosen by {service.python.source} ({service.python.requested}), "
            "which wins over .python-version"
        )
    return ""


def verify_fix(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    result: BuildResult,
    options: Options,
    *,
    base_image: str | None = None,
    pull: bool = True,
    keep: bool = False,
    echo: Echo | None = None,
    progress: Callable[[str], None] | None = None,
    on_start: Callable[[int, Fix, Change], None] | None = None,
    index: PackageIndex | None = None,
) -> Verification:
    """Apply the first fix with an action to a copy of the repo and simulate the copy again.

    `result` is the original build's (with its diagnosis). `on_start(number, fix, change)` is
    called once the change is applied, before the rebuild starts; `echo` gets the rebuild's log.
    Only UsageError and Ctrl-C escape: a rebuild that cannot run is a NOT_RUN verification.
    """
    if result.succeeded:
        return Verification(service.name, NOT_NEEDED, result)
    found = first_actionable_fix(result.diagnosis)
    if found is None:
        return Verification(service.name, NO_ACTION, result)
    number, fix = found
    assert fix.action is not None
    verification = Verification(service.name, NOT_APPLIED, result, fix, number)
    with tempfile.TemporaryDirectory(prefix="render-sim-verify-") as scratch:
        # the repo's own name: the log is named the same, and a service without render.yaml too
        copy = Path(scratch) / (plan.repo.name or "repo")
        copy.mkdir()
        copy_files(plan.repo, files_to_copy(plan, service), copy)
        # A cold first deploy: a cache volume per copy would outlive it, and a fix that works
        # without a cache works with one.
        cold = replace(options, build_cache=False, clear_cache=False)
        try:
            change = apply_fix(fix.action, copy, service, cold)
        except FixNotApplicable as error:
            verification.reason = str(error)
            return verification
        except RenderSimError as error:
            verification.reason, verification.hint = str(error), error.hint
            return verification
        verification.change = change
        try:
            rebuilt = make_plan(copy, change.options, client=client)
            again = rebuilt.services[0]
            verification.plan_warnings = [*again.warnings, *rebuilt.warnings]
            missed = _took_effect(fix.action, again)
            if missed:
                verification.reason = missed
                return verification
            if on_start is not None:
                on_start(number, fix, change)
            image, base = build_image(
                client,
                rebuilt,
                again,
                base_image=base_image,
                pull=pull,
                progress=progress or (lambda _: None),
            )
            outcome = simulate_service(
                client,
                rebuilt,
                again,
                image=image,
                base=base,
                echo=echo or (lambda _k, _l: None),
                keep=keep,
            )
            if not outcome.succeeded:
                outcome.diagnosis = diagnose(rebuilt, again, outcome, index)
        except UsageError:
            raise
        except RenderSimError as error:
            verification.status = NOT_RUN
            verification.reason, verification.hint = str(error), error.hint
            return verification
    verification.result = outcome
    verification.status = VERIFIED if outcome.succeeded else STILL_FAILS
    return verification


# -- the report ---------------------------------------------------------------------------------


def print_start(console: Console, number: int, fix: Fix, change: Change) -> None:
    """What the console says before the rebuild: which fix, on what, with which change."""
    console.rule("verify fix")
    console.print(
        Text(
            f"Fix {number} of the diagnosis ({fix.title}), applied to a copy of the repo (the "
            f"repo itself is not touched) and built again from a cold cache: {change.summary}"
        )
    )


def print_verification(verification: Verification, console: Console) -> None:
    """The verdict: the repo as it is fails, and the change that makes it pass (or why not)."""
    console.print()
    if verification.status == NOT_NEEDED:
        console.print(Text(verification.message, style="bold green"))
        return
    if verification.verified:
        assert verification.change is not None
        console.print(Text("✓ " + verification.message, style="bold green"))
        console.print(
            f"The repo as it is fails ({verification.original.outcome}, above). "
            f"This change, fix {verification.fix_number} of the diagnosis, makes its build pass:"
        )
        console.print(Text(_indent(verification.change.instructions)))
        diff = verification.change.diff()
        if diff:
            console.print()
            console.print(Text(diff.rstrip("\n")))
        return
    console.print(Text("✗ " + verification.message, style="bold red"))
    if verification.hint:
        console.print(f"[bold]fix:[/] {escape(verification.hint)}", soft_wrap=True)
    if verification.status == NO_ACTION:
        console.print("Try the fixes of the diagnosis above by hand.")
    elif verification.change is not None and verification.status in (STILL_FAILS, NOT_APPLIED):
        console.print(f"The change tried: {escape(verification.change.summary)}")


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())

"""What a service's build command installs: pip arguments, `uv sync`, `poetry install`.

`read_service_plan` splits the command (and one level of shell scripts) into commands, reads
the requirements, pyproject.toml or lockfile each names, and falls back to requirements.txt,
then pyproject.toml, when the command names no dependency file.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.config.dep_files import Requirements, read_text, relative, requirement_name
from simulator.config.pyproject_deps import poetry_default_groups, read_pyproject_requirements
from simulator.config.requirements_files import (
    FLAGS,
    OPTION_WITH_VALUE,
    RequirementsReader,
    split_option,
)
from simulator.config.source import inside_repo
from simulator.errors import ConfigurationError
from simulator.render.target import Target


@dataclass
class DependencyPlan:
    """What one service's build installs: pip requirements and/or a lockfile."""

    requirements: Requirements = field(default_factory=Requirements)
    uses_pip: bool = False
    lock: tuple[str, Path, dict[str, Any]] | None = None  # ("uv.lock"|"poetry.lock", path, opts)
    notes: list[str] = field(default_factory=list)
    inferred: str = ""  # how the dependency file was chosen when the command did not say
    runs_docker: bool = False  # the command calls docker, which Render's native build lacks


_PIP_PREFIXES = (
    ("pip", "install"),
    ("pip3", "install"),
    ("python", "-m", "pip", "install"),
    ("python3", "-m", "pip", "install"),
    ("uv", "pip", "install"),
)
_PIP_IGNORED_WITH_VALUE = {
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--cache-dir",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--timeout",
    "--retries",
    "--log",
    "--proxy",
    "--python",
    "-p",
    "--report",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--root-user-action",
}


def shell_commands(text: str) -> Iterator[tuple[list[str], dict[str, str], str]]:
    """The simple commands of a shell text, split at `&&`, `||`, `;`, `|` and newlines: each
    as (words, the `VAR=value` assignments before them, the command as written)."""
    for part in re.split(r"&&|\|\||;|\n|\|", text):
        part = part.strip()
        if not part:
            continue
        try:
            tokens = shlex.split(part, comments=True)
        except ValueError:
            tokens = part.split()
        assignments: dict[str, str] = {}
        while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
            name, _, value = tokens[0].partition("=")  # VAR=value command ...
            assignments[name] = value
            tokens = tokens[1:]
        if tokens or assignments:
            yield tokens, assignments, part


def _commands(text: str) -> Iterator[list[str]]:
    for tokens, _, _ in shell_commands(text):
        if tokens:
            yield tokens


def pip_install_args(tokens: list[str]) -> list[str] | None:
    """The arguments after `pip install` (pip, pip3, python -m pip, uv pip, a venv's pip);
    None when the command is not an install."""
    words = [Path(tokens[0]).name, *tokens[1:]]
    for prefix in _PIP_PREFIXES:
        if tuple(re.sub(r"3\.\d+$", "", w) for w in words[: len(prefix)]) == prefix:
            return tokens[len(prefix) :]
    return None


class CommandReader:
    """Finds what a build command installs (pip, uv, poetry; one level of shell scripts)."""

    def __init__(self, repo: Path, root: Path, reader: RequirementsReader) -> None:
        self.repo = repo
        self.root = root
        self.reader = reader

    def read(
        self, command: str, plan: DependencyPlan, cwd: Path | None = None, depth: int = 0
    ) -> Path:
        cwd = cwd or self.root
        for tokens in _commands(command):
            name = Path(tokens[0]).name
            if name in ("docker", "docker-compose", "podman", "buildah"):
                plan.runs_docker = True
                continue
            if name == "cd" and len(tokens) > 1:
                cwd = (cwd / tokens[1]).resolve()
                continue
            if name in ("sh", "bash") and len(tokens) > 1 and tokens[1].endswith(".sh"):
                tokens = tokens[1:]
            if tokens[0].endswith(".sh") and depth == 0:
                script = cwd / tokens[0]
                if script.is_file() and not inside_repo(self.repo, script):
                    plan.notes.append(
                        f"the build script {relative(self.repo, script)} is outside the "
                        "repository: not read (Render's checkout holds only the repository)"
                    )
                elif script.is_file():
                    shown = relative(self.repo, script)
                    text = read_text(script, shown, what="build script", repo=self.repo)
                    plan.notes.append(f"read the build script {shown}")
                    cwd = self.read(text, plan, cwd, depth + 1)
                continue
            if name in ("pip", "pip3", "python", "python3", "uv"):
                args = self._pip_args(tokens)
                if args is not None:
                    self._pip(args, cwd, plan)
                    continue
            if name == "uv" and len(tokens) > 1 and tokens[1] == "sync":
                self._uv_sync(tokens[2:], cwd, plan)
            elif name == "poetry" and len(tokens) > 1 and tokens[1] == "install":
                self._poetry_install(tokens[2:], cwd, plan)
            elif name in ("pipenv", "pdm", "conda", "hatch"):
                plan.notes.append(
                    f"`{' '.join(tokens[:2])}` is not read: render-sim reads pip, uv and poetry"
                )
        return cwd

    @staticmethod
    def _pip_args(tokens: list[str]) -> list[str] | None:
        return pip_install_args(tokens)

    def _pip(self, args: list[str], cwd: Path, plan: DependencyPlan) -> None:
        into = plan.requirements
        before = (len(into.lines), len(into.direct), len(into.files), len(into.constraints))
        named: list[str] = []
        position = 0
        while position < len(args):
            token = args[position]
            if not token.startswith("-"):
                named.append(token)
                self.reader.requirement(token, cwd, "build command", into)
                position += 1
                continue
            option = token.split("=", 1)[0] if token.startswith("--") else token
            if option in _PIP_IGNORED_WITH_VALUE:
                position += 1 if "=" in token else 2
                continue
            short_with_value = len(token) > 2 and token[:2] in ("-r", "-c", "-i", "-f", "-e")
            if option in OPTION_WITH_VALUE or short_with_value:
                option, value, position = split_option(args, position)
                self.reader.option(option, value, cwd, "build command", into)
                continue
            if option in FLAGS:
                self.reader.option(option, None, cwd, "build command", into)
            position += 1  # -U, -q, --no-cache-dir, ...: no bearing on what is installed
        added_only_named = (len(into.direct), len(into.files), len(into.constraints)) == (
            before[1],
            before[2],
            before[3],
        )
        tools = {"pip", "setuptools", "wheel"}
        if added_only_named and named and {requirement_name(n) for n in named} <= tools:
            del into.lines[before[0] :]  # `pip install --upgrade pip`: says nothing about the app
            return
        if (len(into.lines), len(into.direct), len(into.files), len(into.constraints)) != before:
            plan.uses_pip = True

    def _uv_sync(self, args: list[str], cwd: Path, plan: DependencyPlan) -> None:
        options: dict[str, Any] = {"dev": True, "extras": [], "all_extras": False, "groups": []}
        position = 0
        while position < len(args):
            token = args[position]
            value = args[position + 1] if position + 1 < len(args) else ""
            if token in ("--no-dev", "--only-prod"):
                options["dev"] = False
            elif token == "--all-extras":
                options["all_extras"] = True
            elif token in ("--extra",):
                options["extras"].append(value)
                position += 1
            elif token in ("--group", "--only-group"):
                options["groups"].append(value)
                if token == "--only-group":
                    options["dev"] = False
                position += 1
            elif token.startswith("--extra="):
                options["extras"].append(token.split("=", 1)[1])
            elif token.startswith("--group="):
                options["groups"].append(token.split("=", 1)[1])
            position += 1
        lock = cwd / "uv.lock"
        if lock.exists():
            plan.lock = ("uv.lock", lock, options)
        else:
            plan.notes.append(
                "`uv sync` without uv.lock resolves pyproject.toml on Render: render-sim "
                "resolves the same dependencies with pip"
            )
            self._project(cwd, plan, groups=("dev",) if options["dev"] else ())

    def _poetry_install(self, args: list[str], cwd: Path, plan: DependencyPlan) -> None:
        groups = ["main", *poetry_default_groups(cwd / "pyproject.toml")]
        extras: list[str] = []
        position = 0
        while position < len(args):
            token = args[position]
            value = args[position + 1] if position + 1 < len(args) else ""
            if token == "--no-dev" or (token == "--only" and value == "main"):
                groups = ["main"]
            elif token in ("--without",):
                groups = [g for g in groups if g not in value.split(",")]
            elif token in ("--with",):
                groups += value.split(",")
            elif token in ("--only",):
                groups = value.split(",")
            elif token in ("-E", "--extras"):
                extras += value.split()
            for prefix in ("--without=", "--with=", "--only="):
                if token.startswith(prefix):
                    chosen = token.split("=", 1)[1].split(",")
                    if prefix == "--without=":
                        groups = [g for g in groups if g not in chosen]
                    elif prefix == "--with=":
                        groups += chosen
                    else:
                        groups = chosen
            position += 1
        lock = cwd / "poetry.lock"
        if lock.exists():
            plan.lock = ("poetry.lock", lock, {"groups": groups, "extras": extras})
        else:
            plan.notes.append(
                "`poetry install` without poetry.lock resolves pyproject.toml on Render: "
                "render-sim resolves the same dependencies with pip"
            )
            self._project(cwd, plan, groups=[g for g in groups if g != "main"])

    def _project(self, cwd: Path, plan: DependencyPlan, groups: Sequence[str] = ()) -> None:
        plan.uses_pip = True
        read_pyproject_requirements(
            self.repo, cwd, self.reader.target, groups=groups, into=plan.requirements
        )


def read_service_plan(
    repo: Path, root: Path, build_command: str, env: Mapping[str, str], target: Target
) -> DependencyPlan:
    """What the service's build command installs; when it names no dependency file, what
    render-sim falls back to (requirements.txt, then pyproject.toml)."""
    reader = RequirementsReader(repo, env, target)
    plan = DependencyPlan()
    CommandReader(repo, root, reader).read(build_command, plan)
    if plan.lock is None and plan.requirements.empty() and not plan.requirements.files:
        if plan.runs_docker:
            # `docker build ...` installs nothing here: guessing requirements.txt would check
            # what this build never installs.
            raise ConfigurationError(
                f"the build command `{build_command}` runs docker, which Render's native Python "
                "build does not have, and installs nothing with pip, uv or Poetry",
                hint="for a Dockerfile use a Docker service (`runtime: docker`); otherwise "
                "install with pip, e.g. `pip install -r requirements.txt`",
            )
        if (root / "requirements.txt").exists():
            plan.inferred = "requirements.txt"
            reader.read_file(root / "requirements.txt", plan.requirements)
        elif (root / "pyproject.toml").exists():
            plan.inferred = "pyproject.toml"
            read_pyproject_requirements(repo, root, target, into=plan.requirements)
        else:
            raise ConfigurationError(
                f"the build command `{build_command}` installs nothing render-sim can read, and "
                f"{relative(repo, root) if root != repo else 'the repo'} has no requirements.txt "
                "or pyproject.toml",
                hint="render-sim check reads pip requirements files, pyproject.toml, uv.lock "
                "and poetry.lock",
            )
        plan.uses_pip = True
        plan.notes.append(
            f"the build command names no dependency file: render-sim read {plan.inferred}"
        )
    return plan

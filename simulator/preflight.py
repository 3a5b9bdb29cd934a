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

Results are plain data (`CheckReport`); `simulator.preflight_view` shows them. The exit code is
`CheckReport.exit_code`: 0 when nothing is built from source, 1 otherwise.
"""

from __future__ import annotations

import contextlib
import email.parser
import io
import json
import os
import re
import shlex
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from simulator import __version__
from simulator.blueprint import find_blueprint
from simulator.catalogue import load_rules
from simulator.culprit import Culprit
from simulator.diagnosis import DiagnosisContext, Fix, PackageRef, PythonInfo
from simulator.errors import ConfigurationError, InputError, Location, RenderSimError
from simulator.fixes import FixInputs, build_fixes
from simulator.logtext import Hit, ScannedLog
from simulator.mentions import Mention
from simulator.plan import BuildPlan, Options, ServicePlan, make_plan
from simulator.python_in_log import python_fields
from simulator.wheels import (
    RENDER_GLIBC,
    DistFile,
    PackageIndex,
    compatible_wheel,
    wheel_installs_on,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

PYPI_SIMPLE = "https://pypi.org/simple"
MAX_TEXT_BYTES = 5 * 1024 * 1024
MAX_SDIST_BYTES = 30 * 1024 * 1024
MAX_ROUNDS = 5
PIP_TIMEOUT_S = 600.0
STUB_PATH = "stand-in"
NO_WHEEL_CLASS = "no-wheel-python-too-new"  # the rule whose fixes a source build gets

#: Why a release would be built from source (`SourceBuild.reason`).
REASONS: dict[str, str] = {
    "sdist-only": "the release publishes only a source distribution",
    "older-pythons": "its Linux wheels stop at an older Python",
    "musllinux-only": "its Linux wheels for this Python are musllinux (Alpine) only",
    "glibc-too-new": "its Linux wheels need a newer glibc than Debian 12's 2.36",
    "other-platforms": "it has no Linux x86_64 wheel (only other platforms)",
    "no-wheel-for-python": "no wheel for this Python",
    "no-binary": "the requirements ask pip not to use wheels for it (--no-binary)",
    "direct-reference": "it is installed from a VCS or archive URL, which pip always builds",
}


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceBuild:
    """One package Render's pip would build from source, why, and how to avoid it."""

    name: str
    version: str | None
    reason: str  # a key of REASONS
    why: str  # one sentence naming the Python, the tags, the files
    required_by: tuple[str, ...] = ()  # "pydantic 2.9.2", or "requirements.txt" when direct
    direct: bool = False  # asked for by the requirements themselves
    wheel_pythons: tuple[str, ...] = ()  # minors with Linux x86_64 glibc wheels, newest first
    dependencies_known: bool = True  # False: its own dependencies could not be read
    fixes: tuple[Fix, ...] = ()

    def __str__(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "reason": self.reason,
            "why": self.why,
            "required_by": list(self.required_by),
            "direct": self.direct,
            "wheel_pythons": list(self.wheel_pythons),
            "dependencies_known": self.dependencies_known,
            "fixes": [fix.to_dict() for fix in self.fixes],
        }


@dataclass(frozen=True)
class Problem:
    """Something that makes the install fail on Render whatever is built (no release fits, a
    conflict, a Python the project refuses)."""

    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "hint": self.hint}


@dataclass(frozen=True)
class ServiceCheck:
    """The check of one service: what was read, what was resolved, what would be compiled."""

    name: str
    root_dir: str
    build_command: str
    python: str  # full version, e.g. "3.14.3"
    python_source: str  # "PYTHON_VERSION", ".python-version" or "default"
    method: str  # "pip" (resolved), "uv.lock", "poetry.lock", or "pip+uv.lock", ...
    inputs: tuple[str, ...]  # the files read, relative to the repo
    packages: int  # how many distributions the install would have
    source_builds: tuple[SourceBuild, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # limits of this check and options not honoured
    warnings: tuple[str, ...] = ()  # the plan's warnings (runtime.txt ignored, ...)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.source_builds and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "root_dir": self.root_dir,
            "build_command": self.build_command,
            "python": {"version": self.python, "source": self.python_source},
            "method": self.method,
            "inputs": list(self.inputs),
            "packages": self.packages,
            "ok": self.ok,
            "source_builds": [item.to_dict() for item in self.source_builds],
            "problems": [item.to_dict() for item in self.problems],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class CheckReport:
    repo: Path
    index_url: str
    services: tuple[ServiceCheck, ...]
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when no service builds anything from source and none fails; else 1."""
        return 0 if all(service.ok for service in self.services) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "index_url": self.index_url,
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "services": [service.to_dict() for service in self.services],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 2),
        }


class IndexUnavailableError(InputError):
    """The package index could not be read, so nothing could be checked."""


# -- the target ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The interpreter and platform of Render's build: CPython X.Y.Z, Linux x86_64, glibc 2.36."""

    version: str  # "3.14.3"
    glibc: tuple[int, int] = RENDER_GLIBC

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def series(self) -> str:
        return f"{self.minor[0]}.{self.minor[1]}"

    @property
    def cp_tag(self) -> str:
        return f"cp{self.minor[0]}{self.minor[1]}"

    @property
    def abi(self) -> str:
        """The ABI tag: cp37m up to 3.7 (pymalloc builds), cp38 and on without the `m`."""
        return self.cp_tag + "m" if self.minor < (3, 8) else self.cp_tag

    def platforms(self) -> list[str]:
        """Every platform tag pip accepts on this glibc, newest first (pip does not expand
        `manylinux_2_36` by itself when given as --platform)."""
        tags = [f"manylinux_{self.glibc[0]}_{m}_x86_64" for m in range(self.glibc[1], 4, -1)]
        legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
        tags += [f"{alias}_x86_64" for floor, alias in legacy.items() if floor <= self.glibc]
        return [*tags, "linux_x86_64"]

    def environment(self, extra: str = "") -> dict[str, str]:
        """PEP 508 marker values on Render's build machine."""
        return {
            "implementation_name": "cpython",
            "implementation_version": self.version,
            "os_name": "posix",
            "platform_machine": "x86_64",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": self.version,
            "platform_python_implementation": "CPython",
            "python_version": self.series,
            "sys_platform": "linux",
            "extra": extra,
        }

    def marker_holds(self, marker: str | Marker | None, extras: Iterable[str] = ()) -> bool:
        if marker is None or marker == "":
            return True
        try:
            parsed = marker if isinstance(marker, Marker) else Marker(marker)
            return any(parsed.evaluate(self.environment(e)) for e in ["", *extras])
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return True

    def allows(self, requires_python: str | None) -> bool:
        if not requires_python:
            return True
        try:
            return SpecifierSet(requires_python).contains(self.version, prereleases=True)
        except InvalidSpecifier:
            return True


# -- reading files ------------------------------------------------------------------------------


def read_text(path: Path, shown: str, *, what: str = "file") -> str:
    """A dependency file's text; a clear error (never a traceback) when it cannot be used."""
    if not path.exists():
        raise ConfigurationError(
            f"{shown} does not exist",
            hint=f"commit the {what}, or fix the path in the build command",
            where=Location(shown),
        )
    if not path.is_file():
        raise ConfigurationError(f"{shown} is not a file", where=Location(shown))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {shown}: {error.strerror or error}") from error
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(
            f"{shown} is {len(data) / 1024**2:.0f} MB: too large for a {what}",
            hint="point the build command at the real dependency file",
        )
    if b"\x00" in data[:8192]:
        raise InputError(
            f"{shown} is a binary file, not a {what}",
            hint="requirements and lockfiles are text; check the path in the build command",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{shown} is not UTF-8 text (byte {error.start})",
            hint="save the file as UTF-8",
        ) from error
    if not text.strip():
        raise InputError(
            f"{shown} is empty",
            hint="list the dependencies in it, or remove it from the build command",
        )
    return text


def _read_toml(path: Path, shown: str, what: str) -> dict[str, Any]:
    if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
        raise RenderSimError(
            f"reading {shown} needs the tomli package on Python 3.10",
            hint="pip install tomli",
        )
    text = read_text(path, shown, what=what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            f"{shown} is not valid TOML: {error}", where=Location(shown)
        ) from error


def _relative(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# -- requirements -------------------------------------------------------------------------------


@dataclass
class Requirements:
    """What one resolution installs: requirement lines, constraints, and pip options."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (PEP 508 text, where)
    constraints: list[tuple[str, str]] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    pre: bool = False
    no_deps: bool = False
    no_binary: set[str] = field(default_factory=set)  # canonical names, or ":all:"
    direct: list[SourceBuild] = field(default_factory=list)  # VCS/URL requirements
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def empty(self) -> bool:
        return not self.lines and not self.direct


_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_VCS = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|whl)$", re.IGNORECASE)
_OPTION_WITH_VALUE = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "-f": "find-links",
    "--find-links": "find-links",
    "--no-binary": "no-binary",
    "--only-binary": "only-binary",
    "-e": "editable",
    "--editable": "editable",
    "--trusted-host": "ignored",
    "--use-feature": "ignored",
    "--config-settings": "ignored",
    "-C": "ignored",
    "--global-option": "ignored",
    "--hash": "ignored",
}
_FLAGS = {
    "--pre": "pre",
    "--no-index": "no-index",
    "--prefer-binary": "prefer-binary",
    "--require-hashes": "require-hashes",
    "--no-deps": "no-deps",
}


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """pip's reading of a requirements file: joined continuation lines, comments removed."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw
        if line.endswith("\\") and not _COMMENT.search(line):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if joined:
            yield start, joined
    if pending:
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        if joined:
            yield start, joined


def _split_option(tokens: list[str], position: int) -> tuple[str, str | None, int]:
    """(option, value, next position) for `-r x`, `-rx`, `--requirement=x`."""
    token = tokens[position]
    if token.startswith("--") and "=" in token:
        name, given = token.split("=", 1)
        return name, given, position + 1
    if token in _OPTION_WITH_VALUE:
        value = tokens[position + 1] if position + 1 < len(tokens) else None
        return token, value, position + 2
    if len(token) > 2 and token[:2] in ("-r", "-c", "-i", "-f", "-e") and token[1] != "-":
        return token[:2], token[2:], position + 1
    return token, None, position + 1


class RequirementsReader:
    """Reads pip requirements (files with includes, command-line arguments) into `Requirements`."""

    def __init__(self, repo: Path, env: Mapping[str, str], target: Target) -> None:
        self.repo = repo
        self.env = env
        self.target = target
        self._seen: set[Path] = set()

    def read_file(
        self, path: Path, into: Requirements, *, constraint: bool = False, where: str = ""
    ) -> None:
        shown = _relative(self.repo, path)
        if not path.exists():
            raise ConfigurationError(
                f"{shown} does not exist",
                hint="pip fails with `Could not open requirements file`: commit the file or "
                "fix the path",
                where=_location(where) if where else Location(shown),
            )
        resolved = path.resolve()
        if resolved in self._seen:
            return  # pip reads an included file once per chain; a cycle would loop
        self._seen.add(resolved)
        text = read_text(path, shown, what="requirements file")
        into.files.append(shown)
        found = False
        for number, line in _logical_lines(text):
            found = True
            self._line(line, path, shown, number, into, constraint)
        if not found:
            raise InputError(
                f"{shown} lists no requirements (only comments or blank lines)",
                hint="list the dependencies in it, or remove it from the build command",
            )

    def _expand(self, line: str, shown: str, number: int, into: Requirements) -> str:
        def value(match: re.Match[str]) -> str:
            name = match["name"]
            if name in self.env:
                return self.env[name]
            into.notes.append(
                f"{shown}:{number} uses ${{{name}}}, which the service does not set: "
                "pip leaves it as it is"
            )
            return match[0]

        return _ENV_VAR.sub(value, line)

    def _line(
        self,
        line: str,
        path: Path,
        shown: str,
        number: int,
        into: Requirements,
        constraint: bool,
    ) -> None:
        line = self._expand(line, shown, number, into)
        where = f"{shown}:{number}"
        if line.startswith("-"):
            try:
                tokens = shlex.split(line)
            except ValueError:
                tokens = line.split()
            position = 0
            while position < len(tokens):
                option, value, position = _split_option(tokens, position)
                self.option(option, value, path.parent, where, into, constraint)
            return
        self.requirement(line, path.parent, where, into, constraint)

    def option(
        self,
        option: str,
        value: str | None,
        base: Path,
        where: str,
        into: Requirements,
        constraint: bool = False,
    ) -> None:
        kind = _OPTION_WITH_VALUE.get(option) or _FLAGS.get(option)
        if kind is None:
            into.notes.append(f"{where}: pip option {option} is not taken into account")
            return
        if kind in _OPTION_WITH_VALUE.values() and value is None:
            raise ConfigurationError(f"{option} needs a value", where=_location(where))
        assert value is not None or kind in _FLAGS.values()
        if kind in ("requirement", "constraint"):
            assert value is not None
            if _URL.match(value):
                into.notes.append(f"{where}: {value} is a URL; render-sim does not read it")
                return
            self.read_file(
                base / value, into, constraint=constraint or kind == "constraint", where=where
            )
        elif kind == "index-url":
            into.index_url = value
        elif kind == "extra-index-url":
            assert value is not None
            into.extra_index_urls.append(value)
        elif kind == "find-links":
            assert value is not None
            link = value if _URL.match(value) else str((base / value).resolve())
            into.find_links.append(link)
        elif kind == "no-binary":
            assert value is not None
            into.no_binary |= {
                ":all:" if v == ":all:" else canonicalize_name(v)
                for v in value.split(",")
                if v and v != ":none:"
            }
        elif kind == "only-binary":
            into.notes.append(
                f"{where}: --only-binary {value}: Render's pip will fail rather than build the "
                "packages it covers; every source build listed below is then a failure"
            )
        elif kind == "editable":
            assert value is not None
            self.requirement(value, base, where, into, constraint, editable=True)
        elif kind == "pre":
            into.pre = True
        elif kind == "no-deps":
            into.no_deps = True
        elif kind == "no-index":
            into.notes.append(
                f"{where}: --no-index: Render's pip reads only --find-links; render-sim still "
                "asks the index"
            )
        elif kind == "prefer-binary":
            into.notes.append(
                f"{where}: --prefer-binary: Render's pip takes an older release with a wheel over "
                "a newer one without; render-sim assumes the newest, so a listed package may "
                "install as an older wheel"
            )
        elif kind == "require-hashes":
            into.notes.append(f"{where}: hashes are not checked")

    def requirement(
        self,
        text: str,
        base: Path,
        where: str,
        into: Requirements,
        constraint: bool = False,
        *,
        editable: bool = False,
    ) -> None:
        # Per-requirement options (--hash=..., --config-settings ...) follow the requirement.
        text = re.split(r"\s+--?[a-zA-Z]", " " + text, maxsplit=1)[0].strip()
        if not text:
            return
        if _VCS.match(text) or (_URL.match(text) and not text.lower().endswith(".whl")):
            name = _name_from_url(text)
            into.direct.append(
                SourceBuild(
                    name=name,
                    version=None,
                    reason="direct-reference",
                    why=f"{text} is a VCS or archive URL: pip builds it from source on every "
                    "deploy (its own dependencies are not checked here)",
                    required_by=(where,),
                    direct=True,
                    dependencies_known=False,
                )
            )
            return
        local = self._local_path(text, base)
        if local is not None:
            self._local_project(local, text, where, into, editable)
            return
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise ConfigurationError(
                f"{text!r} is not a valid requirement: {str(error).splitlines()[0]}",
                hint="pip stops with `Invalid requirement`; fix the line",
                where=_location(where),
            ) from error
        if requirement.url:
            if requirement.url.lower().endswith(".whl"):
                into.lines.append((text, where))
                return
            into.direct.append(
                SourceBuild(
                    name=requirement.name,
                    version=None,
                    reason="direct-reference",
                    why=f"{requirement.name} comes from {requirement.url}: pip builds it from "
                    "source on every deploy (its own dependencies are not checked here)",
                    required_by=(where,),
                    direct=True,
                    dependencies_known=False,
                )
            )
            return
        if constraint:
            into.constraints.append((text, where))
        else:
            into.lines.append((text, where))

    def _local_path(self, text: str, base: Path) -> Path | None:
        candidate = re.sub(r"\[[^\]]*\]$", "", text)
        if candidate.startswith("file:"):
            candidate = urllib.parse.urlparse(candidate).path
        looks_local = candidate in (".", "..") or candidate.startswith(("./", "../", "/"))
        looks_local = looks_local or (os.sep in candidate and not _URL.match(candidate))
        if not looks_local:
            return None
        return (base / candidate).resolve()

    def _local_project(
        self, path: Path, text: str, where: str, into: Requirements, editable: bool
    ) -> None:
        shown = _relative(self.repo, path) or "."
        if _ARCHIVE.search(path.name):
            if not path.is_file():
                into.problems.append(Problem(f"{where}: {shown} does not exist"))
            elif path.name.endswith(".whl"):
                into.lines.append((path.as_uri(), where))
            else:
                into.direct.append(
                    SourceBuild(
                        name=path.name,
                        version=None,
                        reason="direct-reference",
                        why=f"{shown} is a local source archive: pip builds it on every deploy",
                        required_by=(where,),
                        direct=True,
                        dependencies_known=False,
                    )
                )
            return
        if not path.is_dir():
            raise ConfigurationError(
                f"{shown} (named by {where}) does not exist",
                hint="pip fails on a path that is not in the checkout",
                where=Location(where),
            )
        if not (path / "pyproject.toml").is_file():
            into.notes.append(
                f"{where}: the local project {shown} has no pyproject.toml: its dependencies "
                "(in setup.py) are not read"
            )
            return
        extras = re.findall(r"\[([^\]]*)\]$", text)
        wanted = {e.strip() for e in extras[0].split(",")} if extras else set()
        project = read_pyproject_requirements(
            self.repo, path, self.target, extras=wanted, into=into, where=where
        )
        how = "in editable mode " if editable else ""
        into.notes.append(
            f"{where}: the local project {project or shown} is installed {how}by its own build "
            "backend, as on every deploy; its dependencies are checked"
        )


def _location(where: str) -> Location:
    """`requirements.txt:3` as a Location (anything else names the place as it is)."""
    file, _, line = where.rpartition(":")
    return Location(file, int(line)) if file and line.isdigit() else Location(where)


def _name_from_url(url: str) -> str:
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return egg[1]
    if "@" in url.split("://", 1)[0]:
        return url.split("@", 1)[0].strip()
    tail = urllib.parse.urlparse(url.split("+", 1)[-1]).path.rstrip("/").rsplit("/", 1)[-1]
    tail = re.sub(r"\.git$", "", tail.split("@", 1)[0])
    return re.sub(r"-\d.*$", "", tail) or url


# -- pyproject.toml -----------------------------------------------------------------------------


def read_pyproject_requirements(
    repo: Path,
    directory: Path,
    target: Target,
    *,
    extras: set[str] | None = None,
    groups: Sequence[str] = (),
    into: Requirements,
    where: str = "",
) -> str:
    """Add what `pip install <directory>` installs: [project] dependencies (with `extras`), or
    Poetry's [tool.poetry.dependencies] (and `groups`). Returns the project's name."""
    path = directory / "pyproject.toml"
    shown = _relative(repo, path)
    data = _read_toml(path, shown, "pyproject.toml")
    into.files.append(shown)
    project = data.get("project") if isinstance(data.get("project"), dict) else None
    poetry = (data.get("tool") or {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    extras = extras or set()
    name = ""
    python_spec: str | None = None
    found = False
    if project is not None:
        name = str(project.get("name") or "")
        python_spec = project.get("requires-python")
        deps = project.get("dependencies")
        if deps is not None and (
            not isinstance(deps, list) or not all(isinstance(d, str) for d in deps)
        ):
            raise ConfigurationError(
                f"{shown}: [project].dependencies must be a list of requirement strings",
                hint='write dependencies = ["fastapi==0.115.0", ...]',
                where=Location(shown, 0, "project.dependencies"),
            )
        if isinstance(deps, list):
            found = True
            for number, dep in enumerate(deps):
                into.lines.append((str(dep), f"{shown} [project].dependencies[{number}]"))
        elif "dependencies" in (project.get("dynamic") or []):
            into.notes.append(
                f"{shown} declares its dependencies as dynamic (read by its build backend): "
                "render-sim cannot read them without building the project"
            )
        optional = project.get("optional-dependencies") or {}
        for extra in sorted(extras):
            for dep in optional.get(extra, []) if isinstance(optional, dict) else []:
                into.lines.append((str(dep), f"{shown} [project.optional-dependencies].{extra}"))
    if isinstance(poetry, dict) and (not found or groups):
        name = name or str(poetry.get("name") or "")
        tables: list[tuple[str, Any]] = []
        if not found:
            tables.append(("tool.poetry.dependencies", poetry.get("dependencies")))
        for group in groups:
            group_table = ((poetry.get("group") or {}).get(group) or {}).get("dependencies")
            if group == "dev" and group_table is None:
                group_table = poetry.get("dev-dependencies")
            tables.append((f"tool.poetry.group.{group}.dependencies", group_table))
        for label, table in tables:
            if not isinstance(table, dict):
                continue
            found = True
            if label == "tool.poetry.dependencies" and isinstance(table.get("python"), str):
                python_spec = python_spec or poetry_specifier(table["python"])
            for dep_name, spec in table.items():
                if dep_name.lower() == "python":
                    continue
                line = poetry_requirement(
                    dep_name, spec, target, extras, into, f"{shown} [{label}]"
                )
                if line:
                    into.lines.append((line, f"{shown} [{label}]"))
    if not found and not (project or {}).get("dynamic"):
        into.notes.append(f"{shown} lists no dependencies")
    if python_spec and not target.allows(python_spec):
        into.problems.append(
            Problem(
                f"{name or shown} requires Python {python_spec}, and Render's build uses "
                f"{target.version}: the install stops there",
                hint="pin a Python the project allows (PYTHON_VERSION) or widen requires-python",
            )
        )
    return name


_POETRY_PART = re.compile(r"^\s*(?P<op>\^|~=|~|==|!=|>=|<=|>|<|=)?\s*(?P<version>[^\s,]+)\s*$")


def _bump(parts: list[int], position: int) -> str:
    head = parts[:position] + [parts[position] + 1]
    return ".".join(str(p) for p in head)


def poetry_specifier(spec: str) -> str | None:
    """A PEP 440 specifier for a Poetry constraint (`^1.2`, `~1.2.3`, `1.2.*`, `>=1,<2`);
    None for `*` and for alternatives (`||`), which PEP 440 cannot say."""
    spec = spec.strip()
    if spec in ("", "*") or "||" in spec or "|" in spec:
        return None
    out: list[str] = []
    for part in re.split(r",|\s+(?=[<>=!~^])", spec):
        if not part.strip():
            continue
        match = _POETRY_PART.match(part)
        if match is None:
            return None
        op, version = match["op"] or "", match["version"]
        if version == "*":
            continue
        if op in ("", "=") and "*" not in version:
            out.append(f"=={version}")
            continue
        if op in ("", "=", "==") and "*" in version:
            out.append(f"=={version}")
            continue
        numbers = [int(x) for x in re.findall(r"\d+", version.split("+")[0])[:3]]
        if op == "^" and numbers:
            position = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
            out += [f">={version}", f"<{_bump(numbers, position)}"]
        elif op == "~" and numbers:
            position = 1 if len(numbers) >= 2 else 0
            out += [f">={version}", f"<{_bump(numbers, position)}"]
        else:
            out.append(f"{op}{version}")
    return ",".join(out) or None


def poetry_requirement(
    name: str,
    spec: Any,
    target: Target,
    extras: set[str],
    into: Requirements,
    where: str,
) -> str | None:
    """One Poetry dependency as a PEP 508 line, or None when it does not apply to the target."""
    if isinstance(spec, list):  # several constraints, each for some Pythons/markers
        for item in spec:
            line = poetry_requirement(name, item, target, extras, into, where)
            if line:
                return line
        return None
    if isinstance(spec, str):
        specifier = poetry_specifier(spec)
        if specifier is None and spec.strip() not in ("", "*"):
            into.notes.append(f"{where}: {name} = {spec!r} is read as any version")
        return f"{name}{specifier or ''}"
    if not isinstance(spec, dict):
        return name
    if spec.get("optional") and not extras:
        return None
    python = spec.get("python")
    if isinstance(python, str):
        allowed = poetry_specifier(python)
        if allowed and not target.allows(allowed):
            return None
    markers = spec.get("markers")
    if isinstance(markers, str) and not target.marker_holds(markers):
        return None
    for key in ("git", "url", "path"):
        if key in spec:
            if key == "path":
                into.notes.append(
                    f"{where}: {name} comes from the local path {spec['path']}; not checked"
                )
                return None
            into.direct.append(
                SourceBuild(
                    name=name,
                    version=None,
                    reason="direct-reference",
                    why=f"{name} comes from {spec[key]}: it is built from source on every "
                    "deploy (its own dependencies are not checked here)",
                    required_by=(where,),
                    direct=True,
                    dependencies_known=False,
                )
            )
            return None
    extra_names = spec.get("extras") or []
    label = f"{name}[{','.join(extra_names)}]" if extra_names else name
    version = spec.get("version")
    specifier = poetry_specifier(version) if isinstance(version, str) else None
    return f"{label}{specifier or ''}"


# -- lockfiles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locked:
    """One locked distribution: its files (names only) and who needs it."""

    name: str
    version: str
    files: tuple[str, ...]
    parents: tuple[str, ...] = ()  # "pydantic==2.9.2"
    direct: bool = False
    source: str = "registry"  # registry, git, url, path


UV_LOCK_VERSIONS = (1,)
POETRY_LOCK_VERSIONS = ("1.1", "2.0", "2.1")


def _lock_name(url_or_path: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlparse(url_or_path).path.rsplit("/", 1)[-1])


def read_uv_lock(
    path: Path,
    shown: str,
    target: Target,
    *,
    dev: bool = True,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
) -> tuple[list[Locked], list[Problem], list[str]]:
    """The packages `uv sync` installs on the target, read from uv.lock (format version 1)."""
    data = _read_toml(path, shown, "uv.lock")
    version = data.get("version")
    if version not in UV_LOCK_VERSIONS:
        raise ConfigurationError(
            f"lock format version {version!r} is not one render-sim reads (it reads version "
            + ", ".join(str(v) for v in UV_LOCK_VERSIONS)
            + ")",
            hint="regenerate it with a current uv (`uv lock`), or update render-sim",
            where=Location(shown),
        )
    packages = data.get("package")
    if not isinstance(packages, list):
        raise ConfigurationError(f"{shown} has no [[package]] entries", where=Location(shown))
    problems: list[Problem] = []
    notes: list[str] = []
    requires_python = data.get("requires-python")
    if isinstance(requires_python, str) and not target.allows(requires_python):
        problems.append(
            Problem(
                f"{shown} was locked for Python {requires_python}; Render's build uses "
                f"{target.version}, so `uv sync` stops",
                hint="pin a Python the project allows (PYTHON_VERSION or .python-version)",
            )
        )
    for number, entry in enumerate(packages):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("source", {}), dict)
        ):
            raise ConfigurationError(
                f"{shown}: [[package]] number {number + 1} is not a uv package entry "
                "(a table with a name and a source table)",
                hint="regenerate it with `uv lock`",
                where=Location(shown, 0, "package"),
            )
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in packages:
        if isinstance(entry, dict) and "name" in entry:
            by_name.setdefault(canonicalize_name(str(entry["name"])), []).append(entry)

    def find(dep: dict[str, Any]) -> dict[str, Any] | None:
        candidates = by_name.get(canonicalize_name(str(dep.get("name", ""))), [])
        if "version" in dep:
            candidates = [c for c in candidates if str(c.get("version")) == str(dep["version"])]
        return candidates[0] if candidates else None

    roots = [
        e
        for e in packages
        if isinstance(e, dict)
        and isinstance(e.get("source"), dict)
        and ({"editable", "virtual"} & set(e["source"]))
    ]
    chosen: dict[tuple[str, str], tuple[dict[str, Any], set[str], bool]] = {}
    if not roots:
        notes.append(f"{shown} has no project entry: every locked package is checked")
        for entry in packages:
            if isinstance(entry, dict):
                chosen[(str(entry.get("name")), str(entry.get("version")))] = (entry, set(), True)
    queue: list[tuple[dict[str, Any], set[str], str | None]] = [(r, set(), None) for r in roots]
    root_keys = {(str(r.get("name")), str(r.get("version"))) for r in roots}
    while queue:
        entry, wanted_extras, parent = queue.pop()
        key = (str(entry.get("name")), str(entry.get("version")))
        is_root = key in root_keys
        edges: list[dict[str, Any]] = list(entry.get("dependencies") or [])
        optional = entry.get("optional-dependencies") or {}
        use_extras = set(optional) if (is_root and all_extras) else set(wanted_extras)
        if is_root:
            use_extras |= set(extras)
            dev_groups = entry.get("dev-dependencies") or {}
            for group, deps in dev_groups.items():
                if (dev and group == "dev") or group in groups:
                    edges += list(deps)
        for extra in use_extras:
            edges += list(optional.get(extra) or [])
        for dep in edges:
            if not isinstance(dep, dict) or not target.marker_holds(dep.get("marker")):
                continue
            child = find(dep)
            if child is None:
                continue
            child_key = (str(child.get("name")), str(child.get("version")))
            child_extras = set(dep.get("extra") or [])
            parent_label = None if is_root else f"{key[0]}=={key[1]}"
            seen = chosen.get(child_key)
            if seen is not None and child_extras <= seen[1]:
                if parent_label and parent_label not in seen[0].get("_parents", []):
                    seen[0].setdefault("_parents", []).append(parent_label)
                continue
            merged = child_extras | (seen[1] if seen else set())
            direct = is_root or (seen[2] if seen else False)
            chosen[child_key] = (child, merged, direct)
            if parent_label:
                child.setdefault("_parents", [])
                if parent_label not in child["_parents"]:
                    child["_parents"].append(parent_label)
            if child_key not in root_keys:
                queue.append((child, merged, parent_label))
    locked = []
    for (name, version), (entry, _, direct) in chosen.items():
        source = entry.get("source") or {}
        if (name, version) in root_keys or {"editable", "virtual", "directory", "path"} & set(
            source
        ):
            continue
        kind = "registry" if "registry" in source else "git" if "git" in source else "url"
        files = [
            _lock_name(str(w.get("url") or w.get("path") or w.get("filename") or ""))
            for w in entry.get("wheels") or []
            if isinstance(w, dict)
        ]
        sdist = entry.get("sdist")
        if isinstance(sdist, dict):
            files.append(
                _lock_name(str(sdist.get("url") or sdist.get("path") or "")) or "sdist.tar.gz"
            )
        locked.append(
            Locked(name, version, tuple(files), tuple(entry.get("_parents", [])), direct, kind)
        )
    return locked, problems, notes


def read_poetry_lock(
    path: Path,
    shown: str,
    target: Target,
    pyproject: Path,
    *,
    groups: Sequence[str] = ("main", "dev"),
    extras: Sequence[str] = (),
) -> tuple[list[Locked], list[Problem], list[str]]:
    """The packages `poetry install` installs on the target, read from poetry.lock."""
    data = _read_toml(path, shown, "poetry.lock")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    version = str(metadata.get("lock-version", ""))
    if version not in POETRY_LOCK_VERSIONS:
        raise ConfigurationError(
            f"lock-version {version or '(none)'!r} is not one render-sim reads (it reads "
            + ", ".join(POETRY_LOCK_VERSIONS)
            + ")",
            hint="regenerate it with `poetry lock`, or update render-sim",
            where=Location(shown),
        )
    packages = [p for p in data.get("package") or [] if isinstance(p, dict) and "name" in p]
    problems: list[Problem] = []
    notes: list[str] = []
    python_spec = metadata.get("python-versions")
    if isinstance(python_spec, str):
        allowed = poetry_specifier(python_spec)
        if allowed and not target.allows(allowed):
            problems.append(
                Problem(
                    f"{shown} was locked for Python {python_spec}; Render's build uses "
                    f"{target.version}, so `poetry install` stops",
                    hint="pin a Python the project allows (PYTHON_VERSION or .python-version)",
                )
            )
    old_files = metadata.get("files") if isinstance(metadata.get("files"), dict) else {}
    assert isinstance(old_files, dict)
    by_name: dict[str, dict[str, Any]] = {canonicalize_name(str(p["name"])): p for p in packages}

    roots: dict[str, Any] = {}
    if pyproject.is_file():
        project_data = _read_toml(pyproject, _relative(path.parent, pyproject), "pyproject.toml")
        poetry = (project_data.get("tool") or {}).get("poetry") or {}
        for dep in (project_data.get("project") or {}).get("dependencies") or []:
            with contextlib.suppress(InvalidRequirement):
                req = Requirement(str(dep))
                if target.marker_holds(req.marker):
                    roots[canonicalize_name(req.name)] = sorted(req.extras)
        tables = []
        for group in groups:
            if group == "main":
                tables.append(poetry.get("dependencies"))
            else:
                tables.append(((poetry.get("group") or {}).get(group) or {}).get("dependencies"))
                if group == "dev":
                    tables.append(poetry.get("dev-dependencies"))
        for table in tables:
            for name, spec in (table or {}).items():
                if name.lower() == "python" or not _poetry_applies(spec, target, extras):
                    continue
                wanted = spec.get("extras", []) if isinstance(spec, dict) else []
                roots[canonicalize_name(name)] = list(wanted)
    chosen: dict[str, tuple[set[str], bool]] = {}
    parents: dict[str, list[str]] = {}
    if not roots:
        notes.append(f"{shown}: no dependencies found in pyproject.toml; every package is checked")
        for package in packages:
            if not package.get("optional"):
                chosen[canonicalize_name(str(package["name"]))] = (set(), True)
    queue: list[tuple[str, set[str], str | None]] = [
        (name, set(wanted_extras), None) for name, wanted_extras in roots.items()
    ]
    while queue:
        name, wanted, parent = queue.pop()
        found = by_name.get(name)
        if found is None:
            continue
        package = found
        if parent:
            parents.setdefault(name, [])
            if parent not in parents[name]:
                parents[name].append(parent)
        seen = chosen.get(name)
        if seen is not None and wanted <= seen[0]:
            continue
        merged = wanted | (seen[0] if seen else set())
        chosen[name] = (merged, (seen[1] if seen else False) or parent is None)
        label = f"{package['name']}=={package.get('version')}"
        deps = dict(package.get("dependencies") or {})
        extras_table = package.get("extras") or {}
        extra_names: set[str] = set()
        for extra in merged:
            for item in extras_table.get(extra, []):
                extra_names.add(canonicalize_name(re.split(r"[\s\[(<>=!~;]", str(item))[0]))
        for dep_name, spec in deps.items():
            optional = isinstance(spec, dict) and spec.get("optional")
            if optional and canonicalize_name(dep_name) not in extra_names:
                continue
            if not _poetry_applies(spec, target, (), ignore_optional=True):
                continue
            wanted_child = set(spec.get("extras", [])) if isinstance(spec, dict) else set()
            queue.append((canonicalize_name(dep_name), wanted_child, label))
    locked = []
    for name, (_, direct) in chosen.items():
        package = by_name[name]
        source = package.get("source") or {}
        kind = str(source.get("type") or "registry") if isinstance(source, dict) else "registry"
        if kind in ("directory", "file") and not str(source.get("url", "")).endswith(".whl"):
            continue
        files = package.get("files")
        if files is None:
            files = old_files.get(package["name"]) or old_files.get(name) or []
        names = tuple(str(f.get("file")) for f in files if isinstance(f, dict) and f.get("file"))
        locked.append(
            Locked(
                str(package["name"]),
                str(package.get("version")),
                names,
                tuple(parents.get(name, [])),
                direct,
                "git" if kind == "git" else "registry" if kind in ("registry", "legacy") else kind,
            )
        )
    return locked, problems, notes


def poetry_default_groups(pyproject: Path) -> list[str]:
    """The groups `poetry install` installs besides main: every group not marked optional
    (and the old `dev-dependencies` table)."""
    if not pyproject.is_file() or tomllib is None:
        return ["dev"]
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ["dev"]  # read_pyproject_requirements reports the file itself
    poetry = (data.get("tool") or {}).get("poetry") or {}
    groups = [
        name
        for name, table in (poetry.get("group") or {}).items()
        if isinstance(table, dict) and not table.get("optional")
    ]
    if "dev-dependencies" in poetry and "dev" not in groups:
        groups.append("dev")
    return groups


def _poetry_applies(
    spec: Any, target: Target, extras: Sequence[str], ignore_optional: bool = False
) -> bool:
    if isinstance(spec, list):
        return any(_poetry_applies(s, target, extras, ignore_optional) for s in spec)
    if not isinstance(spec, dict):
        return True
    if spec.get("optional") and not extras and not ignore_optional:
        return False
    python = spec.get("python")
    if isinstance(python, str):
        allowed = poetry_specifier(python)
        if allowed and not target.allows(allowed):
            return False
    markers = spec.get("markers")
    return not (isinstance(markers, str) and not target.marker_holds(markers))


# -- the build command --------------------------------------------------------------------------


@dataclass
class DependencyPlan:
    """What one service's build installs: pip requirements and/or a lockfile."""

    requirements: Requirements = field(default_factory=Requirements)
    uses_pip: bool = False
    lock: tuple[str, Path, dict[str, Any]] | None = None  # ("uv.lock"|"poetry.lock", path, opts)
    notes: list[str] = field(default_factory=list)
    inferred: str = ""  # how the dependency file was chosen when the command did not say


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


def _commands(text: str) -> Iterator[list[str]]:
    for part in re.split(r"&&|\|\||;|\n|\|", text):
        part = part.strip()
        if not part:
            continue
        try:
            tokens = shlex.split(part, comments=True)
        except ValueError:
            tokens = part.split()
        while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
            tokens = tokens[1:]  # VAR=value command ...
        if tokens:
            yield tokens


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
            if name == "cd" and len(tokens) > 1:
                cwd = (cwd / tokens[1]).resolve()
                continue
            if name in ("sh", "bash") and len(tokens) > 1 and tokens[1].endswith(".sh"):
                tokens = tokens[1:]
            if tokens[0].endswith(".sh") and depth == 0:
                script = cwd / tokens[0]
                if script.is_file():
                    shown = _relative(self.repo, script)
                    text = read_text(script, shown, what="build script")
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
        words = [Path(tokens[0]).name, *tokens[1:]]
        for prefix in _PIP_PREFIXES:
            if tuple(re.sub(r"3\.\d+$", "", w) for w in words[: len(prefix)]) == prefix:
                return tokens[len(prefix) :]
        return None

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
            if option in _OPTION_WITH_VALUE or short_with_value:
                option, value, position = _split_option(args, position)
                self.reader.option(option, value, cwd, "build command", into)
                continue
            if option in _FLAGS:
                self.reader.option(option, None, cwd, "build command", into)
            position += 1  # -U, -q, --no-cache-dir, ...: no bearing on what is installed
        added_only_named = (len(into.direct), len(into.files), len(into.constraints)) == (
            before[1],
            before[2],
            before[3],
        )
        tools = {"pip", "setuptools", "wheel"}
        if added_only_named and named and {_requirement_name(n) for n in named} <= tools:
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
        if (root / "requirements.txt").exists():
            plan.inferred = "requirements.txt"
            reader.read_file(root / "requirements.txt", plan.requirements)
        elif (root / "pyproject.toml").exists():
            plan.inferred = "pyproject.toml"
            read_pyproject_requirements(repo, root, target, into=plan.requirements)
        else:
            raise ConfigurationError(
                f"the build command `{build_command}` installs nothing render-sim can read, and "
                f"{_relative(repo, root) if root != repo else 'the repo'} has no requirements.txt "
                "or pyproject.toml",
                hint="render-sim check reads pip requirements files, pyproject.toml, uv.lock "
                "and poetry.lock",
            )
        plan.uses_pip = True
        plan.notes.append(
            f"the build command names no dependency file: render-sim read {plan.inferred}"
        )
    return plan


# -- a local index with stand-in wheels ---------------------------------------------------------


@dataclass(frozen=True)
class IndexFile:
    """One file of a simple-index listing, with the fields pip uses."""

    filename: str
    url: str
    requires_python: str | None = None
    yanked: bool | str = False
    hashes: Mapping[str, str] = field(default_factory=dict)
    metadata: bool | Mapping[str, str] = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def dist(self) -> DistFile:
        return DistFile(self.filename, self.requires_python, bool(self.yanked), self.url)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filename": self.filename,
            "url": self.url,
            "hashes": dict(self.hashes),
        }
        if self.requires_python:
            data["requires-python"] = self.requires_python
        if self.yanked:
            data["yanked"] = self.yanked
        if self.metadata:
            value = dict(self.metadata) if isinstance(self.metadata, Mapping) else True
            data["core-metadata"] = value
            data["dist-info-metadata"] = value
        return data


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[dict[str, str | None], str]] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._attrs is not None:
            self.found.append((self._attrs, "".join(self._text).strip()))
            self._attrs = None


def parse_listing(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """A PEP 691 JSON or PEP 503 HTML project page as `IndexFile`s with absolute URLs."""
    files = []
    if "json" in content_type:
        data = json.loads(body)
        for item in data.get("files", []):
            if not isinstance(item, dict):
                continue
            advertised = item.get("core-metadata", item.get("dist-info-metadata", False))
            files.append(
                IndexFile(
                    filename=str(item.get("filename", "")),
                    url=urllib.parse.urljoin(page_url, str(item.get("url", ""))),
                    requires_python=item.get("requires-python"),
                    yanked=item.get("yanked") or False,
                    hashes=item.get("hashes") or {},
                    metadata=advertised if isinstance(advertised, (bool, dict)) else False,
                )
            )
        return files
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    for attrs, text in parser.found:
        href = attrs.get("href") or ""
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        metadata: bool | dict[str, str] = False
        if metadata_attr is not None:
            metadata = dict([metadata_attr.split("=", 1)]) if "=" in metadata_attr else True
        yanked_attr = attrs.get("data-yanked")
        files.append(
            IndexFile(
                filename=text or urllib.parse.unquote(url.rsplit("/", 1)[-1]),
                url=url,
                requires_python=attrs.get("data-requires-python"),
                yanked=(yanked_attr or True) if "data-yanked" in attrs else False,
                hashes=hashes,
                metadata=metadata,
            )
        )
    return files


def _file_version(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _normal(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _ssl_context() -> ssl.SSLContext:
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return ssl.create_default_context(cafile=value)
    return ssl.create_default_context()


@dataclass
class Stub:
    """A stand-in wheel for a release pip would build from source."""

    name: str  # canonical
    version: str
    upstream: int
    sdist: IndexFile
    requires: list[str] | None = None  # None until read; see `dependencies_known`
    dependencies_known: bool = True


class StandInIndex:
    """A PEP 691 index on 127.0.0.1 in front of real indexes, adding stand-in wheels.

    For each project pip asks for, the real listing is fetched and passed through; for each
    release with a source distribution the target may install but no wheel that installs on the
    target, a stand-in `NAME-VERSION-py3-none-any.whl` is added whose metadata carries the
    release's real Requires-Dist (from the index, a sibling wheel's metadata, or the sdist's
    PKG-INFO). pip, run with --only-binary=:all:, then sees every release Render's pip would see.
    """

    def __init__(
        self,
        upstreams: Sequence[str],
        target: Target,
        indexes: Sequence[PackageIndex],
        timeout: float = 30,
        phantoms: Mapping[str, str] | None = None,
    ) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.target = target
        self.indexes = list(indexes)
        self.timeout = timeout
        self.phantoms = dict(phantoms or {})  # canonical name -> version (pip found none)
        self.listings: dict[str, dict[str, list[IndexFile]]] = {}
        self.stubs: dict[tuple[str, str], Stub] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._ssl = _ssl_context()
        self._server: ThreadingHTTPServer | None = None

    # -- server --------------------------------------------------------------------------------

    def __enter__(self) -> StandInIndex:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                try:
                    status, content_type, body = owner.answer(self.path)
                except Exception as error:  # a bug here must reach pip as an answer, not hang
                    owner.errors.append(f"{self.path}: {error!r}")
                    status, content_type, body = 500, "text/plain", repr(error).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, upstream: int) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/{upstream}/"

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, str, bytes]:
        parts = [urllib.parse.unquote(p) for p in path.split("?", 1)[0].split("/") if p]
        if len(parts) == 2 and parts[0].isdigit():
            return self._listing(int(parts[0]), parts[1])
        if len(parts) == 4 and parts[0] == STUB_PATH:
            name, version, filename = parts[1], parts[2], parts[3]
            stub = self.stubs.get((name, version))
            if stub is None:
                return 404, "text/plain", b"unknown stand-in"
            metadata = self.metadata(stub)
            if filename.endswith(".metadata"):
                return 200, "text/plain", metadata.encode()
            return 200, "application/octet-stream", _wheel_bytes(stub, metadata)
        return 404, "text/plain", b"not found"

    # -- listings ------------------------------------------------------------------------------

    def fetch(self, url: str, accept: str) -> tuple[bytes, str, str]:
        request = urllib.request.Request(
            url, headers={"Accept": accept, "User-Agent": f"render-sim/{__version__} (check)"}
        )
        context = self._ssl if url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
            return response.read(), response.headers.get("Content-Type", ""), response.geturl()

    def _listing(self, upstream: int, project: str) -> tuple[int, str, bytes]:
        if upstream >= len(self.upstreams):
            return 404, "text/plain", b"no such index"
        canonical = canonicalize_name(project)
        page = f"{self.upstreams[upstream]}/{urllib.parse.quote(canonical)}/"
        try:
            body, content_type, final_url = self.fetch(
                page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
            )
            files = parse_listing(body, content_type, final_url)
        except urllib.error.HTTPError as error:
            if error.code in (404, 410):
                files = []
                if canonical not in self.phantoms:
                    return 404, "text/plain", b"not found"
            else:
                self.errors.append(f"{page}: HTTP {error.code}")
                return 502, "text/plain", f"upstream HTTP {error.code}".encode()
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            self.errors.append(f"{page}: {reason}")
            return 502, "text/plain", f"upstream unreachable: {reason}".encode()
        by_version: dict[str, list[IndexFile]] = {}
        for item in files:
            version = _file_version(item.filename)
            if version is not None:
                by_version.setdefault(version, []).append(item)
        with self._lock:
            known = self.listings.setdefault(canonical, {})
            for version, items in by_version.items():
                known.setdefault(version, [])
                known[version] += [i for i in items if i not in known[version]]
        # pip is served only what it can use: the wheels that install on the target, and a
        # stand-in per release that only an sdist makes installable (pip 23 spends seconds
        # matching every macOS/Windows/ARM wheel of a big project against the tags otherwise).
        out: list[IndexFile] = []
        installable: set[str] = set()
        for version, items in by_version.items():
            fitting = [
                i
                for i in items
                if i.is_wheel
                and wheel_installs_on(i.filename, self.target.minor, self.target.glibc)
            ]
            out += fitting
            if any(self.target.allows(i.requires_python) for i in fitting):
                installable.add(version)
                continue
            sdists = [i for i in items if not i.is_wheel and self.target.allows(i.requires_python)]
            if not sdists:
                continue
            installable.add(version)
            out.append(self._stub_file(canonical, version, upstream, sdists[0]))
        phantom = self.phantoms.get(canonical)
        if phantom and upstream == 0 and _normal(phantom) not in {_normal(v) for v in installable}:
            # pip found no release at all (a problem already reported): a stand-in without
            # dependencies lets the resolution go on to the other packages.
            fake = IndexFile(f"{canonical}-{phantom}.tar.gz", "", None)
            stub_file = self._stub_file(canonical, phantom, upstream, fake)
            self.stubs[(canonical, phantom)].requires = []
            self.stubs[(canonical, phantom)].dependencies_known = False
            out.append(stub_file)
        data = {
            "meta": {"api-version": "1.1"},
            "name": canonical,
            "files": [item.to_json() for item in out],
        }
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(data).encode()

    def _stub_file(
        self, canonical: str, version: str, upstream: int, sdist: IndexFile
    ) -> IndexFile:
        with self._lock:
            self.stubs.setdefault((canonical, version), Stub(canonical, version, upstream, sdist))
        filename = f"{canonical.replace('-', '_')}-{version}-py3-none-any.whl"
        quoted = "/".join(urllib.parse.quote(p) for p in (canonical, version, filename))
        return IndexFile(
            filename=filename,
            url=f"{self.base}/{STUB_PATH}/{quoted}",
            requires_python=sdist.requires_python,
            yanked=sdist.yanked,
            metadata=True,
        )

    # -- stand-in metadata ---------------------------------------------------------------------

    def metadata(self, stub: Stub) -> str:
        if stub.requires is None:
            requires, known = self._requires(stub)
            stub.requires, stub.dependencies_known = requires, known
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {stub.name}",
            f"Version: {stub.version}",
            "Summary: render-sim stand-in for a source build",
        ]
        if stub.sdist.requires_python:
            lines.append(f"Requires-Python: {stub.sdist.requires_python}")
        extras = sorted(
            {m for r in stub.requires or [] for m in re.findall(r"extra\s*==\s*['\"]([^'\"]+)", r)}
        )
        lines += [f"Provides-Extra: {extra}" for extra in extras]
        lines += [f"Requires-Dist: {line}" for line in stub.requires or []]
        return "\n".join(lines) + "\n"

    def _requires(self, stub: Stub) -> tuple[list[str], bool]:
        """The release's Requires-Dist, and whether it is known (not guessed as empty)."""
        index = self.indexes[stub.upstream] if stub.upstream < len(self.indexes) else None
        files = self.listings.get(stub.name, {}).get(stub.version, [])
        has_wheels = any(item.is_wheel for item in files)
        if index is not None:
            found = index.requires_dist(stub.name, stub.version)
            if found.checked and (found or has_wheels):
                return list(found), True
        if stub.sdist.url:
            from_sdist = self._sdist_requires(stub.sdist)
            if from_sdist is not None:
                return from_sdist
        return [], False

    def _sdist_requires(self, sdist: IndexFile) -> tuple[list[str], bool] | None:
        """Requires-Dist from the sdist's PKG-INFO: known when its metadata is 2.2 or newer and
        does not mark Requires-Dist dynamic (older metadata is used, but not trusted)."""
        try:
            request = urllib.request.Request(
                sdist.url, headers={"User-Agent": f"render-sim/{__version__} (check)"}
            )
            context = self._ssl if sdist.url.startswith("https:") else None
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:
                data = resp.read(MAX_SDIST_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        if len(data) > MAX_SDIST_BYTES:
            return None
        text = _pkg_info(data, sdist.filename)
        if text is None:
            return None
        message = email.parser.Parser().parsestr(text)
        requires = [str(r) for r in message.get_all("Requires-Dist") or []]
        try:
            version = Version(str(message.get("Metadata-Version") or "1.0"))
        except InvalidVersion:
            version = Version("1.0")
        dynamic = {str(d).lower() for d in message.get_all("Dynamic") or []}
        reliable = version >= Version("2.2") and "requires-dist" not in dynamic
        return requires, reliable or bool(requires)


def _pkg_info(data: bytes, filename: str) -> str | None:
    """The text of an sdist's top-level PKG-INFO."""
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [
                    n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")
                ]
                return archive.read(names[0]).decode("utf-8", "replace") if names else None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    handle = archive.extractfile(member)
                    return handle.read().decode("utf-8", "replace") if handle else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, IndexError):
        return None
    return None


def _wheel_bytes(stub: Stub, metadata: str) -> bytes:
    dist_info = f"{stub.name.replace('-', '_')}-{stub.version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: render-sim\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{dist_info}/METADATA", metadata)
        archive.writestr(f"{dist_info}/WHEEL", wheel)
        archive.writestr(
            f"{dist_info}/RECORD",
            f"{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n",
        )
    return buffer.getvalue()


# -- running pip --------------------------------------------------------------------------------

#: Runs pip for the target (the configuration files are off through PIP_CONFIG_FILE=/dev/null):
#: - PEP 508 markers are evaluated for the target (pip evaluates requirement markers with the
#:   running interpreter's values, even with --python-version);
#: - the supported tags are matched as a set (pip 23 scans the list for every file, seconds on
#:   big projects once ~30 manylinux platforms are given).
#: Each patch is skipped if this pip's internals differ; the report says when markers were not
#: evaluated for the target.
_PIP_RUNNER = """
import json, sys
environment = json.loads(sys.argv[1])
try:
    from pip._vendor.packaging import markers
    markers.default_environment = lambda: dict(environment)
except Exception:
    pass
try:
    from pip._internal.models.wheel import Wheel
    _sets = {}
    def _supported(self, tags):
        key = id(tags)
        known = _sets.get(key)
        if known is None or known[0] is not tags:
            known = _sets[key] = (tags, frozenset(tags))
        return not self.file_tags.isdisjoint(known[1])
    Wheel.supported = _supported
except Exception:
    pass
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class PipRun:
    returncode: int
    output: str
    report: dict[str, Any] | None
    seconds: float


def pip_environment() -> dict[str, str]:
    """The host environment without any PIP_* variable, with no pip config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONNOUSERSITE"] = "1"
    return env


def ca_bundle() -> str | None:
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return value
    return None


def run_pip(
    requirements: Sequence[str],
    constraints: Sequence[str],
    target: Target,
    index_urls: Sequence[str],
    *,
    find_links: Sequence[str] = (),
    pre: bool = False,
    no_deps: bool = False,
    python: str | None = None,
) -> PipRun:
    """`pip install --dry-run --report` for the target, wheels only; never raises on pip's
    failure (the caller reads `returncode` and `output`)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="render-sim-check-") as work:
        folder = Path(work)
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
        args = [
            "install",
            "--dry-run",
            "--report",
            str(folder / "report.json"),
            "--ignore-installed",
            "--only-binary=:all:",
            "--python-version",
            target.version,
            *[arg for platform in target.platforms() for arg in ("--platform", platform)],
            "--implementation",
            "cp",
            "--abi",
            target.abi,
            "--target",
            str(folder / "target"),
            "--index-url",
            index_urls[0],
            *[arg for url in index_urls[1:] for arg in ("--extra-index-url", url)],
            *[arg for link in find_links for arg in ("--find-links", link)],
            "--disable-pip-version-check",
            "--no-input",
            "--isolated",
            "--progress-bar",
            "off",
            "-r",
            str(folder / "requirements.txt"),
        ]
        if constraints:
            (folder / "constraints.txt").write_text("\n".join(constraints) + "\n")
            args += ["-c", str(folder / "constraints.txt")]
        if pre:
            args.append("--pre")
        if no_deps:
            args.append("--no-deps")
        cert = ca_bundle()
        if cert:
            args += ["--cert", cert]
        command = [
            python or sys.executable,
            "-c",
            _PIP_RUNNER,
            json.dumps(target.environment()),
            *args,
        ]
        try:
            done = subprocess.run(
                command,
                env=pip_environment(),
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT_S,
                cwd=work,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise IndexUnavailableError(
                f"pip did not finish resolving within {PIP_TIMEOUT_S:.0f} s",
                hint="check the network, or the index URL",
            ) from error
        except OSError as error:
            raise RenderSimError(
                f"cannot run pip for the check: {error}",
                hint="render-sim check needs pip in render-sim's own environment",
            ) from error
        report = None
        report_path = folder / "report.json"
        if done.returncode == 0 and report_path.is_file():
            with contextlib.suppress(ValueError, OSError):
                report = json.loads(report_path.read_text())
        return PipRun(
            done.returncode, done.stdout + done.stderr, report, time.monotonic() - started
        )


_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S+)")
_FROM_VERSIONS = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+).*?\(from versions: (?P<versions>[^)]*)\)"
)
_CONFLICT = re.compile(r"ResolutionImpossible|conflicting dependencies|Cannot install ")
_NO_PIP = re.compile(r"No module named '?pip")
_REQUIRES_PYTHON = re.compile(r"requires a different Python: (?P<detail>.*)")


# -- checking ----------------------------------------------------------------------------------


def _minor_key(minor: str) -> tuple[int, int]:
    major, rest = minor.split(".")[:2]
    return int(major), int(rest)


def explain_files(
    name: str, version: str, files: Sequence[str], target: Target
) -> tuple[str, str, tuple[str, ...]]:
    """(reason, sentence, Python minors with wheels) for a release without a usable wheel."""
    label = f"{name} {version}"
    wheels = [f for f in files if f.endswith(".whl")]
    minors = [f"3.{m}" for m in range(30, 5, -1)]
    with_wheels = tuple(
        m for m in minors if any(wheel_installs_on(w, m, target.glibc) for w in wheels)
    )
    if not wheels:
        return (
            "sdist-only",
            f"{label} publishes only a source distribution: pip builds it on every Python",
            with_wheels,
        )
    newer_glibc = [w for w in wheels if wheel_installs_on(w, target.minor, (2, 99))]
    if newer_glibc:
        needed = sorted(
            {int(m[1]) for w in newer_glibc for m in re.finditer(r"manylinux_2_(\d+)_x86_64", w)}
        )
        detail = f"glibc 2.{needed[0]}" if needed else "a newer glibc"
        return (
            "glibc-too-new",
            f"{label} has {target.cp_tag} wheels, but they need {detail}; Render's Debian 12 "
            f"has glibc 2.{target.glibc[1]}",
            with_wheels,
        )
    older = [m for m in with_wheels if _minor_key(m) < target.minor]
    if older and not any(_minor_key(m) > target.minor for m in with_wheels):
        return (
            "older-pythons",
            f"{label} has Linux wheels up to Python {older[0]} ({_cp(older[0])}) and none for "
            f"{target.cp_tag}: a release made before Python {target.series} existed",
            with_wheels,
        )
    musl = [w for w in wheels if "musllinux" in w and _wheel_fits_python(w, target)]
    if musl:
        return (
            "musllinux-only",
            f"{label}'s {target.cp_tag} Linux wheels are musllinux (Alpine) only; Render runs "
            "glibc Linux",
            with_wheels,
        )
    linux = [w for w in wheels if "linux" in w and "x86_64" in w]
    if not linux and not any("-any.whl" in w for w in wheels):
        return (
            "other-platforms",
            f"{label} has wheels only for other platforms (macOS, Windows or ARM), none for "
            "Linux x86_64",
            with_wheels,
        )
    if with_wheels:
        listed = ", ".join(with_wheels[:4]) + (", ..." if len(with_wheels) > 4 else "")
        sentence = f"{label} has no {target.cp_tag} wheel (Linux wheels for Python {listed})"
    else:
        sentence = f"{label} has no wheel that installs on {target.cp_tag} Linux x86_64"
    return "no-wheel-for-python", sentence, with_wheels


def _cp(minor: str) -> str:
    return "cp" + minor.replace(".", "")


def _wheel_fits_python(filename: str, target: Target) -> bool:
    try:
        tags = parse_wheel_filename(filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return False
    return any(tag.interpreter in (target.cp_tag, "py3") for tag in tags)


@dataclass
class _FixMaker:
    """Builds the fixes for a package without a wheel with the classifier's own generators."""

    context: DiagnosisContext
    python: PythonInfo
    index: PackageIndex | None

    def fixes(
        self, name: str, version: str | None, parent: str | None, direct: bool
    ) -> tuple[Fix, ...]:
        if version is None:
            return ()
        return tuple(
            package_fixes(name, version, parent, direct, self.python, self.context, self.index)
        )


def package_fixes(
    name: str,
    version: str,
    parent: str | None,
    direct: bool,
    python: PythonInfo,
    context: DiagnosisContext,
    index: PackageIndex | None,
) -> list[Fix]:
    """The fixes `explain` gives for `no-wheel-python-too-new`, from the same generators and
    texts: the newest Python with wheels for `name==version`, and the first release of the
    package (or of its parent, e.g. pydantic for pydantic-core) with wheels for `python`.

    `parent` is the requirement that pulled the package in ("pydantic==2.9.2"), `direct` says
    whether the requirements also name it themselves.
    """
    catalogue = load_rules()
    rule = next(r for r in catalogue.rules if r.failure_class == NO_WHEEL_CLASS)
    package = PackageRef(name, version)
    fields: dict[str, str] = dict(rule.defaults)
    fields.update(python_fields(python))
    fields.update(
        package=name,
        package_label=str(package),
        version=version,
        build_command=context.build_command or "",
        index_name=index.description if index is not None else "the package index",
        conflict="",
        download_note="",
    )
    # The generators read the culprit's `Collecting` line for its parent; here it is known.
    collected = Mention(0, name, version, "collect", parent=parent, direct=direct)
    no_log = ScannedLog("")
    anchor = re.match("", "")
    assert anchor is not None
    inputs = FixInputs(
        catalogue,
        no_log,
        fields,
        package,
        python,
        context,
        index,
        Culprit(package, 0, None, collected),
        None,
        Hit(0, "", anchor),
    )
    return build_fixes(rule.fixes, inputs)


def _requirement_name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


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


def _parent_for_fix(name: str, parents: Sequence[str]) -> str | None:
    """The parent the upgrade fix should name: the catalogue's known parent first."""
    if not parents:
        return None
    known = load_rules().parents.get(canonicalize_name(name))
    if known:
        for parent in parents:
            if canonicalize_name(parent.split("==", 1)[0]) == canonicalize_name(known):
                return parent
    return parents[0]


def _display(parent: str) -> str:
    return parent.replace("==", " ")


def _index_for(url: str) -> PackageIndex:
    """A PackageIndex for fixes and metadata: PyPI's JSON API for PyPI, else the simple API."""
    stripped = url.rstrip("/")
    if stripped in (PYPI_SIMPLE, "https://pypi.python.org/simple"):
        return PackageIndex("https://pypi.org")
    index = PackageIndex(stripped)
    # Any other index is a simple index, whatever its URL ends with.
    index._simple_only = True
    return index


def _resolve(
    requirements: Requirements,
    target: Target,
    index_url: str,
    fixer: _FixMaker,
    notes: list[str],
    problems: list[Problem],
) -> tuple[int, list[SourceBuild]]:
    """Resolve with pip through the stand-in index; (packages installed, source builds)."""
    upstreams = [index_url, *requirements.extra_index_urls]
    indexes = [_index_for(url) for url in upstreams]
    phantoms: dict[str, str] = {}
    lines = [text for text, _ in requirements.lines]
    constraints = [text for text, _ in requirements.constraints]
    direct_names = {n for n in (_requirement_name(t) for t in lines) if n}
    where_of = {_requirement_name(t): w for t, w in requirements.lines}
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
            name = _requirement_name(spec) or spec
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
                *map(_display, item_parents),
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
                    _parent_for_fix(name, item_parents),
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


def _check_locked(
    locked: Sequence[Locked], target: Target, fixer: _FixMaker, lock_name: str
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
                    tuple(map(_display, package.parents)) or (lock_name,),
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
                tuple(map(_display, package.parents)) or (lock_name,),
                package.direct,
                pythons,
                True,
                fixer.fixes(
                    package.name,
                    package.version,
                    _parent_for_fix(package.name, list(package.parents)),
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
    from simulator.simulation import diagnosis_context

    repo = plan.repo
    root = repo / service.root_dir if service.root_dir else repo
    target = Target(service.python.version)
    try:
        deps = read_service_plan(repo, root, service.build_command, service.env, target)
    except _SHAPE_ERRORS as error:
        raise ConfigurationError(
            f"a dependency file of service {service.name!r} has an unexpected shape: {error!r}",
            hint="check pyproject.toml against PEP 621 (or Poetry's format)",
        ) from error
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
    index = _index_for(chosen_index)
    fixer = _FixMaker(context, python, index)
    builds: list[SourceBuild] = list(requirements.direct)
    packages = 0
    methods: list[str] = []
    inputs = list(requirements.files)
    if deps.uses_pip and requirements.lines:
        methods.append("pip")
        count, found = _resolve(requirements, target, chosen_index, fixer, notes, problems)
        packages += count
        builds += found
    elif deps.uses_pip and requirements.direct:
        methods.append("pip")
    if deps.lock is not None:
        kind, path, options = deps.lock
        shown = _relative(repo, path)
        inputs.append(shown)
        methods.append(kind)
        try:
            if kind == "uv.lock":
                locked, lock_problems, lock_notes = read_uv_lock(path, shown, target, **options)
            else:
                pyproject = path.parent / "pyproject.toml"
                if pyproject.is_file():
                    inputs.append(_relative(repo, pyproject))
                locked, lock_problems, lock_notes = read_poetry_lock(
                    path, shown, target, pyproject, **options
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
        notes=tuple(dict.fromkeys(notes)),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
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


def check_repo(repo: Path, options: Options, *, index_url: str | None = None) -> CheckReport:
    """Check every Python service of `repo` (one when `options.service` is set) without Docker.

    `index_url` replaces the index (a simple index URL); by default the requirements' own
    `--index-url`, else https://pypi.org/simple. Raises `ConfigurationError` (exit 2) for a
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

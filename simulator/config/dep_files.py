"""Reading dependency files, and what one pip resolution installs.

`read_text` and `read_toml` turn a missing, huge, binary, non-UTF-8, empty or invalid file into a
clear `ConfigurationError` or `InputError` (never a traceback). `Requirements` collects what the
requirements files, pyproject.toml and the build command ask pip to install.
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from simulator.config.source import inside_repo, outside_repo_error
from simulator.errors import ConfigurationError, InputError, Location, RenderSimError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

MAX_TEXT_BYTES = 5 * 1024 * 1024
#: Byte-order marks pip recognises (pip._internal.utils.encoding.BOMS), longest first.
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


def read_text(
    path: Path, shown: str, *, what: str = "file", repo: Path, where: Location | None = None
) -> str:
    """A dependency file's text; a clear error (never a traceback) when it cannot be used.

    `repo` is the repository the file belongs to: a file outside it (by its path or through a
    symbolic link) is an error and is not read. `where` names what pointed at the file (a `-r`
    line), when not the file itself.
    """
    if not inside_repo(repo, path):
        raise outside_repo_error(repo, path, what, where)
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
    # pip reads a file with a UTF-16 or UTF-32 byte-order mark (what Windows editors and
    # PowerShell's `>` write) as that encoding (pip's auto_decode): so does render-sim.
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _non_empty(data.decode(encoding), shown, what)
            except UnicodeDecodeError as error:
                raise InputError(
                    f"{shown} starts with a {encoding.upper()} byte-order mark but is not "
                    f"{encoding.upper()} text (byte {error.start})",
                    hint="save the file as UTF-8",
                ) from error
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
    return _non_empty(text, shown, what)


def _non_empty(text: str, shown: str, what: str) -> str:
    if not text.strip():
        raise InputError(
            f"{shown} is empty",
            hint="list the dependencies in it, or remove it from the build command",
        )
    return text


def read_toml(path: Path, shown: str, what: str, *, repo: Path) -> dict[str, Any]:
    if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
        raise RenderSimError(
            f"reading {shown} needs the tomli package on Python 3.10",
            hint="pip install tomli",
        )
    text = read_text(path, shown, what=what, repo=repo)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            f"{shown} is not valid TOML: {error}", where=Location(shown)
        ) from error


def relative(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def location(where: str) -> Location:
    """`requirements.txt:3` as a Location (anything else names the place as it is)."""
    file, _, line = where.rpartition(":")
    return Location(file, int(line)) if file and line.isdigit() else Location(where)


def requirement_name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


@dataclass(frozen=True)
class Problem:
    """Something that makes the install fail on Render whatever is built (no release fits, a
    conflict, a Python the project refuses, a requirements file that is not there)."""

    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "hint": self.hint}


@dataclass(frozen=True)
class DirectReference:
    """A requirement pip builds from source on every deploy (a VCS, archive or local source
    URL): its name, why, and the line that asks for it (`where`)."""

    name: str
    why: str
    where: str


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
    direct: list[DirectReference] = field(default_factory=list)  # VCS/URL requirements
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def empty(self) -> bool:
        return not self.lines and not self.direct


def pinned_requirement(text: str, specifier: str) -> str:
    """The requirement `text` with its version specifier replaced; name, extras, marker kept."""
    requirement = Requirement(text)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras}{specifier}{marker}"


def same_package(text: str, package: str) -> bool:
    """Whether the requirement `text` names `package` (names compared normalised)."""
    return requirement_name(text) == canonicalize_name(package)

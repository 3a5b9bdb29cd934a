"""pip requirements: files with their `-r`/`-c` includes, options, and command-line arguments.

`RequirementsReader` reads them as pip does (continuation lines, comments, `${VAR}` expansion,
per-requirement options) into `Requirements`; VCS and archive URLs become direct-reference source
builds, and local projects are read through their pyproject.toml.
"""

from __future__ import annotations

import os
import re
import shlex
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from simulator.config.dep_files import (
    DirectReference,
    Problem,
    Requirements,
    location,
    read_text,
    relative,
)
from simulator.config.pip_options import only_binary_value
from simulator.config.pyproject_deps import read_pyproject_requirements
from simulator.config.source import inside_repo, outside_repo_error
from simulator.errors import ConfigurationError, InputError, Location
from simulator.render.target import Target

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_VCS = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|whl)$", re.IGNORECASE)
OPTION_WITH_VALUE = {
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
FLAGS = {
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


def split_option(tokens: list[str], position: int) -> tuple[str, str | None, int]:
    """(option, value, next position) for `-r x`, `-rx`, `--requirement=x`."""
    token = tokens[position]
    if token.startswith("--") and "=" in token:
        name, given = token.split("=", 1)
        return name, given, position + 1
    if token in OPTION_WITH_VALUE:
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
        shown = relative(self.repo, path)
        what = "constraints file" if constraint else "requirements file"
        if not inside_repo(self.repo, path):
            raise outside_repo_error(self.repo, path, what, location(where) if where else None)
        if not path.exists():
            raise ConfigurationError(
                f"{shown} does not exist",
                hint="pip fails with `Could not open requirements file`: commit the file or "
                "fix the path",
                where=location(where) if where else Location(shown),
            )
        resolved = path.resolve()
        if resolved in self._seen:
            return  # pip reads an included file once per chain; a cycle would loop
        self._seen.add(resolved)
        text = read_text(path, shown, what=what, repo=self.repo)
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
                option, value, position = split_option(tokens, position)
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
        kind = OPTION_WITH_VALUE.get(option) or FLAGS.get(option)
        if kind is None:
            into.notes.append(f"{where}: pip option {option} is not taken into account")
            return
        if kind in OPTION_WITH_VALUE.values() and value is None:
            raise ConfigurationError(f"{option} needs a value", where=location(where))
        assert value is not None or kind in FLAGS.values()
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
            assert value is not None
            into.notes.append(only_binary_note(where, value))
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
                DirectReference(
                    name,
                    f"{text} is a VCS or archive URL: pip builds it from source on every "
                    "deploy (its own dependencies are not checked here)",
                    where,
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
                # named by its line, not quoted: it may hold a token (a URL with credentials)
                f"this line is not a valid requirement: {str(error).splitlines()[0]}",
                hint="pip stops with `Invalid requirement`; fix the line",
                where=location(where),
            ) from error
        if requirement.url:
            if requirement.url.lower().endswith(".whl"):
                into.lines.append((text, where))
                return
            into.direct.append(
                DirectReference(
                    requirement.name,
                    f"{requirement.name} comes from {requirement.url}: pip builds it from "
                    "source on every deploy (its own dependencies are not checked here)",
                    where,
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
        shown = relative(self.repo, path) or "."
        if _ARCHIVE.search(path.name):
            if not path.is_file():
                into.problems.append(Problem(f"{where}: {shown} does not exist"))
            elif path.name.endswith(".whl"):
                into.lines.append((path.as_uri(), where))
            else:
                into.direct.append(
                    DirectReference(
                        path.name,
                        f"{shown} is a local source archive: pip builds it on every deploy",
                        where,
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


def only_binary_note(where: str, value: str) -> str:
    """What `--only-binary VALUE` does, read as pip reads it: `:all:` refuses every source
    build, names refuse theirs, and `all` is the name of a package called "all"."""
    chosen = only_binary_value(value)
    if ":all:" in chosen:
        return (
            f"{where}: --only-binary {value}: Render's pip refuses every source build, so each "
            "source build listed below fails the install instead of compiling"
        )
    if "all" in chosen:
        return (
            f'{where}: --only-binary {value} names a package called "all" (only `:all:` means '
            "every package): pip still builds every other package from source, as listed below; "
            "write --only-binary=:all: to refuse source builds, or name the packages"
        )
    if not chosen:
        return (
            f"{where}: --only-binary {value}: selects no package (pip builds from source as usual)"
        )
    names = ", ".join(sorted(chosen))
    return (
        f"{where}: --only-binary {value}: Render's pip refuses to build {names} from source "
        "(a source build of those listed below fails the install); other packages still build"
    )


def _name_from_url(url: str) -> str:
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return egg[1]
    if "@" in url.split("://", 1)[0]:
        return url.split("@", 1)[0].strip()
    tail = urllib.parse.urlparse(url.split("+", 1)[-1]).path.rstrip("/").rsplit("/", 1)[-1]
    tail = re.sub(r"\.git$", "", tail.split("@", 1)[0])
    return re.sub(r"-\d.*$", "", tail) or url

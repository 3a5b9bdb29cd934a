"""Rewriting a requirement where it is declared, in a copy of the repo.

A `Pin` changes a requirement's version specifier, a `Replace` the whole requirement (a swap).
Each is written where the build reads it: the line of a requirements file (its includes and
constraints too), `[project].dependencies` or a Poetry table of pyproject.toml (edited with
tomlkit, which keeps the file's layout, quotes and comments), the build command or the shell
script it runs. A package nothing declares (a dependency of a dependency) gets a new line in the
requirements file the build installs, or in `[project].dependencies`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array, InlineTable, String, Table

from simulator.config.dep_files import location, pinned_requirement, same_package

__all__ = ["Edits", "FixNotApplicable", "add_line", "rewrite_declaration"]


class FixNotApplicable(Exception):
    """The fix's action cannot be applied to this repo (the message says why)."""


@dataclass
class Edits:
    """The files a fix rewrites in the copy, each read once and written at the end."""

    copy: Path
    before: dict[str, str | None] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def path(self, shown: str) -> Path:
        path = (self.copy / shown).resolve()
        if not path.is_relative_to(self.copy.resolve()):
            raise FixNotApplicable(f"{shown} is outside the repo")
        return path

    def text(self, shown: str) -> str:
        if shown not in self.after:
            path = self.path(shown)
            current = None
            if path.is_file():
                try:
                    current = path.read_bytes().decode("utf-8")
                except UnicodeDecodeError as error:
                    raise FixNotApplicable(
                        f"{shown} is not UTF-8 text (a UTF-16 file, say): render-sim does not "
                        "rewrite it; save it as UTF-8 first"
                    ) from error
            self.before[shown] = current
            self.after[shown] = current or ""
        return self.after[shown]

    def set(self, shown: str, text: str) -> None:
        self.text(shown)
        self.after[shown] = text

    def write(self) -> list[tuple[str, str | None, str]]:
        """Write the changed files; (path, before, after) of each."""
        changed = []
        for shown, text in self.after.items():
            if text == self.before[shown]:
                continue
            self.path(shown).write_text(text, encoding="utf-8")
            changed.append((shown, self.before[shown], text))
        return changed


def _new_text(text: str, specifier: str | None, line: str | None) -> str:
    """The declaration `text` with its specifier set (a Pin) or replaced whole (a Replace)."""
    if line is not None:
        return line
    assert specifier is not None
    return pinned_requirement(text, specifier)


def rewrite_declaration(
    edits: Edits,
    text: str,
    where: str,
    command: str,
    root: Path,
    *,
    specifier: str | None = None,
    line: str | None = None,
) -> str:
    """Rewrite the declaration `text` found at `where`; returns the (new) build command."""
    new = _new_text(text, specifier, line)
    if where == "build command":
        # the requirement as a whole shell word, bare or quoted
        word = re.compile(rf"""(?<![^\s'"]){re.escape(text)}(?![^\s'"])""")
        if word.search(command):
            edits.notes.append(f"in the build command, change {text} to {new}")
            return word.sub(lambda _: new, command)
        for script in sorted(root.rglob("*.sh")):
            shown = script.relative_to(edits.copy).as_posix()
            content = edits.text(shown)
            if word.search(content):
                edits.set(shown, word.sub(lambda _: new, content))
                edits.notes.append(f"in {shown}, change {text} to {new}")
                return command
        raise FixNotApplicable(f"could not find where the build command installs {text}")
    if " [" in where:  # pyproject.toml [project].dependencies[0], [tool.poetry.dependencies], ...
        shown, table = where.split(" [", 1)
        content = edits.text(shown)
        updated, told = _rewrite_toml(content, table.rstrip("]"), text, specifier, line)
        edits.set(shown, updated)
        edits.notes.append(f"in {shown}, change {text} to {told}")
        return command
    place = location(where)
    content = edits.text(place.file)
    lines = content.splitlines(keepends=True)
    if not 0 < place.line <= len(lines):
        raise FixNotApplicable(f"{where} is not in {place.file}")
    current = lines[place.line - 1]
    if text in current:
        lines[place.line - 1] = current.replace(text, new, 1)
    elif current.rstrip().endswith("\\"):
        raise FixNotApplicable(f"{where} continues on the next line: change {text} by hand")
    else:  # ${VAR} expanded: replace the requirement, keep indentation, options and comment
        match = re.match(r"(\s*)(\S+)(.*)", current, re.DOTALL)
        assert match is not None
        lines[place.line - 1] = f"{match[1]}{new}{match[3]}"
    edits.set(place.file, "".join(lines))
    edits.notes.append(f"in {place.file}, line {place.line}, change {text} to {new}")
    return command


def _rewrite_toml(
    content: str, table: str, text: str, specifier: str | None, line: str | None
) -> tuple[str, str]:
    """pyproject.toml with one dependency changed, through tomlkit (layout and comments kept);
    and how the new declaration reads."""
    try:
        document = tomlkit.parse(content)
    except TOMLKitError as error:
        raise FixNotApplicable(f"pyproject.toml cannot be edited: {error}") from error
    if table.startswith("tool.poetry"):
        if line is not None:
            raise FixNotApplicable(f"replace {text} in [{table}] by hand (a Poetry table)")
        assert specifier is not None
        container = _table(document, table.split("."))
        name = canonicalize_name(Pep508(text).name)
        for key in list(container.keys()):
            if canonicalize_name(str(key)) != name:
                continue
            value = container[key]
            if isinstance(value, (InlineTable, Table)):
                if "version" not in value:
                    raise FixNotApplicable(f"{table}.{key} has no version to change")
                value["version"] = specifier
            elif isinstance(value, str):
                container[key] = specifier
            else:
                raise FixNotApplicable(f"{table}.{key} has no version to change")
            return tomlkit.dumps(document), f'{key} = "{specifier}" in [{table}]'
        raise FixNotApplicable(f"could not find {text} in [{table}]")
    new = _new_text(text, specifier, line)
    for array in _dependency_arrays(document):
        for position, item in enumerate(array):
            if isinstance(item, str) and str(item) == text:
                kind = item._t if isinstance(item, String) else None  # keep its quotes
                array[position] = String.from_raw(new, type_=kind) if kind is not None else new
                return tomlkit.dumps(document), new
    raise FixNotApplicable(f"could not find {text} in pyproject.toml")


def _table(document: tomlkit.TOMLDocument, dotted: list[str]) -> Table | InlineTable:
    current: object = document
    for part in dotted:
        if not isinstance(current, (dict, Table, InlineTable)) or part not in current:
            raise FixNotApplicable(f"pyproject.toml has no [{'.'.join(dotted)}]")
        current = current[part]
    if not isinstance(current, (Table, InlineTable)):
        raise FixNotApplicable(f"[{'.'.join(dotted)}] is not a table")
    return current


def _dependency_arrays(document: tomlkit.TOMLDocument) -> list[Array]:
    """Every PEP 621 / PEP 735 requirement list: [project].dependencies, its optional
    dependencies, [dependency-groups]."""
    arrays: list[object] = []
    project = document.get("project")
    if isinstance(project, (Table, dict)):
        arrays.append(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, (Table, dict)):
            arrays += list(optional.values())
    groups = document.get("dependency-groups")
    if isinstance(groups, (Table, dict)):
        arrays += list(groups.values())
    return [a for a in arrays if isinstance(a, Array)]


def add_line(
    edits: Edits,
    requirement: str,
    package: str,
    lines: list[tuple[str, str]],
    files: list[str],
) -> None:
    """Add `requirement` for a package nothing declares (a dependency of a dependency) where
    the build installs: the first requirements file it reads, else [project].dependencies."""
    installed = [f for f in files if any(where.startswith(f"{f}:") for _, where in lines)]
    if installed:
        shown = installed[0]
        content = edits.text(shown)
        if content and not content.endswith("\n"):
            content += "\n"
        edits.set(shown, content + requirement + "\n")
        edits.notes.append(
            f"add {requirement} to {shown} ({package} is a dependency of a dependency: "
            "the line makes pip choose that version)"
        )
        return
    for shown in (f for f in files if f.endswith("pyproject.toml")):
        content = edits.text(shown)
        try:
            document = tomlkit.parse(content)
            array = document["project"]["dependencies"]
        except (TOMLKitError, KeyError, TypeError):
            continue
        if isinstance(array, Array):
            array.insert(0, requirement)
            edits.set(shown, tomlkit.dumps(document))
            edits.notes.append(f"add {requirement} to [project].dependencies in {shown}")
            return
    raise FixNotApplicable(
        f"{package} is not declared anywhere render-sim can rewrite, and the build installs "
        "no requirements file to add the line to"
    )


def declared(lines: list[tuple[str, str]], package: str) -> list[tuple[str, str]]:
    """The (text, where) declarations of `package` among `lines`."""
    out = []
    for text, where in lines:
        try:
            if same_package(text, package):
                out.append((text, where))
        except InvalidRequirement:
            continue
    return out

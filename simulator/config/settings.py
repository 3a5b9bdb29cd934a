"""A repo's own render-sim settings: `.render-sim.toml`, or `[tool.render-sim]` in pyproject.toml.

The options a repo always passes live with the repo: its service's creation date above all
(Render's default Python depends on it), and the service, Python, limits, base image, ...:

```toml
[tool.render-sim]        # or, without the header, in .render-sim.toml
created = 2025-03-14     # a TOML date, or "2025-03-14"
service = "api"
memory = "4g"
timeout = 30             # minutes, as on the command line; or "90s", "2h"
```

Each value comes from the first of: the command line, a `RENDER_SIM_*` environment variable
(`RENDER_SIM_IDLE_TIMEOUT` for `idle-timeout`), the settings file, the default; `Setting.source`
says which, so `plan` can show it. An unknown key or a bad value is a `ConfigurationError`
(exit 2) naming the file, the line and the key (or the variable). Values are checked with the
command line's own parsers (`simulator.units`), so both accept the same spellings.

One file is read, in the repo given to the command: `.render-sim.toml`, else pyproject.toml's
table. Settings in both are an error rather than a silent choice between them.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from simulator.errors import ConfigurationError, Location, UsageError
from simulator.units import parse_bytes, parse_date, parse_image_reference, parse_seconds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FILE_NAME = ".render-sim.toml"
PYPROJECT = "pyproject.toml"
TABLE = "tool.render-sim"
ENV_PREFIX = "RENDER_SIM_"

#: What each kind of value is written as, for messages.
_KIND_TEXT = {
    "text": 'a string ("api")',
    "python": 'a full version as a string ("3.13.4")',
    "date": 'a date (2025-03-14) or a string ("2025-03-14")',
    "size": 'a string ("8g", "512m")',
    "duration": 'minutes (120) or a string ("90s", "30m", "2h")',
    "cpus": "a number above 0 (2, 1.5)",
    "path": 'a path as a string ("secrets.env"), relative to the file',
    "flag": "true or false",
    "image": 'a Docker image reference as a string ("python:3.13.4-slim-bookworm")',
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_FULL_VERSION = re.compile(r"\d+\.\d+\.\d+")


@dataclass(frozen=True)
class Spec:
    """One setting: its key in the file (`idle-timeout`) and the kind of value it takes."""

    key: str
    kind: str  # a key of _KIND_TEXT

    @property
    def param(self) -> str:
        """The command's parameter it sets (`idle_timeout`)."""
        return self.key.replace("-", "_")

    @property
    def env(self) -> str:
        """Its environment variable (`RENDER_SIM_IDLE_TIMEOUT`)."""
        return ENV_PREFIX + self.param.upper()

    @property
    def option(self) -> str:
        return f"--{self.key}"


#: Every setting a file or the environment may give, as the command line spells it.
SPECS: dict[str, Spec] = {
    spec.key: spec
    for spec in (
        Spec("created", "date"),
        Spec("service", "text"),
        Spec("python", "python"),
        Spec("build-command", "text"),
        Spec("env-file", "path"),
        Spec("memory", "size"),
        Spec("cpus", "cpus"),
        Spec("timeout", "duration"),
        Spec("idle-timeout", "duration"),
        Spec("base-image", "image"),
        Spec("ca-cert", "path"),
        Spec("no-ca", "flag"),
        Spec("index-url", "text"),
    )
}
BY_PARAM = {spec.param: spec for spec in SPECS.values()}

COMMAND_LINE, ENVIRONMENT, FILE, DEFAULT = "command-line", "environment", "file", "default"


@dataclass(frozen=True)
class Setting:
    """One option's effective value, and where it came from."""

    key: str
    value: Any  # as the command line takes it: "8g", "2025-03-14", 2.0, True, a Path
    source: str  # COMMAND_LINE, ENVIRONMENT, FILE or DEFAULT
    where: str | None = None  # "--memory", "RENDER_SIM_MEMORY", "repo/.render-sim.toml:3"

    def to_dict(self) -> dict[str, Any]:
        value = str(self.value) if isinstance(self.value, Path) else self.value
        return {"key": self.key, "value": value, "source": self.source, "where": self.where}


@dataclass(frozen=True)
class SettingsFile:
    """The settings read from one file, already checked: key -> value, and key -> line."""

    path: Path
    values: Mapping[str, Any]
    lines: Mapping[str, int]

    def where(self, key: str) -> str:
        line = self.lines.get(key, 0)
        return f"{self.path}:{line}" if line else str(self.path)


@dataclass(frozen=True)
class Settings:
    """The resolved options of one command: by parameter name, and each with its source."""

    values: Mapping[str, Any]
    items: tuple[Setting, ...]
    file: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings_file": str(self.file) if self.file else None,
            "settings": [item.to_dict() for item in self.items],
        }


# -- the file ---------------------------------------------------------------------------------


def find_settings_file(repo: Path) -> Path | None:
    """The file that holds `repo`'s settings, or None (both holding some is an error)."""
    own = repo / FILE_NAME
    pyproject = repo / PYPROJECT
    in_pyproject = pyproject.is_file() and _pyproject_table(pyproject) is not None
    if own.is_file() and in_pyproject:
        raise ConfigurationError(
            f"render-sim settings are in both {own} and {pyproject} ([{TABLE}]): only one is read",
            hint=f"keep them in one place: delete {FILE_NAME} or the [{TABLE}] table",
        )
    if own.is_file():
        return own
    return pyproject if in_pyproject else None


def load_settings(repo: Path) -> SettingsFile | None:
    """Read and check `repo`'s settings file; None when it has none."""
    path = find_settings_file(repo)
    if path is None:
        return None
    if path.name == PYPROJECT:
        table = _pyproject_table(path)
        assert table is not None  # found by find_settings_file
        raw, header = table
    else:
        raw, header = _parse(path), None
    lines = _key_lines(_text(path), header)
    values = {}
    for key, value in raw.items():
        where = Location(str(path), lines.get(key, 0))
        spec = SPECS.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, SPECS, n=1)
            raise ConfigurationError(
                f"unknown setting {key!r}",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + "known settings: "
                + ", ".join(SPECS),
                where=where,
            )
        values[key] = _from_file(spec, value, path.parent, where)
    return SettingsFile(path, values, lines)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"cannot read {path}: {error.__class__.__name__}",
            hint="save it as UTF-8 text",
            where=Location(str(path)),
        ) from None


def _parse(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError as error:
        # tomllib ends its message with "(at line 3, column 7)"
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise ConfigurationError(
            f"not valid TOML: {message}",
            hint="fix the TOML syntax (https://toml.io)",
            where=Location(str(path), int(found.group(1)) if found else 0),
        ) from None


def _pyproject_table(path: Path) -> tuple[dict[str, Any], str] | None:
    """pyproject.toml's `[tool.render-sim]` table and its header, or None when it has none.

    A pyproject.toml that never names render-sim is not read: a TOML error there is the
    project's business, not a render-sim setting.
    """
    if "render-sim" not in _text(path):
        return None
    tool = _parse(path).get("tool")
    table = tool.get("render-sim") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigurationError(
            f"`tool.render-sim` must be a table, not {type(table).__name__}",
            hint=f"write [{TABLE}] and the settings under it",
            where=Location(str(path)),
        )
    return table, TABLE


def _key_lines(text: str, header: str | None) -> dict[str, int]:
    """The 1-based line of each key of the table named `header` (None: the top level)."""
    lines: dict[str, int] = {}
    inside = header is None
    for number, line in enumerate(text.splitlines(), 1):
        table = re.match(r"\s*\[+\s*([^\]]+?)\s*\]+", line)
        if table:
            name = table.group(1).replace('"', "").replace("'", "").replace(" ", "")
            inside = header is not None and name == header
            if header is None:
                lines.setdefault(name.split(".")[0], number)  # a table in .render-sim.toml
            continue
        key = re.match(r"""\s*["']?([A-Za-z0-9_.-]+)["']?\s*=""", line)
        if inside and key:
            lines.setdefault(key.group(1), number)
    return lines


# -- values -----------------------------------------------------------------------------------


def _from_file(spec: Spec, value: Any, folder: Path, where: Location) -> Any:
    """A file's value in the command line's form, checked; a bad one names file, line, key."""
    kind = spec.kind
    wrong = ConfigurationError(
        f"{spec.key} must be {_KIND_TEXT[kind]}, not {_toml_type(value)}",
        hint=f"write {spec.key} = {_example(spec)}",
        where=where,
    )
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, (date, str)):
            raise wrong
        value = value.isoformat() if isinstance(value, date) else value
    elif kind == "duration":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise wrong
        value = str(value)
    elif kind == "cpus":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
    elif kind == "flag":
        if not isinstance(value, bool):
            raise wrong
    elif not isinstance(value, str):
        raise wrong
    try:
        checked = _check(spec, value, spec.key)
    except UsageError as error:
        raise ConfigurationError(error.message, hint=error.hint, where=where) from None
    if kind == "path":
        return folder / checked
    return checked


def _from_env(spec: Spec, text: str) -> Any:
    """A `RENDER_SIM_*` variable's value in the command line's form, checked."""
    value: Any = text
    if spec.kind == "cpus":
        try:
            value = float(text)
        except ValueError:
            raise ConfigurationError(
                f"{spec.env}={text!r} is not a number", hint=f"set {spec.env} to a number like 2"
            ) from None
    elif spec.kind == "flag":
        if text.strip().lower() not in _TRUE + _FALSE:
            raise ConfigurationError(
                f"{spec.env}={text!r} is neither true nor false",
                hint=f"set {spec.env} to 1 or 0 (or true / false)",
            )
        value = text.strip().lower() in _TRUE
    try:
        checked = _check(spec, value, spec.env)
    except UsageError as error:
        raise ConfigurationError(error.message, hint=error.hint) from None
    return Path(checked) if spec.kind == "path" else checked


def _check(spec: Spec, value: Any, name: str) -> Any:
    """Raise the command line's own UsageError for a bad value; return it unchanged."""
    if spec.kind == "date":
        parse_date(value, name)
    elif spec.kind == "size":
        parse_bytes(value, name)
    elif spec.kind == "duration":
        parse_seconds(value, name)
    elif spec.kind == "image":
        parse_image_reference(value, name)
    elif spec.kind == "cpus" and value <= 0:
        raise UsageError(f"{name} {value} must be above 0", hint="give a number of CPUs like 2")
    elif spec.kind == "python" and not _FULL_VERSION.fullmatch(value.strip()):
        raise UsageError(
            f"{name} {value!r} is not a full Python version",
            hint="Render needs major, minor, and patch, e.g. 3.13.4",
        )
    elif spec.kind in ("text", "path") and not value.strip():
        raise UsageError(f"{name} is empty", hint=f"give a value or remove {name}")
    return value


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, datetime):
        return "a date-time"
    names = {str: "a string", int: "an integer", float: "a float", date: "a date"}
    names.update({list: "an array", dict: "a table"})
    return next((text for kind, text in names.items() if isinstance(value, kind)), "that")


def _example(spec: Spec) -> str:
    examples = {"date": "2025-03-14", "duration": "30", "cpus": "2", "flag": "true"}
    examples.update({"size": '"8g"', "python": '"3.13.4"', "path": '"secrets.env"'})
    examples["image"] = '"python:3.13.4-slim-bookworm"'
    return examples.get(spec.kind, '"..."')


# -- resolution -------------------------------------------------------------------------------


def resolve(
    repo: Path,
    given: Mapping[str, Any],
    on_command_line: Collection[str],
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """The effective value of each option in `given` (parameter -> the command's value).

    An option in `on_command_line` keeps its value; any other takes the first of its
    `RENDER_SIM_*` variable, `repo`'s settings file, and the command's value (its default).
    Parameters that are not settings (`json_out`, ...) pass through unchanged.
    """
    wanted = any(param in BY_PARAM and param not in on_command_line for param in given)
    loaded = load_settings(repo) if wanted and repo.is_dir() else None
    values = dict(given)
    items = []
    for param, value in given.items():
        spec = BY_PARAM.get(param)
        if spec is None:
            continue
        if param in on_command_line:
            item = Setting(spec.key, value, COMMAND_LINE, spec.option)
        elif environ.get(spec.env, "").strip():  # set and not empty (empty: unset)
            item = Setting(spec.key, _from_env(spec, environ[spec.env]), ENVIRONMENT, spec.env)
        elif loaded is not None and spec.key in loaded.values:
            item = Setting(spec.key, loaded.values[spec.key], FILE, loaded.where(spec.key))
        else:
            item = Setting(spec.key, value, DEFAULT)
        values[param] = item.value
        items.append(item)
    return Settings(values, tuple(items), loaded.path if loaded else None)

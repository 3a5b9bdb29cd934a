"""Every data file render-sim ships, behind one loader that checks it against its schema.

The files live in `simulator/data/` (read through importlib.resources, so an installed wheel
finds them as a checkout does): facts about Render with their sources (default Pythons, the
build machine, tool versions, the build image's tools), the CPython releases, the stand-in
suites, the diagnosis's rule catalogue and the standard swaps. Each has a JSON Schema beside it
(`data/schemas/<name>.schema.json`, draft 2020-12, checked with `jsonschema`): a file that does
not match fails at load, naming the file, the place in it and the key, e.g.
`simulator/data/render_build_tools.yaml: tools[3]: 'installed' is a required property`.

`platform()` is the typed view of `render_platform.yaml`: the OS, glibc, Python minors and build
limits every stage uses (no module keeps its own copy of these numbers).
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

DATA: Traversable = files("simulator") / "data"

# YAML reads `2026-02-11` as a date; the schemas say "string" for such fields.
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "string",
    lambda checker, value: isinstance(value, (str, datetime.date)),
)
_Validator = validators.extend(Draft202012Validator, type_checker=_TYPES)


class DataFileError(RuntimeError):
    """A data file shipped with render-sim is missing or does not match its schema: render-sim
    itself is broken (a bad edit or a damaged install), not the user's input."""


def shown(name: str) -> str:
    """How messages name a data file."""
    return f"simulator/data/{name}.yaml"


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of data file `name`."""
    found: dict[str, Any] = json.loads(
        (DATA / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return found


def validate(name: str, data: Any) -> None:
    """Raise `DataFileError` naming the file, the place and the key when `data` does not match
    the schema of data file `name`."""
    errors = sorted(
        _Validator(schema(name)).iter_errors(data), key=lambda e: [str(p) for p in e.path]
    )
    if errors:
        error = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        place = where.lstrip(".") or "top level"
        raise DataFileError(f"{shown(name)}: {place}: {error.message}")


@functools.cache
def load(name: str) -> Any:
    """Data file `name` (`simulator/data/<name>.yaml`), checked against its schema, read once.

    Callers must not change what it returns: the same object is handed to every caller.
    """
    try:
        text = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"{shown(name)}: cannot be read ({error})") from error
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C reader: rules.yaml is large
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise DataFileError(f"{shown(name)}: not valid YAML ({error})") from error
    validate(name, data)
    return data


@dataclass(frozen=True)
class Platform:
    """Render's build machine (`data/render_platform.yaml`)."""

    debian: str  # "bookworm"
    debian_version: int
    glibc: tuple[int, int]
    arch: str
    python_minors: tuple[str, ...]  # the minors Render installs, newest first
    memory_bytes: int
    cpus: float
    timeout_s: float
    disk_bytes: int

    @property
    def glibc_text(self) -> str:
        return f"{self.glibc[0]}.{self.glibc[1]}"


@functools.cache
def platform() -> Platform:
    """The typed facts of Render's build machine."""
    data = load("render_platform")
    major, minor = (int(part) for part in data["os"]["glibc"].split("."))
    build = data["build"]
    return Platform(
        debian=data["os"]["debian"],
        debian_version=data["os"]["debian_version"],
        glibc=(major, minor),
        arch=data["os"]["arch"],
        python_minors=tuple(data["python_minors"]),
        memory_bytes=int(build["memory_gb"] * 1024**3),
        cpus=float(build["cpus"]),
        timeout_s=float(build["timeout_minutes"] * 60),
        disk_bytes=int(build["disk_gb"] * 1024**3),
    )


@dataclass(frozen=True)
class BlueprintSpec:
    """The keys and values of render.yaml that render-sim knows (`data/render_blueprint.yaml`)."""

    root_keys: frozenset[str]
    service_types: tuple[str, ...]
    built_types: frozenset[str]  # the types Render runs a build command for
    runtimes: tuple[str, ...]
    service_keys: frozenset[str]
    env_var_keys: frozenset[str]
    value_forms: tuple[str, ...]  # the fields that give an envVars item its value
    database_properties: tuple[str, ...]  # what `fromDatabase.property` may name
    service_properties: tuple[str, ...]  # what `fromService.property` may name


@functools.cache
def blueprint_spec() -> BlueprintSpec:
    """The typed view of Render's Blueprint spec."""
    data = load("render_blueprint")
    return BlueprintSpec(
        root_keys=frozenset(data["root_keys"]),
        service_types=tuple(data["service_types"]),
        built_types=frozenset(data["built_types"]),
        runtimes=tuple(data["runtimes"]),
        service_keys=frozenset(data["service_keys"]),
        env_var_keys=frozenset(data["env_var_keys"]),
        value_forms=tuple(data["value_forms"]),
        database_properties=tuple(data["database_properties"]),
        service_properties=tuple(data["service_properties"]),
    )


#: What `build_env` fills in the templates of `data/render_build_env.yaml`.
BUILD_ENV_FIELDS = (
    "service_id",
    "service_name",
    "service_type",
    "git_commit",
    "git_branch",
    "git_slug",
    "venv",
)


def build_env(**fields: str) -> dict[str, str]:
    """The variables Render sets for a native Python build, filled in for one service.

    `fields` gives every name of `BUILD_ENV_FIELDS`. The web-only variables are set but empty
    for other service types, as on Render.
    """
    data = load("render_build_env")
    web = fields["service_type"] in data["web_types"]
    env = {}
    for name, template in data["variables"].items():
        try:
            env[name] = "" if name in data["web_only"] and not web else template.format_map(fields)
        except (KeyError, IndexError, ValueError) as error:
            raise DataFileError(
                f"{shown('render_build_env')}: variables.{name}: {template!r} is not a template"
                f" of {', '.join(BUILD_ENV_FIELDS)} ({error!r})"
            ) from error
    return env

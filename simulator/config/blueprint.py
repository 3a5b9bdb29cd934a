"""Read a Render Blueprint (render.yaml) into plain data, with the line of everything.

Render validates a Blueprint only when it syncs it, on its servers. render-sim reads it
locally with the same rules for the parts a build depends on, and every problem names the
file, the line and the field (`render.yaml:12: services[0].buildCommand`) with the fix.

Only Python services are built. Every other service (node, docker, static sites, Key
Value, databases) is listed in `Blueprint.skipped` with the reason, so the caller can say
what it left out. Values Render computes or asks for (`generateValue`, `sync: false`,
`fromDatabase`, `fromService`) are modelled the way a build sees them; see `EnvVar`.
"""

from __future__ import annotations

import base64
import difflib
import posixpath
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from simulator.errors import ConfigurationError, Location

BLUEPRINT_NAMES = ("render.yaml", "render.yml")
PLACEHOLDER_PREFIX = "render-sim-placeholder"
DOCS_URL = "https://render.com/docs/blueprint-spec"

# Service types Render knows (DOC-BP). `redis` is the old name of `keyvalue`.
SERVICE_TYPES = ("web", "pserv", "worker", "cron", "keyvalue", "redis")
BUILT_TYPES = frozenset({"web", "pserv", "worker", "cron"})
RUNTIMES = ("python", "node", "docker", "image", "static", "go", "ruby", "rust", "elixir")

ROOT_KEYS = frozenset(
    {
        "services",
        "databases",
        "envVarGroups",
        "projects",
        "ungrouped",
        "previews",
        "previewsEnabled",
        "previewsExpireAfterDays",
        "version",
    }
)
# Every service field of Render's Blueprint spec, plus the legacy `env`.
SERVICE_KEYS = frozenset(
    {
        "type",
        "name",
        "runtime",
        "env",
        "plan",
        "region",
        "buildCommand",
        "startCommand",
        "preDeployCommand",
        "schedule",
        "repo",
        "branch",
        "rootDir",
        "buildFilter",
        "autoDeploy",
        "autoDeployTrigger",
        "domain",
        "domains",
        "healthCheckPath",
        "maxShutdownDelaySeconds",
        "numInstances",
        "scaling",
        "disk",
        "envVars",
        "previews",
        "previewPlan",
        "pullRequestPreviewsEnabled",
        "initialDeployHook",
        "ipAllowList",
        "dockerCommand",
        "dockerfilePath",
        "dockerContext",
        "registryCredential",
        "image",
        "staticPublishPath",
        "headers",
        "routes",
        "maxmemoryPolicy",
    }
)
ENV_VAR_KEYS = frozenset(
    {
        "key",
        "value",
        "generateValue",
        "sync",
        "fromDatabase",
        "fromService",
        "fromGroup",
        "previewValue",
    }
)
DATABASE_PROPERTIES = ("connectionString", "host", "port", "user", "password", "database")
SERVICE_PROPERTIES = ("host", "port", "hostport", "connectionString")
_VALUE_FORMS = ("value", "generateValue", "fromDatabase", "fromService")

_PYTHON_VERSION_EXAMPLE = "3.13.4"
_SURROGATE = re.compile("[\ud800-\udfff]")


# --------------------------------------------------------------------------------------
# Public data.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of a service, as a build on Render would see it.

    `kind` says where the value comes from: "value" (written in the file), "generated"
    (`generateValue: true`: a fresh random value, as Render makes one at creation),
    "prompted" (`sync: false`: typed into the Dashboard, so `value` is None here),
    "database" / "service" (`fromDatabase` / `fromService`: only known on Render, so the
    value is a marked placeholder and `placeholder` is True). `secret` values must be
    masked in every output. `origin` is "service" or "group:<name>".
    """

    key: str
    value: str | None
    kind: str
    secret: bool
    origin: str
    placeholder: bool = False
    line: int = 0


@dataclass(frozen=True)
class Service:
    """A Python service of the Blueprint: what a build needs to know about it."""

    name: str
    type: str
    runtime: str
    root_dir: str  # "" for the repository root, else a normalised relative POSIX path
    build_command: str | None
    start_command: str | None
    plan: str | None
    region: str | None
    env_vars: tuple[EnvVar, ...]
    line: int
    runtime_from_legacy_env: bool  # `env: python` was used instead of `runtime: python`

    @property
    def is_python(self) -> bool:
        return self.runtime == "python"

    def env(self) -> dict[str, str]:
        """The variables that have a value, as a mapping (prompted ones are left out)."""
        return {var.key: var.value for var in self.env_vars if var.value is not None}


@dataclass(frozen=True)
class SkippedService:
    """A service or database render-sim does not build, and why."""

    name: str
    type: str
    runtime: str
    reason: str


@dataclass(frozen=True)
class Blueprint:
    """A parsed Blueprint: its Python services, what was left out, and warnings."""

    path: Path
    services: tuple[Service, ...]
    skipped: tuple[SkippedService, ...]
    warnings: tuple[str, ...]

    def service(self, name: str) -> Service:
        """The Python service called `name`; a ConfigurationError listing the names if none."""
        for service in self.services:
            if service.name == name:
                return service
        for other in self.skipped:
            if other.name == name:
                raise ConfigurationError(
                    f"service {name!r} in {self.path} is not built by render-sim: {other.reason}",
                    hint=self._names_hint(),
                    where=Location(str(self.path)),
                )
        raise ConfigurationError(
            f"{self.path} has no service named {name!r}",
            hint=self._names_hint(),
            where=Location(str(self.path)),
        )

    def _names_hint(self) -> str:
        if not self.services:
            return "The Blueprint has no Python service."
        return "Python services in the Blueprint: " + ", ".join(s.name for s in self.services)


def find_blueprint(repo: Path) -> Path | None:
    """The Blueprint Render would read in `repo`: render.yaml, else render.yml."""
    for name in BLUEPRINT_NAMES:
        candidate = repo / name
        if candidate.is_file():
            return candidate
    return None


def load_blueprint(path: Path, repo_root: Path | None = None) -> Blueprint:
    """Read and check a Blueprint; raise ConfigurationError naming file, line and field.

    `repo_root`, when given, lets rootDir be checked against the files in the repository.
    An empty file, or one without services, gives a Blueprint with no services: whether
    that is an error is for the caller to decide.
    """
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read {shown}: {error.strerror or error}", where=Location(shown)
        ) from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigurationError(
            f"{shown} is not UTF-8 text",
            hint="Save the file as UTF-8.",
            where=Location(shown, line),
        ) from error
    document = _parse_yaml(text, shown)
    return _Reader(path, shown, repo_root).read(document)


# --------------------------------------------------------------------------------------
# YAML with line numbers.
# --------------------------------------------------------------------------------------


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, each key's line and each scalar's text."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        # The text of scalar values as written, so `value: 3.10` stays "3.10" rather than
        # the float 3.1. Env var values are strings on Render; that it keeps the written
        # text of an unquoted number is render-sim's assumption.
        self.raw: dict[Any, str] = {}


class _Sequence(list[Any]):
    """A YAML sequence that remembers its line and each item's line."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """SafeLoader building `_Mapping`/`_Sequence` and refusing duplicate keys.

    Plain PyYAML keeps the last of two equal keys without a word, which hides mistakes
    such as a second `envVars:` block that silently replaces the first.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._flattening: set[int] = set()  # ids of the mappings whose merges are under way

    def flatten_mapping(self, node: MappingNode) -> None:
        """Resolve `<<` merge keys as YAML's merge type says, keeping one entry per key.

        The mapping's own keys win over merged ones, and in `<<: [*a, *b]` the earlier mapping
        wins (yaml.org/type/merge.html; Go's YAML library, assumed to be Render's, agrees).
        This is done here, not left to PyYAML: PyYAML 6.0.4 lets the later mapping win for keys
        longer than one character (yaml/pyyaml#953), and PyYAML before it keeps every merged
        entry, so `a2: {<<: [*a1, *a1]}`, `a3: {<<: [*a2, *a2]}` ... double at each level: a
        billion entries from thirty short lines (a "billion laughs" document). A mapping that
        merges itself (`&a {<<: *a}`) adds nothing: its keys are already there.
        """
        self._flattening.add(id(node))
        try:
            merged: list[tuple[Any, Any]] = []
            own: list[tuple[Any, Any]] = []
            for key_node, value_node in node.value:
                if key_node.tag != "tag:yaml.org,2002:merge":
                    if key_node.tag == "tag:yaml.org,2002:value":
                        key_node.tag = "tag:yaml.org,2002:str"
                    own.append((key_node, value_node))
                    continue
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in reversed(sources):  # the last entry of a key wins, below
                    if not isinstance(source, MappingNode):
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"expected a mapping or list of mappings for merging, "
                            f"but found {source.id}",
                            source.start_mark,
                        )
                    if id(source) not in self._flattening:
                        self.flatten_mapping(source)
                        merged.extend(source.value)
            node.value = _last_entry_per_key(merged + own)
        finally:
            self._flattening.discard(id(node))

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Construct a node; a value its explicit tag cannot read is an error with a line.

        PyYAML's constructors trust the tag: `!!timestamp foo`, `!!bool foo` or `!!int ""`
        fail inside them with AttributeError, KeyError or IndexError.
        """
        try:
            return super().construct_object(node, deep=deep)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            tag = str(getattr(node, "tag", "")).replace("tag:yaml.org,2002:", "!!")
            value = getattr(node, "value", None)
            what = (
                f"{value[:40]!r}"
                if isinstance(value, str)
                else f"this {getattr(node, 'id', 'value')}"
            )
            raise yaml.constructor.ConstructorError(
                None, None, f"{what} cannot be read as {tag}", node.start_mark
            ) from error

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        if isinstance(value, str):
            problem = _unusable_text(value)
            if problem:
                raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return value


def _last_entry_per_key(entries: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    kept: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    for key_node, value_node in reversed(entries):
        # The same non-scalar node comes back through an alias: count it once.
        identity = (
            (key_node.tag, key_node.value) if isinstance(key_node, ScalarNode) else id(key_node)
        )
        if identity not in seen:
            seen.add(identity)
            kept.append((key_node, value_node))
    kept.reverse()
    return kept


def _unusable_text(value: str) -> str | None:
    """Why a string from the file cannot be used, if it cannot.

    YAML's escapes can write what no text file holds: a NUL (`"\\0"`), which no command,
    path or environment variable can contain, and lone UTF-16 surrogates (`"\\ud800"`),
    which are not characters and cannot be written out again.
    """
    if "\x00" in value:
        return "found a NUL character (written as \\0 or \\x00)"
    surrogate = _SURROGATE.search(value)
    if surrogate:
        code = ord(surrogate[0])
        return f"found a lone surrogate escape (\\u{code:04x}), which is not a character"
    return None


def _expect(node: Any, kind: type[Any], tag: str) -> None:
    # An explicit tag can put any node here: `!!seq {a: 1}`, `!!map [a]`.
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"a {node.id} cannot be read as {tag}", node.start_mark
        )


def _construct_mapping(loader: _Loader, node: MappingNode) -> Iterator[_Mapping]:
    _expect(node, MappingNode, "!!map")
    mapping = _Mapping(node.start_mark.line + 1)
    yield mapping
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key_node.value!r} "
                    f"(first defined on line {seen[key_node.value]})",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as error:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "found a key that is not a scalar",
                key_node.start_mark,
            ) from error
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
        if isinstance(value_node, ScalarNode):
            mapping.raw[key] = value_node.value


def _construct_sequence(loader: _Loader, node: SequenceNode) -> Iterator[_Sequence]:
    _expect(node, SequenceNode, "!!seq")
    sequence = _Sequence(node.start_mark.line + 1)
    yield sequence
    for child in node.value:
        sequence.append(loader.construct_object(child, deep=True))
        sequence.item_lines.append(child.start_mark.line + 1)


def _construct_timestamp(loader: _Loader, node: ScalarNode) -> Any:
    # `2024-13-01` matches YAML's timestamp pattern but is no date: PyYAML would raise a
    # bare ValueError without a line.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as error:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} looks like a date but is not one ({error})",
            node.start_mark,
        ) from error


def _construct_int(loader: _Loader, node: ScalarNode) -> Any:
    # Python refuses to convert more than 4300 decimal digits, and a long YAML 1.1
    # sexagesimal float (`1:2:3.5`) overflows. Go's YAML library, which Render's parser is
    # assumed to use, reads a plain scalar that fits no number as a string; so does
    # render-sim, instead of failing without a line.
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


def _construct_float(loader: _Loader, node: ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_float(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _parse_yaml(text: str, shown: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        problem = problem or "invalid YAML"
        mark = error.problem_mark or error.context_mark
        if (
            error.context_mark is not None
            and error.problem_mark is not None
            and error.problem_mark.index >= len(text.rstrip())
        ):
            # "expected ']' but got <stream end>": the opening line is the useful one.
            mark = error.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ConfigurationError(
            f"YAML syntax error: {problem}",
            hint=_yaml_hint(problem),
            where=Location(shown, line),
        ) from error
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigurationError(
            f"YAML syntax error: {error.reason} (character {error.character!r})",
            hint="Remove the control character; YAML files hold printable text only.",
            where=Location(shown, line),
        ) from error
    except yaml.YAMLError as error:
        raise ConfigurationError(
            f"YAML syntax error: {error}", hint=_yaml_hint(""), where=Location(shown)
        ) from error
    except (ValueError, TypeError, OverflowError) as error:
        raise ConfigurationError(
            f"cannot read a value: {error}", hint=_yaml_hint(""), where=Location(shown)
        ) from error
    except RecursionError as error:
        raise ConfigurationError(
            "the YAML is nested too deeply to read",
            hint="A Blueprint needs only a few levels of nesting.",
            where=Location(shown),
        ) from error


def _yaml_hint(problem: str) -> str:
    if "\\t" in problem or "tab" in problem:
        return "Indent with spaces: YAML does not allow tabs for indentation."
    if "duplicate key" in problem:
        return "Keep one of the two entries: YAML does not allow a key twice in one mapping."
    if "mapping values are not allowed" in problem:
        return "Quote values that contain ': ', e.g. startCommand: \"gunicorn app:app\"."
    if "cannot be read as !!" in problem:
        return "Remove the `!!` tag, or write a value of that type; a Blueprint needs no tags."
    if "NUL character" in problem:
        return "Remove the NUL: commands, paths and environment variables cannot contain it."
    if "surrogate" in problem:
        return (
            "Write the character itself, or escape it whole: \\U0001F600, not a pair of "
            "\\uD83D\\uDE00 escapes."
        )
    if "expected a single document" in problem:
        return "Keep one YAML document: remove the extra `---` line."
    return "Check the indentation and the quoting on that line and the one before it."


# --------------------------------------------------------------------------------------
# The reader.
# --------------------------------------------------------------------------------------


@dataclass
class _Group:
    name: str
    env_vars: list[EnvVar]
    line: int


class _Reader:
    """Walks the YAML tree once, collecting services, skipped entries and warnings."""

    def __init__(self, path: Path, shown: str, repo_root: Path | None) -> None:
        self.path = path
        self.shown = shown
        self.repo_root = repo_root
        self.warnings: list[str] = []
        self.services: list[Service] = []
        self.skipped: list[SkippedService] = []
        self.names: dict[str, int] = {}  # service name -> line
        self.group_names: dict[str, int] = {}

    # -- reading fields -----------------------------------------------------------------

    def where(self, line: int, field: str) -> Location:
        return Location(self.shown, line, field)

    def error(
        self, message: str, line: int, field: str, hint: str | None = None
    ) -> ConfigurationError:
        return ConfigurationError(message, hint=hint, where=self.where(line, field))

    def warn(self, message: str, line: int, field: str) -> None:
        self.warnings.append(f"{self.where(line, field)}: {message}")

    def mapping(
        self, value: Any, line: int, field: str, what: str, hint: str | None = None
    ) -> _Mapping:
        if not isinstance(value, _Mapping):
            raise self.error(
                f"{what} must be a mapping (key: value lines), not {_kind(value)}",
                line,
                field,
                hint=hint or f"Write {what} as `key: value` lines (see {DOCS_URL}).",
            )
        return value

    def sequence(self, parent: _Mapping, key: str, field: str) -> list[tuple[Any, int, str]]:
        """The items of parent[key] with their lines and fields; [] when absent or null."""
        value = parent.get(key)
        if value is None:
            return []
        line = parent.key_lines.get(key, parent.line)
        if not isinstance(value, _Sequence):
            raise self.error(
                f"{key} must be a list (lines starting with '- '), not {_kind(value)}",
                line,
                field,
                hint=f"Write each entry of {key} on its own line starting with '- '.",
            )
        return [(item, value.item_lines[i], f"{field}[{i}]") for i, item in enumerate(value)]

    def text(self, mapping: _Mapping, key: str, field: str) -> str | None:
        """A scalar field as the text written in the file; None when absent or null."""
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        if isinstance(value, (_Mapping, _Sequence)):
            raise self.error(
                f"{key} must be a single value, not {_kind(value)}",
                mapping.key_lines.get(key, mapping.line),
                _join(field, key),
                hint=f"Give {key} one value on the same line, e.g. `{key}: ...`; quote it if "
                "it starts with [ or {.",
            )
        return mapping.raw.get(key, str(value))

    def check_keys(self, mapping: _Mapping, known: Iterable[str], field: str, what: str) -> None:
        known = set(known)
        for key in mapping:
            if key in known:
                continue
            line = mapping.key_lines.get(key, mapping.line)
            suggestion = _suggest(str(key), known)
            if suggestion:
                self.warn(
                    f"unknown key {key!r} in {what}: did you mean {suggestion!r}? "
                    "Render does not read it as written.",
                    line,
                    _join(field, key),
                )
            else:
                self.warn(
                    f"unknown key {key!r} in {what}: render-sim ignores it (see {DOCS_URL}).",
                    line,
                    _join(field, key),
                )

    # -- the document -------------------------------------------------------------------

    def read(self, document: Any) -> Blueprint:
        if document is None:
            return self.blueprint()
        root = self.mapping(
            document,
            1,
            "",
            "the top level of the Blueprint",
            hint="Start with `services:` and list each service under it as `- type: web`.",
        )
        self.check_keys(root, ROOT_KEYS, "", "the Blueprint's top level")

        shared = self.groups(root, "")
        ungrouped = self.optional_mapping(root, "ungrouped", "ungrouped")
        if ungrouped is not None:
            shared.update(self.groups(ungrouped, "ungrouped"))
        for item, line, field in self.sequence(root, "services", "services"):
            self.service(item, line, field, shared)
        for item, line, field in self.sequence(root, "databases", "databases"):
            self.database(item, line, field)
        if ungrouped is not None:
            for item, line, field in self.sequence(ungrouped, "services", "ungrouped.services"):
                self.service(item, line, field, shared)
            for item, line, field in self.sequence(ungrouped, "databases", "ungrouped.databases"):
                self.database(item, line, field)
        for project, line, field in self.sequence(root, "projects", "projects"):
            project = self.mapping(project, line, field, "a project")
            project_groups = {**shared, **self.groups(project, field)}
            for environment, env_line, env_field in self.sequence(
                project, "environments", f"{field}.environments"
            ):
                environment = self.mapping(environment, env_line, env_field, "an environment")
                visible = {**project_groups, **self.groups(environment, env_field)}
                for item, line, item_field in self.sequence(
                    environment, "services", f"{env_field}.services"
                ):
                    self.service(item, line, item_field, visible)
                for item, line, item_field in self.sequence(
                    environment, "databases", f"{env_field}.databases"
                ):
                    self.database(item, line, item_field)
        return self.blueprint()

    def optional_mapping(self, parent: _Mapping, key: str, field: str) -> _Mapping | None:
        value = parent.get(key)
        if value is None:
            return None
        return self.mapping(value, parent.key_lines.get(key, parent.line), field, key)

    def blueprint(self) -> Blueprint:
        return Blueprint(
            path=self.path,
            services=tuple(self.services),
            skipped=tuple(self.skipped),
            warnings=tuple(self.warnings),
        )

    # -- environment groups -------------------------------------------------------------

    def groups(self, parent: _Mapping, field: str) -> dict[str, _Group]:
        prefix = f"{field}.envVarGroups" if field else "envVarGroups"
        found: dict[str, _Group] = {}
        for item, line, item_field in self.sequence(parent, "envVarGroups", prefix):
            group = self.mapping(item, line, item_field, "an environment group")
            self.check_keys(group, {"name", "envVars"}, item_field, "an environment group")
            name = self.text(group, "name", item_field)
            if not name:
                raise self.error(
                    "environment group has no name",
                    line,
                    f"{item_field}.name",
                    hint="Add `name: my-group`; services attach it with `- fromGroup: my-group`.",
                )
            if name in self.group_names:
                raise self.error(
                    f"environment group {name!r} is defined twice (first on line "
                    f"{self.group_names[name]})",
                    line,
                    f"{item_field}.name",
                    hint="Give each environment group a unique name.",
                )
            self.group_names[name] = line
            env_vars = self.env_vars(group, item_field, visible=None, origin=f"group:{name}")
            found[name] = _Group(name, env_vars, line)
        return found

    # -- services -----------------------------------------------------------------------

    def database(self, item: Any, line: int, field: str) -> None:
        database = self.mapping(item, line, field, "a database")
        name = self.text(database, "name", field) or "(unnamed)"
        self.skipped.append(
            SkippedService(name, "database", "", "a Render Postgres database: nothing to build")
        )

    def service(self, item: Any, line: int, field: str, groups: dict[str, _Group]) -> None:
        service = self.mapping(
            item,
            line,
            field,
            "a service",
            hint="Write each service as `- type: web` followed by indented `name:`, "
            "`runtime:` and `buildCommand:` lines.",
        )
        name = self.text(service, "name", field)
        if not name:
            raise self.error(
                "service has no name",
                line,
                f"{field}.name",
                hint="Add `name: my-service`: Render requires a unique name for each service.",
            )
        if name in self.names:
            raise self.error(
                f"two services are named {name!r} (the first on line {self.names[name]})",
                service.key_lines.get("name", line),
                f"{field}.name",
                hint="Service names must be unique within a Blueprint: rename one of them.",
            )
        self.names[name] = service.key_lines.get("name", line)

        service_type = self.text(service, "type", field)
        if not service_type:
            raise self.error(
                f"service {name!r} has no type",
                line,
                f"{field}.type",
                hint="Add `type: web` (or pserv, worker, cron, keyvalue).",
            )
        if service_type not in SERVICE_TYPES:
            raise self.error(
                f"service {name!r} has unknown type {service_type!r}",
                service.key_lines["type"],
                f"{field}.type",
                hint=_choices_hint(service_type, SERVICE_TYPES),
            )
        if service_type not in BUILT_TYPES:
            reason = "a Key Value instance: nothing to build"
            if service_type == "redis":
                reason = (
                    "a Key Value instance (`type: redis` is the old name of keyvalue): "
                    "nothing to build"
                )
            self.skipped.append(SkippedService(name, service_type, "", reason))
            return

        runtime, legacy = self.runtime(service, name, field, line)
        if runtime != "python":
            self.skipped.append(
                SkippedService(name, service_type, runtime, _skip_reason(service_type, runtime))
            )
            return
        self.services.append(
            self.python_service(service, name, service_type, legacy, field, groups)
        )

    def runtime(self, service: _Mapping, name: str, field: str, line: int) -> tuple[str, bool]:
        runtime = self.text(service, "runtime", field)
        legacy = self.text(service, "env", field)
        if runtime is None and legacy is not None:
            runtime, from_legacy = legacy, True
            key = "env"
        else:
            from_legacy = False
            key = "runtime"
        if runtime is None:
            raise self.error(
                f"service {name!r} has no runtime",
                line,
                f"{field}.runtime",
                hint="Add `runtime: python` (or node, docker, static, ...).",
            )
        if runtime not in RUNTIMES:
            raise self.error(
                f"service {name!r} has unknown {key} {runtime!r}",
                service.key_lines[key],
                f"{field}.{key}",
                hint=_choices_hint(runtime, RUNTIMES),
            )
        if from_legacy:
            self.warn(
                f"`env: {runtime}` is the old spelling: Render still accepts it, but `runtime:` "
                f"replaced `env:` (and Render's JSON schema rejects `env:`). Write "
                f"`runtime: {runtime}`.",
                service.key_lines["env"],
                f"{field}.env",
            )
        elif legacy is not None:
            self.warn(
                f"`env: {legacy}` is ignored: `runtime: {runtime}` replaced it. Remove `env:`.",
                service.key_lines["env"],
                f"{field}.env",
            )
        return runtime, from_legacy

    def python_service(
        self,
        service: _Mapping,
        name: str,
        service_type: str,
        legacy: bool,
        field: str,
        groups: dict[str, _Group],
    ) -> Service:
        line = service.line
        self.reject_python_version_keys(service, field)
        self.check_keys(service, SERVICE_KEYS, field, f"service {name!r}")

        build_command = self.text(service, "buildCommand", field)
        if "buildCommand" in service and (build_command is None or not build_command.strip()):
            raise self.error(
                f"Python service {name!r} has an empty buildCommand",
                service.key_lines["buildCommand"],
                f"{field}.buildCommand",
                hint="Render requires a build command for every non-Docker service and runs "
                "nothing else: write one after `buildCommand:`, e.g. "
                "`buildCommand: pip install -r requirements.txt`.",
            )
        if build_command is None:
            near = [
                key
                for key in service
                if key != "buildCommand" and _suggest(str(key), {"buildCommand"})
            ]
            typo = f" The key {near[0]!r} looks like a misspelling of it." if near else ""
            where = service.key_lines[near[0]] if near else line
            raise self.error(
                f"Python service {name!r} has no buildCommand",
                where,
                f"{field}.buildCommand",
                hint="Render requires a build command for every non-Docker service and runs "
                "nothing else: add e.g. `buildCommand: pip install -r requirements.txt`." + typo,
            )
        start_command = self.text(service, "startCommand", field)
        if start_command is None:
            self.warn(
                f"Python service {name!r} has no startCommand: Render requires one to deploy "
                "(e.g. `startCommand: gunicorn app:app`); the build itself does not need it.",
                line,
                f"{field}.startCommand",
            )
        return Service(
            name=name,
            type=service_type,
            runtime="python",
            root_dir=self.root_dir(service, field),
            build_command=build_command,
            start_command=start_command,
            plan=self.text(service, "plan", field),
            region=self.text(service, "region", field),
            env_vars=tuple(self.env_vars(service, field, visible=groups, origin="service")),
            line=line,
            runtime_from_legacy_env=legacy,
        )

    def reject_python_version_keys(self, service: _Mapping, field: str) -> None:
        for key in service:
            if not isinstance(key, str):
                continue
            normal = key.lower().replace("_", "").replace("-", "")
            if normal not in ("pythonversion", "python"):
                continue
            value = (
                self.text(service, key, field)
                if not isinstance(service[key], (_Mapping, _Sequence))
                else None
            )
            example = value if value and value.count(".") == 2 else _PYTHON_VERSION_EXAMPLE
            raise self.error(
                f"`{key}:` is not a Render Blueprint field: Render does not read a Python "
                "version from it (and its schema rejects the key)",
                service.key_lines[key],
                f"{field}.{key}",
                hint="Set the version as an environment variable of the service:\n"
                "  envVars:\n"
                "    - key: PYTHON_VERSION\n"
                f"      value: {example}\n"
                "or put the version in a .python-version file.",
            )

    def root_dir(self, service: _Mapping, field: str) -> str:
        raw = self.text(service, "rootDir", field)
        if raw is None:
            return ""
        line = service.key_lines["rootDir"]
        where_field = f"{field}.rootDir"
        text = raw.strip()
        if text.startswith("/") or text.startswith("\\") or (len(text) > 1 and text[1] == ":"):
            raise self.error(
                f"rootDir {text!r} is an absolute path",
                line,
                where_field,
                hint="rootDir is relative to the repository root: write e.g. `rootDir: backend`.",
            )
        normal = posixpath.normpath(text) if text else "."
        if normal == ".." or normal.startswith("../"):
            raise self.error(
                f"rootDir {text!r} points outside the repository",
                line,
                where_field,
                hint="rootDir must be a directory inside the repository, e.g. `rootDir: backend`.",
            )
        if normal == ".":
            return ""
        if self.repo_root is not None:
            target = self.repo_root / normal
            # Render's own message for this case, from a user's build log.
            missing = f'Root directory "{text}" does not exist.'
            if not target.is_dir():
                raise self.error(
                    missing,
                    line,
                    where_field,
                    hint="Fix rootDir or create the directory; it is relative to the "
                    "repository root and is case-sensitive.",
                )
            try:
                target.resolve().relative_to(self.repo_root.resolve())
            except ValueError as error:
                raise self.error(
                    f"rootDir {text!r} leads outside the repository through a symbolic link",
                    line,
                    where_field,
                    hint="Point rootDir at a real directory inside the repository.",
                ) from error
        return normal

    # -- environment variables ----------------------------------------------------------

    def env_vars(
        self,
        parent: _Mapping,
        field: str,
        visible: dict[str, _Group] | None,
        origin: str,
    ) -> list[EnvVar]:
        """The variables of a service (visible: its groups) or of a group (visible: None).

        Variables from groups come first, in the order the groups are attached, and the
        service's own variables override them. Render documents that multiple groups merge
        in order; that a service's own value wins over a group's is how the Dashboard
        presents it, not something found in Render's docs.
        """
        in_group = visible is None
        from_groups: dict[str, EnvVar] = {}
        own: dict[str, EnvVar] = {}
        prefix = f"{field}.envVars"
        for item, line, item_field in self.sequence(parent, "envVars", prefix):
            entry = self.mapping(
                item,
                line,
                item_field,
                "an envVars item",
                hint="Write `- key: NAME` with `value: ...` on the next line, indented to "
                "line up with `key`.",
            )
            self.check_keys(entry, ENV_VAR_KEYS, item_field, "an envVars item")
            if "fromGroup" in entry:
                if in_group:
                    raise self.error(
                        "an environment group cannot include another group",
                        entry.key_lines["fromGroup"],
                        f"{item_field}.fromGroup",
                        hint="List the variables in the group itself.",
                    )
                assert visible is not None
                for var in self.from_group(entry, item_field, visible):
                    from_groups[var.key] = var
                continue
            var = self.env_var(entry, item_field, in_group, origin)
            if var.key in own:
                self.warn(
                    f"{var.key} is defined twice (lines {own[var.key].line} and {var.line}); "
                    "the later one wins.",
                    var.line,
                    item_field,
                )
            own[var.key] = var
        merged = dict(from_groups)
        merged.update(own)
        return list(merged.values())

    def from_group(self, entry: _Mapping, field: str, visible: dict[str, _Group]) -> list[EnvVar]:
        line = entry.key_lines["fromGroup"]
        others = [key for key in entry if key != "fromGroup"]
        if others:
            raise self.error(
                f"a fromGroup item takes no other keys (found {', '.join(map(str, others))})",
                line,
                field,
                hint="Write `- fromGroup: my-group` alone; define variables in separate items.",
            )
        name = self.text(entry, "fromGroup", field)
        if not name:
            raise self.error(
                "fromGroup has no group name",
                line,
                f"{field}.fromGroup",
                hint="Write `- fromGroup: my-group`.",
            )
        if name not in visible:
            close = _suggest(name or "", visible)
            if close:  # one letter from a group of this file: a typo, which Render would refuse
                raise self.error(
                    f"unknown environment group {name!r}",
                    line,
                    f"{field}.fromGroup",
                    hint=f"Did you mean {close!r}? Groups this service can use: "
                    f"{', '.join(sorted(visible))}.",
                )
            # Render accepts a group created in the Dashboard (its example Blueprints do this):
            # its variables exist only there, so they are unknown here.
            self.warn(
                f"environment group {name!r} is not defined in this file: Render uses it if it "
                "exists in the Dashboard, and its variables are unknown here; pass the ones the "
                "build needs with --env-file",
                line,
                f"{field}.fromGroup",
            )
            return []
        return visible[name].env_vars

    def env_var(self, entry: _Mapping, field: str, in_group: bool, origin: str) -> EnvVar:
        line = entry.line
        key = self.text(entry, "key", field)
        if not key:
            raise self.error(
                "envVars item has no key",
                line,
                f"{field}.key",
                hint="Write each variable as `- key: NAME` followed by `value: ...` (or "
                "generateValue: true, sync: false, fromDatabase, fromService).",
            )
        if "=" in key or "\x00" in key:
            raise self.error(
                f"{key!r} cannot be an environment variable name",
                line,
                f"{field}.key",
                hint="Use letters, digits and underscores, e.g. DATABASE_URL.",
            )
        forms = [name for name in _VALUE_FORMS if name in entry]
        sync = entry.get("sync", True)
        if "sync" in entry and not isinstance(sync, bool):
            raise self.error(
                f"{key}: sync must be true or false", entry.key_lines["sync"], f"{field}.sync"
            )
        if sync is False:
            forms.append("sync: false")
        if len(forms) > 1:
            raise self.error(
                f"{key} sets {' and '.join(forms)}: use only one of them",
                line,
                field,
                hint="A variable gets its value one way: value, generateValue: true, "
                "sync: false (typed in the Dashboard), fromDatabase or fromService.",
            )
        if in_group and forms and forms[0] in ("fromDatabase", "fromService", "sync: false"):
            raise self.error(
                f"{key}: environment groups cannot use {forms[0]}",
                line,
                field,
                hint="Render allows only value and generateValue in groups: move this "
                "variable to the services that need it.",
            )
        if not forms:
            raise self.error(
                f"{key} has no value",
                line,
                field,
                hint="Add `value: ...`, `generateValue: true`, `sync: false`, `fromDatabase` "
                "or `fromService`.",
            )
        form = forms[0]
        if form == "value":
            return self.plain_value(entry, key, field, origin)
        if form == "generateValue":
            generate = entry["generateValue"]
            if generate is not True:
                raise self.error(
                    f"{key}: generateValue must be true (remove it to give a value instead)",
                    entry.key_lines["generateValue"],
                    f"{field}.generateValue",
                )
            # Render generates a base64-encoded 256-bit value; a fresh one per run here.
            value = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            return EnvVar(key, value, "generated", True, origin, line=line)
        if form == "sync: false":
            self.warn(
                f"{key} has sync: false: Render asks for its value in the Dashboard, so "
                "render-sim has none; pass it with --env-file.",
                line,
                field,
            )
            return EnvVar(key, None, "prompted", True, origin, line=line)
        if form == "fromDatabase":
            name, prop = self.reference(
                entry, "fromDatabase", field, key, ("name", "property"), DATABASE_PROPERTIES
            )
            value = f"{PLACEHOLDER_PREFIX}:fromDatabase:{name}.{prop}"
            return EnvVar(key, value, "database", False, origin, placeholder=True, line=line)
        name, prop = self.reference(
            entry, "fromService", field, key, ("name", "type"), SERVICE_PROPERTIES
        )
        value = f"{PLACEHOLDER_PREFIX}:fromService:{name}.{prop}"
        return EnvVar(key, value, "service", False, origin, placeholder=True, line=line)

    def plain_value(self, entry: _Mapping, key: str, field: str, origin: str) -> EnvVar:
        value = entry["value"]
        line = entry.key_lines["value"]
        if value is None:
            raise self.error(
                f"{key} has an empty value",
                line,
                f"{field}.value",
                hint='Write `value: ""` for an empty string, or give the value.',
            )
        if isinstance(value, (_Mapping, _Sequence)):
            raise self.error(
                f"{key}: value must be a string or a number, not {_kind(value)}",
                line,
                f"{field}.value",
                hint='Quote the value if it holds YAML punctuation, e.g. value: "a: b".',
            )
        text = entry.raw.get("value", str(value))
        return EnvVar(key, text, "value", False, origin, line=entry.line)

    def reference(
        self,
        entry: _Mapping,
        form: str,
        field: str,
        key: str,
        required: tuple[str, ...],
        properties: tuple[str, ...],
    ) -> tuple[str, str]:
        """Check a fromDatabase/fromService mapping; return (name, property or envVarKey)."""
        line = entry.key_lines[form]
        ref_field = f"{field}.{form}"
        ref = self.mapping(entry[form], line, ref_field, form)
        needs = [n for n in required if n != "property"]
        needs.append("property or envVarKey" if form == "fromService" else "property")
        for needed in required:
            if not self.text(ref, needed, ref_field):
                raise self.error(
                    f"{key}: {form} has no {needed}",
                    ref.line,
                    f"{ref_field}.{needed}",
                    hint=f"{form} needs {', '.join(needs[:-1])} and {needs[-1]}.",
                )
        name = self.text(ref, "name", ref_field) or ""
        prop = self.text(ref, "property", ref_field)
        env_key = self.text(ref, "envVarKey", ref_field) if form == "fromService" else None
        if prop is not None and env_key is not None:
            raise self.error(
                f"{key}: fromService takes property or envVarKey, not both",
                ref.line,
                ref_field,
            )
        if env_key is not None:
            return name, env_key
        if prop is None:
            raise self.error(
                f"{key}: {form} has no property",
                ref.line,
                f"{ref_field}.property",
                hint=f"Add `property:` ({', '.join(properties)})"
                + (" or `envVarKey:`." if form == "fromService" else "."),
            )
        if prop not in properties:
            raise self.error(
                f"{key}: {form} property {prop!r} is not one Render provides",
                ref.key_lines.get("property", ref.line),
                f"{ref_field}.property",
                hint=_choices_hint(prop, properties),
            )
        return name, prop


# --------------------------------------------------------------------------------------
# Small functions.
# --------------------------------------------------------------------------------------


def _join(field: str, key: Any) -> str:
    return f"{field}.{key}" if field else str(key)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, _Sequence):
        return "a list"
    if isinstance(value, list):
        return "a list of pairs (!!omap or !!pairs)"
    if isinstance(value, (set, frozenset)):
        return "a set (!!set)"
    if value is None:
        return "empty"
    return f"the value {str(value)[:40]!r}"


def _suggest(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` is most likely a misspelling of, if any."""
    known = list(known)
    for name in known:
        if name.lower() == word.lower():
            return name
    matches = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _choices_hint(value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = _suggest(value, choices)
    guess = f"Did you mean {close!r}? " if close else ""
    return f"{guess}Use one of: {', '.join(choices)}."


def _skip_reason(service_type: str, runtime: str) -> str:
    if runtime == "static":
        return "a static site: render-sim builds Python services only"
    if runtime in ("docker", "image"):
        return (
            f"runtime: {runtime}: Render builds it from a Dockerfile or image, not with its "
            "native Python runtime"
        )
    return f"runtime: {runtime}: render-sim builds Python services only"

"""Read a Render Blueprint (render.yaml) into plain data, with the line of everything.

Render validates a Blueprint only when it syncs it, on its servers. render-sim reads it
locally with the same rules for the parts a build depends on, and every problem names the
file, the line and the field (`render.yaml:12: services[0].buildCommand`) with the fix.

Only Python services are built. Every other service (node, docker, static sites, Key
Value, databases) is listed in `Blueprint.skipped` with the reason, so the caller can say
what it left out. Values Render computes or asks for (`generateValue`, `sync: false`,
`fromDatabase`, `fromService`) are modelled the way a build sees them; see `EnvVar`.

The reading is split by concern: `yaml_lines` parses the YAML keeping every line,
`blueprint_fields` reads typed fields with their lines, `services` and `env_vars` read the
services and the environment variables and groups; this module walks the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.config.blueprint_fields import Fields
from simulator.config.env_vars import EnvVarReader, Group
from simulator.config.services import Service, ServiceReader, SkippedService
from simulator.config.source import inside_repo, outside_repo_error
from simulator.config.yaml_lines import LineMapping, parse_yaml
from simulator.errors import ConfigurationError, Location
from simulator.render import facts

BLUEPRINT_NAMES = ("render.yaml", "render.yml")

ROOT_KEYS = facts.blueprint_spec().root_keys  # data/render_blueprint.yaml


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
    """The Blueprint Render would read in `repo`: render.yaml, else render.yml.

    A Blueprint that is a link to a file outside the repo is an error: it is never read.
    """
    for name in BLUEPRINT_NAMES:
        candidate = repo / name
        if candidate.is_file():
            if not inside_repo(repo, candidate):
                raise outside_repo_error(repo, candidate, "Blueprint")
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
    document = parse_yaml(text, shown)
    return _DocumentReader(path, shown, repo_root).read(document)


class _DocumentReader:
    """Walks the YAML tree once: groups first, then services and databases at every level."""

    def __init__(self, path: Path, shown: str, repo_root: Path | None) -> None:
        self.path = path
        self.fields = Fields(shown)
        self.variables = EnvVarReader(self.fields)
        self.services = ServiceReader(self.fields, self.variables, repo_root)

    def read(self, document: Any) -> Blueprint:
        if document is None:
            return self.blueprint()
        fields = self.fields
        root = fields.mapping(
            document,
            1,
            "",
            "the top level of the Blueprint",
            hint="Start with `services:` and list each service under it as `- type: web`.",
        )
        fields.check_keys(root, ROOT_KEYS, "", "the Blueprint's top level")

        shared = self.variables.groups(root, "")
        ungrouped = self.optional_mapping(root, "ungrouped", "ungrouped")
        if ungrouped is not None:
            shared.update(self.variables.groups(ungrouped, "ungrouped"))
        self.entries(root, "", shared)
        if ungrouped is not None:
            self.entries(ungrouped, "ungrouped", shared)
        for project, line, field in fields.sequence(root, "projects", "projects"):
            project = fields.mapping(project, line, field, "a project")
            project_groups = {**shared, **self.variables.groups(project, field)}
            for environment, env_line, env_field in fields.sequence(
                project, "environments", f"{field}.environments"
            ):
                environment = fields.mapping(environment, env_line, env_field, "an environment")
                visible = {**project_groups, **self.variables.groups(environment, env_field)}
                self.entries(environment, env_field, visible)
        return self.blueprint()

    def entries(self, parent: LineMapping, field: str, groups: dict[str, Group]) -> None:
        """The `services:` then the `databases:` of one level (top, ungrouped, environment)."""
        for key in ("services", "databases"):
            for item, line, item_field in self.fields.sequence(
                parent, key, f"{field}.{key}" if field else key
            ):
                if key == "services":
                    self.services.service(item, line, item_field, groups)
                else:
                    self.services.database(item, line, item_field)

    def optional_mapping(self, parent: LineMapping, key: str, field: str) -> LineMapping | None:
        value = parent.get(key)
        if value is None:
            return None
        return self.fields.mapping(value, parent.key_lines.get(key, parent.line), field, key)

    def blueprint(self) -> Blueprint:
        return Blueprint(
            path=self.path,
            services=tuple(self.services.services),
            skipped=tuple(self.services.skipped),
            warnings=tuple(self.fields.warnings),
        )

"""The services of a Blueprint: which are Python services to build, and what each needs.

Only Python services are built. Every other service (node, docker, static sites, Key Value,
databases) becomes a `SkippedService` with the reason, so the caller can say what it left out.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.config.blueprint_fields import Fields, choices_hint, suggest
from simulator.config.env_vars import EnvVar, EnvVarReader, Group
from simulator.config.yaml_lines import LineMapping, LineSequence
from simulator.render import facts

# What Render's Blueprint spec allows (data/render_blueprint.yaml).
_SPEC = facts.blueprint_spec()
SERVICE_TYPES = _SPEC.service_types
BUILT_TYPES = _SPEC.built_types
RUNTIMES = _SPEC.runtimes
SERVICE_KEYS = _SPEC.service_keys
_PYTHON_VERSION_EXAMPLE = "3.13.4"


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


class ServiceReader:
    """Reads each entry of `services:` and `databases:`, collecting what is built and what not."""

    def __init__(self, fields: Fields, env_vars: EnvVarReader, repo_root: Path | None) -> None:
        self.fields = fields
        self.variables = env_vars
        self.repo_root = repo_root
        self.services: list[Service] = []
        self.skipped: list[SkippedService] = []
        self.names: dict[str, int] = {}  # service name -> line

    def database(self, item: Any, line: int, field: str) -> None:
        database = self.fields.mapping(item, line, field, "a database")
        name = self.fields.text(database, "name", field) or "(unnamed)"
        self.skipped.append(
            SkippedService(name, "database", "", "a Render Postgres database: nothing to build")
        )

    def service(self, item: Any, line: int, field: str, groups: dict[str, Group]) -> None:
        service = self.fields.mapping(
            item,
            line,
            field,
            "a service",
            hint="Write each service as `- type: web` followed by indented `name:`, "
            "`runtime:` and `buildCommand:` lines.",
        )
        name = self.fields.text(service, "name", field)
        if not name:
            raise self.fields.error(
                "service has no name",
                line,
                f"{field}.name",
                hint="Add `name: my-service`: Render requires a unique name for each service.",
            )
        if name in self.names:
            raise self.fields.error(
                f"two services are named {name!r} (the first on line {self.names[name]})",
                service.key_lines.get("name", line),
                f"{field}.name",
                hint="Service names must be unique within a Blueprint: rename one of them.",
            )
        self.names[name] = service.key_lines.get("name", line)

        service_type = self.fields.text(service, "type", field)
        if not service_type:
            raise self.fields.error(
                f"service {name!r} has no type",
                line,
                f"{field}.type",
                hint="Add `type: web` (or pserv, worker, cron, keyvalue).",
            )
        if service_type not in SERVICE_TYPES:
            raise self.fields.error(
                f"service {name!r} has unknown type {service_type!r}",
                service.key_lines["type"],
                f"{field}.type",
                hint=choices_hint(service_type, SERVICE_TYPES),
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

    def runtime(self, service: LineMapping, name: str, field: str, line: int) -> tuple[str, bool]:
        runtime = self.fields.text(service, "runtime", field)
        legacy = self.fields.text(service, "env", field)
        if runtime is None and legacy is not None:
            runtime, from_legacy = legacy, True
            key = "env"
        else:
            from_legacy = False
            key = "runtime"
        if runtime is None:
            raise self.fields.error(
                f"service {name!r} has no runtime",
                line,
                f"{field}.runtime",
                hint="Add `runtime: python` (or node, docker, static, ...).",
            )
        if runtime not in RUNTIMES:
            raise self.fields.error(
                f"service {name!r} has unknown {key} {runtime!r}",
                service.key_lines[key],
                f"{field}.{key}",
                hint=choices_hint(runtime, RUNTIMES),
            )
        if from_legacy:
            self.fields.warn(
                f"`env: {runtime}` is the old spelling: Render still accepts it, but `runtime:` "
                f"replaced `env:` (and Render's JSON schema rejects `env:`). Write "
                f"`runtime: {runtime}`.",
                service.key_lines["env"],
                f"{field}.env",
            )
        elif legacy is not None:
            self.fields.warn(
                f"`env: {legacy}` is ignored: `runtime: {runtime}` replaced it. Remove `env:`.",
                service.key_lines["env"],
                f"{field}.env",
            )
        return runtime, from_legacy

    def python_service(
        self,
        service: LineMapping,
        name: str,
        service_type: str,
        legacy: bool,
        field: str,
        groups: dict[str, Group],
    ) -> Service:
        line = service.line
        self.reject_python_version_keys(service, field)
        self.fields.check_keys(service, SERVICE_KEYS, field, f"service {name!r}")

        build_command = self.fields.text(service, "buildCommand", field)
        if "buildCommand" in service and (build_command is None or not build_command.strip()):
            raise self.fields.error(
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
                if key != "buildCommand" and suggest(str(key), {"buildCommand"})
            ]
            typo = f" The key {near[0]!r} looks like a misspelling of it." if near else ""
            where = service.key_lines[near[0]] if near else line
            raise self.fields.error(
                f"Python service {name!r} has no buildCommand",
                where,
                f"{field}.buildCommand",
                hint="Render requires a build command for every non-Docker service and runs "
                "nothing else: add e.g. `buildCommand: pip install -r requirements.txt`." + typo,
            )
        start_command = self.fields.text(service, "startCommand", field)
        if start_command is None:
            self.fields.warn(
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
            plan=self.fields.text(service, "plan", field),
            region=self.fields.text(service, "region", field),
            env_vars=tuple(
                self.variables.env_vars(service, field, visible=groups, origin="service")
            ),
            line=line,
            runtime_from_legacy_env=legacy,
        )

    def reject_python_version_keys(self, service: LineMapping, field: str) -> None:
        for key in service:
            if not isinstance(key, str):
                continue
            normal = key.lower().replace("_", "").replace("-", "")
            if normal not in ("pythonversion", "python"):
                continue
            value = (
                self.fields.text(service, key, field)
                if not isinstance(service[key], (LineMapping, LineSequence))
                else None
            )
            example = value if value and value.count(".") == 2 else _PYTHON_VERSION_EXAMPLE
            raise self.fields.error(
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

    def root_dir(self, service: LineMapping, field: str) -> str:
        raw = self.fields.text(service, "rootDir", field)
        if raw is None:
            return ""
        line = service.key_lines["rootDir"]
        where_field = f"{field}.rootDir"
        text = raw.strip()
        if text.startswith("/") or text.startswith("\\") or (len(text) > 1 and text[1] == ":"):
            raise self.fields.error(
                f"rootDir {text!r} is an absolute path",
                line,
                where_field,
                hint="rootDir is relative to the repository root: write e.g. `rootDir: backend`.",
            )
        normal = posixpath.normpath(text) if text else "."
        if normal == ".." or normal.startswith("../"):
            raise self.fields.error(
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
                raise self.fields.error(
                    missing,
                    line,
                    where_field,
                    hint="Fix rootDir or create the directory; it is relative to the "
                    "repository root and is case-sensitive.",
                )
            try:
                target.resolve().relative_to(self.repo_root.resolve())
            except ValueError as error:
                raise self.fields.error(
                    f"rootDir {text!r} leads outside the repository through a symbolic link",
                    line,
                    where_field,
                    hint="Point rootDir at a real directory inside the repository.",
                ) from error
        return normal

    # -- environment variables ----------------------------------------------------------


def _skip_reason(service_type: str, runtime: str) -> str:
    if runtime == "static":
        return "a static site: render-sim builds Python services only"
    if runtime in ("docker", "image"):
        return (
            f"runtime: {runtime}: Render builds it from a Dockerfile or image, not with its "
            "native Python runtime"
        )
    return f"runtime: {runtime}: render-sim builds Python services only"

"""Which Docker engine render-sim talks to, chosen as the docker CLI chooses it.

An engine is named by a URL the Docker SDK reaches (`unix:///var/run/docker.sock`,
`tcp://builder:2376`, `ssh://ci@builder`) or by a Docker context (`docker context create`). The
first of these wins, in the docker CLI's order (docker/cli, cli/command/cli.go,
`resolveContextName`):

1. `--engine URL|CONTEXT` (`scenarios run`, repeatable) or `--context NAME` (any command);
2. `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, as `docker.from_env` reads them);
3. `DOCKER_CONTEXT`;
4. the context `docker context use` made current (`currentContext` in `config.json`);
5. the local socket.

Contexts are read from the docker CLI's store, `$DOCKER_CONFIG/contexts/` (default
`~/.docker/contexts/`): `meta/<sha256 of the name>/meta.json` holds the endpoint, `tls/<same>/docker/`
its certificates. The store is read here rather than with the SDK's `docker.context`: that one
finds the store beside `config.json`, and when there is none (a fresh `DOCKER_CONFIG` where only
`docker context create` ran) it looks in `./contexts` of the working directory
(docker-py, docker/context/config.py `get_context_dir`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.tls import TLSConfig

from simulator.build.engine import MIN_API_VERSION
from simulator.errors import ConfigurationError, DockerUnavailableError, UsageError

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"  # the docker CLI's name for "DOCKER_HOST, else the local socket"
CLIENT_TIMEOUT_S = 300

#: Set by the command line's `--context NAME` (render-sim --context NAME COMMAND ...).
_chosen_context: list[str] = []


@dataclass(frozen=True)
class Endpoint:
    """A Docker engine to connect to, and why it is the one."""

    host: str  # the URL the SDK connects to
    source: str  # "--engine", "--context", "DOCKER_HOST", "DOCKER_CONTEXT", "current context", "default"
    context: str = ""  # the Docker context it came from ("" when given as a URL)
    tls: TLSConfig | None = None

    @property
    def name(self) -> str:
        """What people read: the context's name, else the URL."""
        return self.context or self.host

    def describe(self) -> str:
        """`context builder (ssh://ci@builder), from --context` or `unix:///... (default)`."""
        where = f"context {self.context} ({self.host})" if self.context else self.host
        return f"{where}, from {self.source}" if self.source != "default" else f"{where} (default)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "source": self.source,
            "context": self.context or None,
            "tls": self.tls is not None,
        }


@dataclass(frozen=True)
class Engine:
    """A connected engine: where it is, and a client for it."""

    endpoint: Endpoint
    client: docker.DockerClient

    @property
    def name(self) -> str:
        return self.endpoint.name


def choose_context(name: str | None) -> None:
    """Make `name` the context of every connection this process makes (`--context NAME`)."""
    _chosen_context[:] = [name] if name else []


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The docker CLI's configuration folder: `$DOCKER_CONFIG`, else `~/.docker`."""
    env = os.environ if env is None else env
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def resolve(
    engine: str | None = None,
    *,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Endpoint:
    """The endpoint to use, in the docker CLI's order (see the module docstring)."""
    env = os.environ if env is None else env
    context = context or (_chosen_context[0] if _chosen_context else None)
    if engine and context:
        raise UsageError(
            f"both --engine {engine} and --context {context} name an engine",
            hint="give one of them (--engine takes a URL or a context name)",
        )
    if engine:
        if "://" in engine:
            return Endpoint(engine, "--engine")
        return _from_context(engine, "--engine", env)
    if context:
        return _from_context(context, "--context", env)
    if env.get("DOCKER_HOST"):
        return _default(env, "DOCKER_HOST")
    if env.get("DOCKER_CONTEXT"):
        return _from_context(env["DOCKER_CONTEXT"], "DOCKER_CONTEXT", env)
    current = _current_context(env)
    if current and current != DEFAULT_CONTEXT:
        return _from_context(current, "current context", env)
    return _default(env, "default")


def _default(env: Mapping[str, str], source: str) -> Endpoint:
    kwargs = docker.utils.kwargs_from_env(environment=dict(env))
    return Endpoint(kwargs.get("base_url") or DEFAULT_HOST, source, tls=kwargs.get("tls"))


def _current_context(env: Mapping[str, str]) -> str | None:
    """`currentContext` of the docker CLI's config.json (None when unset or unreadable)."""
    path = config_dir(env) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = data.get("currentContext") if isinstance(data, dict) else None
    return current if isinstance(current, str) and current else None


def _context_id(name: str) -> str:
    """The store's folder name for a context: the SHA-256 of its name (docker/cli store.go)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def known_contexts(env: Mapping[str, str] | None = None) -> list[str]:
    """The names of the contexts in the docker CLI's store."""
    meta = config_dir(env) / "contexts" / "meta"
    names = []
    for path in sorted(meta.glob("*/meta.json")) if meta.is_dir() else []:
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("Name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str):
            names.append(name)
    return sorted(names)


def _from_context(name: str, source: str, env: Mapping[str, str]) -> Endpoint:
    """The docker endpoint of context `name`, read from the docker CLI's store."""
    if name == DEFAULT_CONTEXT:
        return _default(env, source)
    store = config_dir(env) / "contexts"
    meta = store / "meta" / _context_id(name) / "meta.json"
    if not meta.is_file():
        known = ", ".join([DEFAULT_CONTEXT, *known_contexts(env)])
        raise UsageError(
            f"no Docker context named {name!r} (from {source}) in {store}",
            hint=f"contexts there: {known}; make one with `docker context create {name} "
            "--docker host=URL`, or pass the engine's URL",
        )
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        endpoint = data["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"Docker context {name!r}: {meta} has no docker endpoint render-sim can read",
            hint=f"`docker context inspect {name}` shows it; recreate it with "
            f"`docker context create {name} --docker host=URL`",
        ) from None
    tls = _context_tls(store / "tls" / _context_id(name) / "docker", endpoint)
    return Endpoint(host, source, context=name, tls=tls)


def _context_tls(folder: Path, endpoint: Mapping[str, Any]) -> TLSConfig | None:
    """The context's TLS material (ca.pem, cert.pem, key.pem), as the docker CLI stores it."""
    if not folder.is_dir():
        return None
    ca, cert, key = (folder / name for name in ("ca.pem", "cert.pem", "key.pem"))
    return TLSConfig(
        client_cert=(str(cert), str(key)) if cert.is_file() and key.is_file() else None,
        ca_cert=str(ca) if ca.is_file() else None,
        verify=not endpoint.get("SkipTLSVerify", False),
    )


def connect(endpoint: Endpoint | None = None) -> docker.DockerClient:
    """A client for `endpoint` (default: `resolve()`), or `DockerUnavailableError` saying where."""
    endpoint = endpoint or resolve()
    try:
        client = docker.DockerClient(
            base_url=endpoint.host,
            tls=endpoint.tls or False,
            timeout=CLIENT_TIMEOUT_S,
            # the ssh binary, with the user's ssh config and agent (paramiko is not installed)
            use_ssh_client=endpoint.host.startswith("ssh://"),
        )
        version = client.version()
    except docker.errors.DockerException as exc:
        local = endpoint.source == "default"
        raise DockerUnavailableError(
            f"no Docker engine answers at {endpoint.describe()}: {_first_line(exc)}",
            hint=(
                "start one: `make engine` (installs Debian's docker.io and starts dockerd), or "
                "`sudo systemctl start docker`; set DOCKER_HOST for a remote engine"
                if local
                else f"check that the engine at {endpoint.host} runs and that this machine may "
                "reach it (`docker --host URL info` or `docker --context NAME info`)"
            ),
        ) from None
    api = tuple(int(p) for p in str(version.get("ApiVersion", "0.0")).split(".")[:2])
    if api < MIN_API_VERSION:
        raise DockerUnavailableError(
            f"the Docker engine at {endpoint.describe()} has API {version.get('ApiVersion')}, "
            f"too old (found {version.get('Version')}, render-sim needs API >= 1.41, Docker 20.10)",
            hint="upgrade the Docker engine",
        )
    return client


def connect_all(names: Sequence[str]) -> list[Engine]:
    """One connected `Engine` per name (URL or context), each named once; none: the default."""
    endpoints = [resolve(name) for name in names] if names else [resolve()]
    seen: dict[str, str] = {}
    for endpoint, given in zip(endpoints, names or [""], strict=True):
        if endpoint.host in seen:
            raise UsageError(
                f"--engine {given} and --engine {seen[endpoint.host]} are the same engine "
                f"({endpoint.host})",
                hint="name each engine once; --jobs N gives each engine N workers",
            )
        seen[endpoint.host] = given
    return [Engine(endpoint, connect(endpoint)) for endpoint in endpoints]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__

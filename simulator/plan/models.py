"""The plan as data: the options a run was given (`Options`), what each service's build will be
(`ServicePlan`: Python and where it came from, build command, environment, limits, files,
differences from Render) and the whole plan (`BuildPlan`). `plan.build_plan.make_plan` makes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from simulator.config import python_version, source
from simulator.plan.lint import Lint
from simulator.plan.machine import SRC_DIR, Limits

RENDER_DOCS_PYTHON = "https://render.com/docs/python-version"
CA_IN_IMAGE = "/etc/render-sim/ca-bundle.crt"
CA_ENV_VARS = (
    "PIP_CERT",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "CARGO_HTTP_CAINFO",
    "GIT_SSL_CAINFO",
)
VENV = f"{SRC_DIR}/.venv"
BASE_PATH = "/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UV_DIR = "/opt/render-sim/uv"
RENDER = Limits()


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line (or a scenario manifest)."""

    service: str | None = None
    build_command: str | None = None  # for a repo without render.yaml (or to override)
    env_file: Path | None = None
    python: str | None = None  # --python: like setting PYTHON_VERSION
    created: date | None = None  # the service's creation date (Render's default depends on it)
    memory_bytes: int = RENDER.memory_bytes
    cpus: float = RENDER.cpus
    timeout_s: float = RENDER.timeout_s
    idle_timeout_s: float = RENDER.idle_timeout_s
    disk_bytes: int = RENDER.disk_bytes  # the writable space (Render cancels a build past 16 GB)
    base_image: str | None = None
    ca_cert: Path | None = (
        None  # None: detect from the host's PIP_CERT/SSL_CERT_FILE/REQUESTS_CA_BUNDLE
    )
    no_ca: bool = False
    probe_network: bool = True  # False: skip the crates.io probe (commands that run no build)
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables (not secret)
    network: str = (
        ""  # "" the internet, "none", or a Docker network to join (container.BuildContainer)
    )
    build_cache: bool = True  # keep pip/uv caches between runs, as Render's build cache
    clear_cache: bool = False  # Render's "Clear build cache & deploy"


@dataclass(frozen=True)
class ServicePlan:
    """Everything the build of one service needs, decided before any container runs."""

    name: str
    type: str
    root_dir: str
    build_command: str
    python: python_version.PythonChoice
    env: dict[str, str]  # the service's own variables (blueprint, groups, env file, --python)
    secret_keys: frozenset[str]
    render_env: dict[str, str]  # what Render itself sets (RENDER=true, VENV_ROOT, ...)
    files: tuple[str, ...]
    poetry_version: str
    uv_version: str  # "" when the service root has no uv.lock
    base: str  # the base image, or a prediction when no engine was asked
    limits: Limits
    differences: tuple[str, ...]
    warnings: tuple[str, ...]
    image_python: str = ""  # the interpreter the image really runs, when known
    #: False: no base image for this Python can be found, pulled or bootstrapped here (simulate
    #: stops with exit 5); None: not known (no engine was asked)
    buildable_here: bool | None = None
    lints: tuple[Lint, ...] = ()  # the build-command lint (simulator.plan.lint)
    network: str = ""  # see Options.network
    cache_key: str = ""  # the build cache this service uses ("" = none)
    clear_cache: bool = False
    #: False: the plan probed crates.io from here and nothing answered (a closed network: cargo
    #: then fails on the network where Render's build fails on its read-only /usr/local/cargo);
    #: None: not probed
    crates_io_reachable: bool | None = None

    @property
    def workdir(self) -> str:
        return f"{SRC_DIR}/{self.root_dir}".rstrip("/")

    def build_env(self) -> dict[str, str]:
        """The whole environment of the build command (Render's variables, then the service's)."""
        return {**self.render_env, **self.env}

    def secrets(self) -> list[str]:
        """The secret values, for masking every output."""
        return [v for k, v in self.env.items() if k in self.secret_keys and v]

    def masked_env(self) -> dict[str, str]:
        return {k: ("••••••" if k in self.secret_keys else v) for k, v in self.env.items()}

    def render_log_lines(self) -> list[str]:
        """Render's `==>` lines before the build command runs (2026 order)."""
        lines = [
            self.python.log_line,
            f"==> Docs on specifying a Python version: {RENDER_DOCS_PYTHON}",
            f"==> Installing Python version {self.python.version}...",
            f"==> Using Poetry version {self.poetry_version} "
            + (
                "via environment variable POETRY_VERSION"
                if "POETRY_VERSION" in self.env
                else "(default)"
            ),
            "==> Docs on specifying a Poetry version: https://render.com/docs/poetry-version",
        ]
        if self.uv_version:
            lines.append(
                f"==> Using uv version {self.uv_version} "
                + (
                    "via environment variable UV_VERSION"
                    if "UV_VERSION" in self.env
                    else "(default)"
                )
            )
        lines.append(f"==> Running build command '{self.build_command}'...")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "root_dir": self.root_dir,
            "build_command": self.build_command,
            "python": {
                "version": self.python.version,
                "source": self.python.source,
                "requested": self.python.requested,
                "log_line": self.python.log_line,
                "image_version": self.image_python or None,
            },
            "image": {"base": self.base},
            "poetry_version": self.poetry_version,
            "uv_version": self.uv_version or None,
            "limits": {
                "memory_bytes": self.limits.memory_bytes,
                "cpus": self.limits.cpus,
                "timeout_s": self.limits.timeout_s,
                "idle_timeout_s": self.limits.idle_timeout_s,
            },
            "network": self.network or "default",
            "build_cache": bool(self.cache_key),
            "env": self.masked_env(),
            "render_env": sorted(self.render_env),
            "files": list(self.files),
            "differences": list(self.differences),
            "warnings": list(self.warnings),
            "buildable_here": self.buildable_here,
            "lint": [item.to_dict() for item in self.lints],
        }


@dataclass(frozen=True)
class BuildPlan:
    repo: Path
    blueprint: Path | None
    services: tuple[ServicePlan, ...]
    skipped: tuple[dict[str, str], ...]
    warnings: tuple[str, ...]
    git: source.GitInfo
    ca_cert: Path | None
    ca_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "blueprint": str(self.blueprint) if self.blueprint else None,
            "git": {"commit": self.git.commit or None, "branch": self.git.branch or None},
            "ca_cert": str(self.ca_cert) if self.ca_cert else None,
            "services": [s.to_dict() for s in self.services],
            "skipped": list(self.skipped),
            # every warning: the Blueprint's and the checkout's, then each service's
            "warnings": [
                *self.warnings,
                *(f"service {s.name}: {w}" for s in self.services for w in s.warnings),
            ],
        }

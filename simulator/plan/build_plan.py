"""The build plan: what a simulation will do for each service, and how it differs from Render.

`make_plan` is pure apart from reading the repo and (optionally) asking the Docker engine which
images are present: config -> plan. The container run only follows the plan.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from simulator.config import python_version, source
from simulator.config.blueprint import Blueprint, Service, find_blueprint, load_blueprint
from simulator.config.ca_bundle import check_ca_bundle
from simulator.config.env_file import read_env_file
from simulator.errors import ConfigurationError, NothingToBuildError, UsageError
from simulator.index.session import host_ca_bundle
from simulator.plan import base_images
from simulator.plan.engine_limits import engine_differences
from simulator.plan.lint import LintInput, lint
from simulator.plan.machine import Limits
from simulator.plan.models import (
    BASE_PATH,
    CA_ENV_VARS,
    CA_IN_IMAGE,
    RENDER,
    UV_DIR,
    VENV,
    BuildPlan,
    Options,
    ServicePlan,
)
from simulator.render import facts
from simulator.units import size_text

# -- data -------------------------------------------------------------------------------------


@functools.cache
def _tool_versions() -> dict[str, list[tuple[date, str]]]:
    data = facts.load("render_tool_versions")
    return {
        tool: sorted(((row["since"], str(row["version"])) for row in data[tool]), reverse=True)
        for tool in ("poetry", "uv")
    }


def default_tool_version(tool: str, created: date) -> str:
    """Render's default Poetry or uv for a service created on `created`."""
    for since, version in _tool_versions()[tool]:
        if created >= since:
            return version
    raise ValueError(f"no default {tool} version for {created}")


# -- inputs -----------------------------------------------------------------------------------


def find_ca_cert(explicit: Path | None, disabled: bool = False) -> tuple[Path | None, str]:
    """The CA bundle to trust inside the container, and where it came from."""
    if disabled:
        return None, ""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"--ca-cert {explicit} is not a file", hint="give a PEM CA bundle")
        check_ca_bundle(explicit)
        return explicit, "--ca-cert"
    return host_ca_bundle()  # the bundle render-sim's own index requests trust


@functools.cache
def reachable(host: str, timeout: float = 3.0) -> bool:
    """Whether `host` answers a TCP connection on port 443 from here (once per process)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1)
    return bool(result and result[0])


def crates_io_reachable(timeout: float = 3.0) -> bool:
    """Whether index.crates.io answers a TCP connection from here (checked once per process)."""
    return reachable("index.crates.io", timeout)


def registry_reachable(timeout: float = 3.0) -> bool:
    """Whether Docker Hub's registry answers from here (where python:X.Y.Z images come from)."""
    return reachable("registry-1.docker.io", timeout)


# -- the plan ---------------------------------------------------------------------------------


def make_plan(repo: Path, options: Options, *, client: Any = None) -> BuildPlan:
    """Plan the simulation of `repo`'s Python services (one when `options.service` is set).

    `client` (a Docker client, optional) lets the plan name the exact base image and the Python
    it runs; without it the plan says what the base will be.
    """
    repo = repo.resolve()
    if not repo.is_dir():
        raise UsageError(f"{repo} is not a directory", hint="pass the path of your repo")
    blueprint_path = find_blueprint(repo)
    blueprint: Blueprint | None = None
    warnings: list[str] = []
    if blueprint_path is not None:
        blueprint = load_blueprint(blueprint_path, repo)
        warnings += blueprint.warnings
    services = _services(repo, blueprint, options)
    env_file = read_env_file(options.env_file) if options.env_file else {}
    ca_cert, ca_source = find_ca_cert(options.ca_cert, options.no_ca)
    git = source.git_info(repo)
    if git.dirty:
        warnings.append(
            f"{len(git.dirty)} tracked file(s) have uncommitted changes ({', '.join(git.dirty[:3])}"
            f"{', ...' if len(git.dirty) > 3 else ''}): they are copied as in your working tree; "
            "Render builds the pushed commit"
        )
    if git.untracked:
        warnings.append(
            f"{git.untracked} untracked file(s) are not copied: Render's checkout would not have them"
        )
    plans = tuple(
        _service_plan(repo, service, options, env_file, ca_cert, ca_source, git, client)
        for service in services
    )
    skipped = tuple(
        {"name": s.name, "type": s.type, "runtime": s.runtime, "reason": s.reason}
        for s in (blueprint.skipped if blueprint else ())
    )
    return BuildPlan(repo, blueprint_path, plans, skipped, tuple(warnings), git, ca_cert, ca_source)


def _services(repo: Path, blueprint: Blueprint | None, options: Options) -> list[Service]:
    if blueprint is None:
        if not options.build_command:
            raise NothingToBuildError(
                f"{repo} has no render.yaml (or render.yml)",
                hint="add a Blueprint, or pass the build command: --build-command 'pip install -r requirements.txt'",
            )
        return [
            Service(
                name=options.service or repo.name,
                type="web",
                runtime="python",
                root_dir="",
                build_command=options.build_command,
                start_command=None,
                plan=None,
                region=None,
                env_vars=(),
                line=0,
                runtime_from_legacy_env=False,
            )
        ]
    chosen = [blueprint.service(options.service)] if options.service else list(blueprint.services)
    if not chosen:
        skipped = ", ".join(f"{s.name} ({s.reason})" for s in blueprint.skipped) or "none"
        raise NothingToBuildError(
            f"{blueprint.path} has no Python service to build (skipped: {skipped})",
            hint="render-sim builds services with `runtime: python`; or pass --build-command",
        )
    if options.build_command:
        chosen = [replace(s, build_command=options.build_command) for s in chosen]
    return chosen


def _service_plan(
    repo: Path,
    service: Service,
    options: Options,
    env_file: dict[str, str],
    ca_cert: Path | None,
    ca_source: str,
    git: source.GitInfo,
    client: Any,
) -> ServicePlan:
    env = service.env()
    secret_keys = {v.key for v in service.env_vars if v.secret}
    env.update(options.env)
    env.update(env_file)
    secret_keys |= set(env_file)
    warnings: list[str] = []
    if options.python:
        env["PYTHON_VERSION"] = options.python
    for var in service.env_vars:
        if var.value is None and var.key not in env:
            warnings.append(
                f"{var.key} is `sync: false` in the Blueprint (typed into Render's Dashboard): "
                "it is unset here; pass it with --env-file"
            )
    created = options.created or date.today()
    choice = python_version.choose_python(env, repo, service.root_dir, created)
    warnings += choice.warnings
    root = repo / service.root_dir if service.root_dir else repo
    uv_version = ""
    if (root / "uv.lock").is_file():
        uv_version = env.get("UV_VERSION") or default_tool_version("uv", created)
    poetry_version = env.get("POETRY_VERSION") or default_tool_version("poetry", created)
    if not service.build_command:
        raise ConfigurationError(
            f"service {service.name!r} has no buildCommand",
            hint="add `buildCommand: pip install -r requirements.txt` or pass --build-command",
        )
    files = source.list_files(repo, service.root_dir)
    limits = Limits(
        options.memory_bytes,
        options.cpus,
        options.timeout_s,
        options.idle_timeout_s,
        options.disk_bytes,
    )
    base = base_images.predict_base(choice.version, options.base_image)
    differences: list[str] = []
    image_python = ""
    buildable: bool | None = None
    if client is not None:
        found = base_images.find_base(client, choice.version, options.base_image)
        if found is not None:
            base = found.ref
            image_python = found.python
            differences += found.differences(choice.version)
        standin = base_images.minor_of(choice.version) in base_images.standin_suites().pythons
        buildable = buildable_here(
            found is not None,
            standin,
            options.base_image,
            registry_reachable if not found and not standin else lambda: True,
        )
        if buildable is False:
            differences.insert(0, base_images.no_offline_python(choice.version).message)
    elif base_images.minor_of(choice.version) in base_images.standin_suites().pythons:
        differences.append(
            "the base image is decided when the build starts: a stand-in, if used, differs from "
            "Render in its Python patch release and glibc (shown then)"
        )
    if client is not None:
        differences += engine_differences(client, limits, options.network)
    differences += _fixed_differences(
        limits, ca_cert, ca_source, options.probe_network and options.network == ""
    )
    if not options.build_cache:
        differences.append(
            "no build cache (--no-cache): every simulation starts as Render's first deploy"
        )
    if options.network:
        differences.append(
            "no network: the build reaches nothing"
            if options.network == "none"
            else f"the build joins Docker network {options.network!r} instead of the internet; "
            "the host's own services are not blocked there"
        )
    render_env = _render_env(service, git, repo, uv_version, ca_cert)
    crates = crates_io_reachable() if options.probe_network and not options.network else None
    if crates is False:
        # Unreachable is unreachable: retries only add minutes that Render's build never spends.
        render_env["CARGO_NET_RETRY"] = "0"
    return ServicePlan(
        name=service.name,
        type=service.type,
        root_dir=service.root_dir,
        build_command=service.build_command,
        python=choice,
        env=env,
        secret_keys=frozenset(secret_keys),
        render_env=render_env,
        files=files,
        poetry_version=poetry_version,
        uv_version=uv_version,
        base=base,
        limits=limits,
        differences=tuple(differences),
        warnings=tuple(warnings),
        image_python=image_python,
        buildable_here=buildable,
        crates_io_reachable=crates,
        lints=tuple(
            lint(
                LintInput(
                    repo,
                    service.root_dir,
                    service.build_command,
                    env,
                    files,
                    choice.version,
                    choice.source,
                )
            )
        ),
        network=options.network,
        cache_key=f"{repo}:{service.name}:{choice.version}" if options.build_cache else "",
        clear_cache=options.clear_cache,
    )


def buildable_here(
    found: bool, standin: bool, base_image: str | None, registry: Callable[[], bool]
) -> bool | None:
    """Can this machine get a base image for the service's Python: one found here, a stand-in
    to bootstrap from Debian, or a registry to pull from (`registry()` is asked last, it probes
    the network)? None when a custom --base-image is missing (its registry is unknown)."""
    if found or standin:
        return True
    if base_image:
        return None
    return registry()


def _fixed_differences(
    limits: Limits, ca_cert: Path | None, ca_source: str, probe_network: bool = True
) -> list[str]:
    out = []
    if limits.memory_bytes != RENDER.memory_bytes:
        out.append(
            f"memory limit {memory_text(limits.memory_bytes)} (Render's build pipeline: 8 GB)"
        )
    if limits.cpus != RENDER.cpus:
        out.append(f"{limits.cpus:g} CPUs (Render's build pipeline: 2)")
    if limits.disk_bytes != RENDER.disk_bytes:
        out.append(f"disk limit {size_text(limits.disk_bytes)} (Render's build: 16 GB)")
    if limits.timeout_s != RENDER.timeout_s:
        out.append(f"time limit {limits.timeout_s / 60:g} min (Render: 120 min)")
    if probe_network and not crates_io_reachable():
        out.append(
            "crates.io is not reachable from here: a Rust source build (pydantic-core, tiktoken, "
            "...) fails here on the network, where Render fails at once with `Read-only file "
            "system (os error 30)` under /usr/local/cargo; the diagnosis is the same. cargo's "
            "network retries are off (CARGO_NET_RETRY=0): with them it would spend about 11 s "
            "per crate (minutes for pydantic-core) before failing"
        )
    if ca_cert is not None:
        out.append(
            f"extra CA bundle {ca_cert} (from {ca_source}) is trusted inside through "
            + ", ".join(CA_ENV_VARS)
        )
    left_out = [t.name for t in base_images.build_tools() if not t.installed]
    out.append(
        "build tools on Render but not here: " + ", ".join(left_out) + " (`render-sim doctor`)"
    )
    return out


def memory_text(n: int, sep: str = " ") -> str:
    """A memory size as people write it: "8 GB", "512 MB" (sep="" gives Render's "8GB")."""
    return f"{n / 1024**3:g}{sep}GB" if n >= 1024**3 else f"{n / 1024**2:g}{sep}MB"


def _render_env(
    service: Service,
    git: source.GitInfo,
    repo: Path,
    uv_version: str,
    ca_cert: Path | None,
) -> dict[str, str]:
    """The variables Render sets for a Python build (data/render_build_env.yaml), and PATH."""
    service_id = (
        "srv-"
        + hashlib.sha256(f"{repo}:{service.name}".encode("utf-8", "surrogateescape")).hexdigest()[
            :20
        ]
    )
    uv_bin = [f"{UV_DIR}/bin"] if uv_version else []
    path = ":".join([f"{VENV}/bin", *uv_bin, "/opt/render/project/poetry/bin", BASE_PATH])
    env = {
        "PATH": path,
        **facts.build_env(
            service_id=service_id,
            service_name=service.name,
            service_type=service.type,
            git_commit=git.commit or "0" * 40,
            git_branch=git.branch or "main",
            git_slug=git.slug,
            venv=VENV,
        ),
    }
    if ca_cert is not None:
        env.update({name: CA_IN_IMAGE for name in CA_ENV_VARS})
    return env

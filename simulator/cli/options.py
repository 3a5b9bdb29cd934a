"""The options the commands share: typer's annotated types, and the plan's `Options` they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.configured import resolve_options
from simulator.plan.models import Options
from simulator.units import (
    parse_bytes,
    parse_cpus,
    parse_date,
    parse_image_reference,
    parse_seconds,
)

Repo = Annotated[
    Path, typer.Argument(help="The repo to simulate (default: the current directory).")
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Service = Annotated[
    str | None, typer.Option("--service", "-s", help="Only this service of render.yaml.")
]
BuildCommand = Annotated[
    str | None,
    typer.Option(
        "--build-command", help="Build command (for a repo without render.yaml, or to override)."
    ),
]
EnvFile = Annotated[
    Path | None, typer.Option("--env-file", help="KEY=VALUE file of extra (secret) env vars.")
]
Python = Annotated[
    str | None, typer.Option("--python", help="Like setting PYTHON_VERSION (X.Y.Z).")
]
Created = Annotated[
    str | None,
    typer.Option(
        "--created",
        help="The service's creation date YYYY-MM-DD (Render's default Python depends on it; default today).",
    ),
]
Memory = Annotated[str, typer.Option("--memory", help="Memory limit, 6m to 1024g (Render: 8g).")]
Cpus = Annotated[
    float, typer.Option("--cpus", help="CPU limit, 0.01 to the engine's CPU count (Render: 2).")
]
Timeout = Annotated[
    str,
    typer.Option("--timeout", help="Total time limit: minutes, or 90s / 30m / 2h (Render: 120m)."),
]
IdleTimeout = Annotated[
    str, typer.Option("--idle-timeout", help="Stop after this long without output (0 = never).")
]
BaseImage = Annotated[
    str | None,
    typer.Option("--base-image", help="Build on this image instead of python:X.Y.Z-slim-bookworm."),
]
CaCert = Annotated[
    Path | None,
    typer.Option(
        "--ca-cert",
        help="CA bundle to trust inside (default: $PIP_CERT, $SSL_CERT_FILE or $REQUESTS_CA_BUNDLE).",
    ),
]
NoCa = Annotated[bool, typer.Option("--no-ca", help="Trust no extra CA bundle inside.")]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline", help="Do not ask the package index to check fixes (cached facts only)."
    ),
]
NoPull = Annotated[
    bool,
    typer.Option(
        "--no-pull", help="Never pull base images; use local ones or bootstrap a stand-in."
    ),
]


Network = Annotated[
    str,
    typer.Option(
        "--network",
        help="Docker network the build joins instead of the internet, where the host's own "
        "services are blocked ('none': no network).",
    ),
]


def build_options(
    service: str | None,
    build_command: str | None,
    env_file: Path | None,
    python: str | None,
    created: str | None,
    memory: str,
    cpus: float,
    timeout: str,
    idle_timeout: str,
    base_image: str | None,
    ca_cert: Path | None,
    no_ca: bool,
    context: typer.Context | None = None,
) -> Options:
    given = resolve_options(  # command line > RENDER_SIM_* > the repo's settings file > default
        context, service=service, build_command=build_command, env_file=env_file, python=python,
        created=created, memory=memory, cpus=cpus, timeout=timeout, idle_timeout=idle_timeout,
        base_image=base_image, ca_cert=ca_cert, no_ca=no_ca,
    ).values  # fmt: skip
    return Options(
        service=given["service"],
        build_command=given["build_command"],
        env_file=given["env_file"],
        python=given["python"],
        created=parse_date(given["created"]),
        memory_bytes=parse_bytes(given["memory"]),
        cpus=parse_cpus(given["cpus"]),
        timeout_s=parse_seconds(given["timeout"], "--timeout", allow_zero=False),
        idle_timeout_s=parse_seconds(given["idle_timeout"], "--idle-timeout"),
        base_image=parse_image_reference(given["base_image"]) if given["base_image"] else None,
        ca_cert=given["ca_cert"],
        no_ca=given["no_ca"],
    )

"""`render-sim plan`: what simulate would do, and how this run differs from Render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from simulator.build import engine
from simulator.cli.options import (
    BaseImage,
    BuildCommand,
    CaCert,
    Cpus,
    Created,
    EnvFile,
    IdleTimeout,
    Json,
    Memory,
    NoCa,
    Python,
    Repo,
    Service,
    Timeout,
    build_options,
)
from simulator.errors import ImageUnavailableError, RenderSimError
from simulator.plan.build_plan import make_plan
from simulator.report import console as report


def plan(
    repo: Repo = Path("."),
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Python = None,
    created: Created = None,
    memory: Memory = "8g",
    cpus: Cpus = 2.0,
    timeout: Timeout = "120m",
    idle_timeout: IdleTimeout = "30m",
    base_image: BaseImage = None,
    ca_cert: CaCert = None,
    no_ca: NoCa = False,
) -> None:
    """Show what `simulate` would do, and how this run differs from Render (no build)."""
    options = build_options(
        service,
        build_command,
        env_file,
        python,
        created,
        memory,
        cpus,
        timeout,
        idle_timeout,
        base_image,
        ca_cert,
        no_ca,
    )
    try:
        client: Any = engine.connect()
    except RenderSimError:
        client = None  # the plan does not need an engine; it then predicts the image
    built = make_plan(repo, options, client=client)
    if json_out:
        report.print_json(built.to_dict())
    else:
        report.print_plan(built, report.stdout_console())
    if any(service.buildable_here is False for service in built.services):
        raise typer.Exit(ImageUnavailableError.return_code)  # what simulate would stop with

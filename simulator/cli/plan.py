"""`render-sim plan`: what simulate would do, and how this run differs from Render."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.build import endpoints
from simulator.cli.configured import resolve_options
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
from simulator.errors import BUILD_FAILED, ImageUnavailableError, RenderSimError
from simulator.plan.build_plan import make_plan
from simulator.plan.strict import strict_findings
from simulator.report import console as report
from simulator.report.settings_view import print_settings, print_strict


def plan(
    ctx: typer.Context,
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
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when the repo's configuration has warnings (Blueprint, Python version, "
            "build command); for pre-commit and CI.",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Ask neither the Docker engine nor the network (the base image is predicted).",
        ),
    ] = False,
) -> None:
    """Show what `simulate` would do, and how this run differs from Render (no build)."""
    values: dict[str, Any] = dict(
        service=service,
        build_command=build_command,
        env_file=env_file,
        python=python,
        created=created,
        memory=memory,
        cpus=cpus,
        timeout=timeout,
        idle_timeout=idle_timeout,
        base_image=base_image,
        ca_cert=ca_cert,
        no_ca=no_ca,
    )
    settings = resolve_options(ctx, repo, **values)
    options = build_options(**values, context=ctx)
    client: Any = None
    if offline:
        options = replace(options, probe_network=False)
    else:
        try:
            client = endpoints.connect()
        except RenderSimError:
            client = None  # the plan does not need an engine; it then predicts the image
    built = make_plan(repo, options, client=client)
    findings = strict_findings(built) if strict else []
    if json_out:
        data = {**built.to_dict(), **settings.to_dict()}
        if strict:
            data["strict"] = {"failed": bool(findings), "findings": findings}
        report.print_json(data)
    else:
        console = report.stdout_console()
        report.print_plan(built, console)
        print_settings(settings, console)
        if strict:
            print_strict(findings, console)
    if any(service.buildable_here is False for service in built.services):
        raise typer.Exit(ImageUnavailableError.return_code)  # what simulate would stop with
    if findings:
        raise typer.Exit(BUILD_FAILED)

"""`render-sim check`: source builds, the build command's lint, fixes (no Docker)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.check.preflight import check_repo
from simulator.cli.configured import resolve_options
from simulator.cli.options import BuildCommand, Created, EnvFile, Json, Python, Repo, Service
from simulator.plan.build_plan import Options
from simulator.report import console as report
from simulator.report.check_view import check_to_json, print_check, publish_check
from simulator.units import parse_date


def check(
    ctx: typer.Context,
    repo: Repo = Path("."),
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Python = None,
    created: Created = None,
    index_url: Annotated[
        str | None,
        typer.Option(
            "--index-url", help="Package index (default: the requirements' own, else PyPI)."
        ),
    ] = None,
) -> None:
    """List the packages pip would build from source on Render (no Docker, seconds); exit 1 if any."""
    given = resolve_options(  # command line > RENDER_SIM_* > the repo's settings file > default
        ctx,
        repo,
        service=service,
        build_command=build_command,
        env_file=env_file,
        python=python,
        created=created,
        index_url=index_url,
    ).values
    options = Options(
        service=given["service"],
        build_command=given["build_command"],
        env_file=given["env_file"],
        python=given["python"],
        created=parse_date(given["created"]),
        probe_network=False,
    )
    console = report.stderr_console() if json_out else report.stdout_console()
    with console.status("resolving wheels-only for Render's Python…"):
        result = check_repo(repo, options, index_url=given["index_url"])
    data = check_to_json(result)
    print_check(result, console)  # on stderr with --json, as simulate's log
    if json_out:
        report.print_json(data)
    publish_check(data, json_out=json_out)
    raise typer.Exit(result.exit_code)

"""`render-sim check`: source builds, the build command's lint, fixes (no Docker).

One repo: its whole report. Several (or a folder of repos): the fleet check, one table row per
service (`check.fleet`, `report.fleet_view`), each repo with its own settings file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simulator.check.fleet import DEFAULT_JOBS, FleetReport, check_fleet, holds_repos, split_python
from simulator.check.preflight import check_repo
from simulator.cli.configured import resolve_options
from simulator.cli.options import BuildCommand, Created, EnvFile, Json, Service
from simulator.plan.models import Options
from simulator.report import console as report
from simulator.report.check_view import check_to_json, print_check, publish_check
from simulator.report.fleet_view import fleet_to_json, print_fleet, write_fleet_junit
from simulator.units import parse_date


def check(
    ctx: typer.Context,
    repos: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Repos, or folders of repos (default: the current directory); several: the "
            "fleet check, one row per service.",
            show_default=False,
        ),
    ] = None,
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            help="X.Y.Z: like setting PYTHON_VERSION. X.Y: as if Render's default moved to "
            "Python X.Y (services that pin their Python keep it).",
        ),
    ] = None,
    created: Created = None,
    index_url: Annotated[
        str | None,
        typer.Option(
            "--index-url", help="Package index (default: the requirements' own, else PyPI)."
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Write a JUnit XML report (one case per service) here."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Repos checked at the same time.")
    ] = DEFAULT_JOBS,
) -> None:
    """List the packages pip would build from source on Render (no Docker, seconds); exit 1 if any."""
    pinned, moved = split_python(python)

    def configure(repo: Path) -> tuple[Options, str | None]:
        # command line > RENDER_SIM_* > the repo's settings file > default
        given = resolve_options(
            ctx,
            repo,
            service=service,
            build_command=build_command,
            env_file=env_file,
            python=pinned,
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
        return options, given["index_url"]

    paths = repos or [Path(".")]
    console = report.stderr_console() if json_out else report.stdout_console()
    if len(paths) == 1 and not holds_repos(paths[0]):
        options, chosen_index = configure(paths[0])
        with console.status("resolving wheels-only for Render's Python…"):
            result = check_repo(paths[0], options, index_url=chosen_index, default_python=moved)
        data = check_to_json(result)
        print_check(result, console)  # on stderr with --json, as simulate's log
        if junit is not None:
            write_fleet_junit(junit, FleetReport.of_one(result, moved))
        if json_out:
            report.print_json(data)
        publish_check(data, json_out=json_out)
        raise typer.Exit(result.exit_code)
    with console.status("checking the repos…") as status:
        done: list[str] = []

        def progress(repo: object) -> None:
            done.append(str(getattr(repo, "name", repo)))
            status.update(escape(f"checked {len(done)} repo(s), last {done[-1]}"))

        fleet = check_fleet(
            paths,
            Options(probe_network=False),
            default_python=moved,
            jobs=jobs,
            on_repo=progress,
            configure=configure,
        )
    if junit is not None:
        write_fleet_junit(junit, fleet)
    print_fleet(fleet, console)  # on stderr with --json
    if junit is not None:
        console.print(f"JUnit report: {escape(str(junit))}")
    if json_out:
        report.print_json(fleet_to_json(fleet))
    raise typer.Exit(fleet.exit_code)

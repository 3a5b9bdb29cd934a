"""`render-sim scenarios list|run`: the regression scenarios, wired to the library.

options -> `scenarios.discover` -> `scenario_run.run_scenarios` -> `scenarios_view` / `junit`.
Exit codes: 0 every scenario met its expectations, 1 one missed them or could not run, 2 a
manifest or the selection is wrong, 4 no Docker engine, 130 interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simulator.build import engine
from simulator.errors import BUILD_FAILED, ScenarioError
from simulator.report import console as report
from simulator.report import github_actions
from simulator.report.junit import check_junit_path, write_junit
from simulator.report.scenarios_view import (
    print_results,
    print_scenario_list,
    progress_line,
    results_to_json,
    scenario_list_to_json,
)
from simulator.scenarios.discovery import discover
from simulator.scenarios.manifest import DEFAULT_DIR, KINDS
from simulator.scenarios.run import ScenarioResult, run_scenarios
from simulator.units import parse_image_reference

scenarios_app = typer.Typer(
    help="Regression scenarios: small services whose build must end as their manifest says.",
    no_args_is_help=True,
)

Names = Annotated[
    list[str] | None,
    typer.Argument(help="Scenario names or patterns (rust-*); default: all.", show_default=False),
]
Dirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--dir",
        help=f"Folder of scenario folders (repeatable; default: ./{DEFAULT_DIR}).",
        show_default=False,
    ),
]
Kind = Annotated[
    str | None,
    typer.Option("--kind", help=f"Only {' or '.join(KINDS)} scenarios (hermetic: no internet)."),
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@scenarios_app.command("list")
def scenarios_list(
    names: Names = None, dirs: Dirs = None, kind: Kind = None, json_out: Json = False
) -> None:
    """List the scenarios: name, kind, network, expected outcome/class, description."""
    found = discover(dirs or [DEFAULT_DIR], names or (), kind)
    if json_out:
        report.print_json(scenario_list_to_json(found))
    else:
        print_scenario_list(found, report.stdout_console())


@scenarios_app.command("run")
def scenarios_run(
    names: Names = None,
    dirs: Dirs = None,
    kind: Kind = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Scenarios run at the same time.")
    ] = 1,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write a JUnit XML report to this file.")
    ] = None,
    json_out: Json = False,
    fixtures_network: Annotated[
        str | None,
        typer.Option(
            "--fixtures-network",
            help="Docker network of render-sim's fixtures (for `network: fixtures` scenarios).",
        ),
    ] = None,
    no_pull: Annotated[
        bool, typer.Option("--no-pull", help="Never pull base images; use local ones.")
    ] = False,
    base_image: Annotated[
        str | None,
        typer.Option("--base-image", help="Build every scenario on this image."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Check fixes against cached index facts only."),
    ] = False,
) -> None:
    """Run the scenarios and compare each build with its manifest's `expect` (exit 1 if any misses)."""
    if base_image:
        parse_image_reference(base_image)
    if junit is not None:
        check_junit_path(junit)  # before the scenarios run, not after
    selected = discover(dirs or [DEFAULT_DIR], names or (), kind)
    if not selected:
        where = ", ".join(str(d) for d in dirs or [DEFAULT_DIR])
        raise ScenarioError(
            f"no {kind + ' ' if kind else ''}scenario to run in {where}",
            hint="`render-sim scenarios list` shows them; change --kind or --dir",
        )
    console = report.stderr_console() if json_out else report.stdout_console()
    client = engine.connect()
    done: list[ScenarioResult] = []

    def on_result(result: ScenarioResult) -> None:
        done.append(result)
        console.print(progress_line(result, len(done), len(selected)), soft_wrap=True)

    started = time.monotonic()
    jobs_text = f"{jobs} at a time" if jobs > 1 else "one at a time"
    with console.status(f"running {len(selected)} scenario(s), {jobs_text}…") as status:
        results = run_scenarios(
            client,
            selected,
            jobs=jobs,
            fixtures_network=fixtures_network,
            pull=not no_pull,
            base_image=base_image,
            offline_index=offline,
            progress=lambda message: status.update(escape(message[:150])),
            on_result=on_result,
        )
    duration = time.monotonic() - started
    print_results(results, duration, console)
    if junit is not None:
        write_junit(junit, results, duration_s=duration)
        console.print(f"JUnit report: {junit}")
    if json_out:
        report.print_json(results_to_json(results, duration))
    github_actions.publish_scenarios([r.to_dict() for r in results], json_out=json_out)
    if not all(r.passed for r in results):
        raise typer.Exit(BUILD_FAILED)

"""`render-sim scenarios list|run|merge`: the regression scenarios, wired to the library.

options -> `scenarios.discovery.discover` (-> `scenarios.shards.select`) -> `scenarios.run.run_scenarios`
(on one engine or several, `build.endpoints`) -> `scenarios_view` / `junit`; `merge` ->
`report.junit_merge`. Exit codes: 0 every scenario met its expectations, 1 one missed them or
could not run, 2 a manifest or the selection is wrong, 4 no Docker engine, 130 interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simulator.build import endpoints
from simulator.errors import BUILD_FAILED, ScenarioError
from simulator.report import console as report
from simulator.report import github_actions
from simulator.report.junit import check_junit_path, write_junit
from simulator.report.junit_merge import merge_junit, write_merged
from simulator.report.scenarios_view import (
    print_merged,
    print_results,
    print_scenario_list,
    progress_line,
    results_to_json,
    scenario_list_to_json,
)
from simulator.scenarios import shards
from simulator.scenarios.discovery import discover
from simulator.scenarios.engines import prepare_images
from simulator.scenarios.manifest import DEFAULT_DIR, KINDS, Scenario
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
ShardOption = Annotated[
    str | None,
    typer.Option(
        "--shard",
        help="Only shard I of N (I/N) of the sorted scenarios; default: the CI's own index "
        "variables (GitLab CI_NODE_INDEX/CI_NODE_TOTAL, Buildkite, CircleCI), else all.",
        show_default=False,
    ),
]
Durations = Annotated[
    Path | None,
    typer.Option(
        "--durations",
        help="JSON file of scenario -> seconds: shards balance by it; run merges its times in.",
        show_default=False,
    ),
]


def _shard_of(
    found: list[Scenario], shard_option: str | None, durations_path: Path | None
) -> tuple[list[Scenario], shards.Shard | None, dict[str, float]]:
    """The scenarios of this shard (all of `found` when unsharded), the shard, the durations."""
    shard = shards.choose_shard(shard_option)
    durations = shards.read_durations(durations_path) if durations_path else {}
    picked = set(shards.select([s.name for s in found], shard, durations))
    return [s for s in found if s.name in picked], shard, durations


@scenarios_app.command("list")
def scenarios_list(
    names: Names = None,
    dirs: Dirs = None,
    kind: Kind = None,
    json_out: Json = False,
    shard_option: ShardOption = None,
    durations_path: Durations = None,
) -> None:
    """List the scenarios: name, kind, network, expected outcome/class, description."""
    suite = discover(dirs or [DEFAULT_DIR], names or (), kind)
    found, shard, _ = _shard_of(suite, shard_option, durations_path)
    if json_out:
        data = scenario_list_to_json(found)
        if shard is not None:
            data["shard"] = {"shard": str(shard), "source": shard.source, "suite": len(suite)}
        report.print_json(data)
    else:
        console = report.stdout_console()
        print_scenario_list(found, console)
        if shard is not None:
            console.print(escape(shards.shard_summary(found, shard, len(suite))))


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
    shard_option: ShardOption = None,
    durations_path: Durations = None,
    engine_names: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help="Docker engine (URL or context name) to run on; repeat to spread the "
            "scenarios over several, each with --jobs workers. Default: as docker chooses.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the scenarios and compare each build with its manifest's `expect` (exit 1 if any misses)."""
    if base_image:
        parse_image_reference(base_image)
    if junit is not None:
        check_junit_path(junit)  # before the scenarios run, not after
    suite = discover(dirs or [DEFAULT_DIR], names or (), kind)
    if not suite:
        where = ", ".join(str(d) for d in dirs or [DEFAULT_DIR])
        raise ScenarioError(
            f"no {kind + ' ' if kind else ''}scenario to run in {where}",
            hint="`render-sim scenarios list` shows them; change --kind or --dir",
        )
    selected, shard, durations = _shard_of(suite, shard_option, durations_path)
    properties = shards.shard_properties(shard, [s.name for s in suite], durations)
    console = report.stderr_console() if json_out else report.stdout_console()
    if shard is not None:
        console.print(escape(shards.shard_summary(selected, shard, len(suite))))
    if not selected:  # a shard with nothing to do still reports, so a merge sees every shard
        _report([], 0.0, junit, json_out, console, properties)
        return
    engines = endpoints.connect_all(engine_names or [])
    if len(engines) > 1:
        console.print(f"engines: {escape(', '.join(e.endpoint.describe() for e in engines))}")
    done: list[ScenarioResult] = []

    def on_result(result: ScenarioResult) -> None:
        done.append(result)
        line = progress_line(result, len(done), len(selected), show_engine=len(engines) > 1)
        console.print(line, soft_wrap=True)

    started = time.monotonic()
    jobs_text = f"{jobs} at a time" if jobs > 1 else "one at a time"
    if len(engines) > 1:
        jobs_text += f" on each of {len(engines)} engines"
    with console.status(f"running {len(selected)} scenario(s), {jobs_text}…") as status:
        results = run_scenarios(
            engines,
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
    if durations_path is not None:
        ran = {r.scenario.name: r.own_s for r in results if r.status != "error"}
        shards.write_durations(durations_path, ran)
    _report(results, duration, junit, json_out, console, properties)


def _report(
    results: list[ScenarioResult],
    duration: float,
    junit: Path | None,
    json_out: bool,
    console: Console,
    properties: dict[str, str],
) -> None:
    if results:  # an empty shard said so on its first line
        print_results(results, duration, console)
    if junit is not None:
        write_junit(junit, results, duration_s=duration, properties=properties)
        console.print(f"JUnit report: {junit}")
    if json_out:
        report.print_json(results_to_json(results, duration))
    github_actions.publish_scenarios([r.to_dict() for r in results], json_out=json_out)
    if not all(r.passed for r in results):
        raise typer.Exit(BUILD_FAILED)


@scenarios_app.command("images")
def scenarios_images(
    names: Names = None,
    dirs: Dirs = None,
    kind: Kind = None,
    engine_names: Annotated[
        list[str] | None,
        typer.Option(
            "--engine", help="Docker engine (URL or context); repeatable.", show_default=False
        ),
    ] = None,
    no_pull: Annotated[
        bool, typer.Option("--no-pull", help="Never pull base images; use local ones.")
    ] = False,
    base_image: Annotated[
        str | None, typer.Option("--base-image", help="Build every scenario on this image.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Build the images the scenarios need, running none (then `docker save` them for CI)."""
    selected = discover(dirs or [DEFAULT_DIR], names or (), kind)
    engines = endpoints.connect_all(engine_names or [])
    console = report.stderr_console() if json_out else report.stdout_console()
    with console.status("preparing the build images…") as status:
        made = prepare_images(
            engines,
            selected,
            base_image=base_image,
            pull=not no_pull,
            progress=lambda message: status.update(escape(message[:150])),
        )
    if json_out:
        report.print_json(
            {
                "images": [tag for tag, _ in made],
                "bases": sorted({base.ref for _, base in made}),
            }
        )
        return
    for tag, base in made:
        console.print(f"{escape(tag)}  [dim]on {escape(base.ref)}[/]")


@scenarios_app.command("merge")
def scenarios_merge(
    files: Annotated[
        list[Path], typer.Argument(help="The shards' JUnit files.", show_default=False)
    ],
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write the merged JUnit XML report here.")
    ] = None,
    durations_path: Annotated[
        Path | None,
        typer.Option(
            "--durations",
            help="Fold every case's time into this durations file (for the next run's shards).",
            show_default=False,
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Merge the shards' JUnit reports into one; exit 0 only when every case passed."""
    merged = merge_junit(files)
    if junit is not None:
        write_merged(junit, merged)
    if durations_path is not None:
        shards.write_durations(
            durations_path, {c.name: c.own_s for c in merged.cases if c.status != "error"}
        )
    if json_out:
        report.print_json(merged.to_dict())
    else:
        print_merged(merged, report.stdout_console(), junit)
    raise typer.Exit(merged.exit_code)

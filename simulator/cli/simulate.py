"""`render-sim simulate`: plan, build image, run, diagnose, and --verify-fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.build import endpoints
from simulator.build.pipeline import RunOptions, run_build
from simulator.check.service import planner_for
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
    Network,
    NoCa,
    NoPull,
    Offline,
    Python,
    Repo,
    Service,
    Timeout,
    build_options,
)
from simulator.errors import BUILD_FAILED, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import make_plan
from simulator.report import console as report
from simulator.report import github_actions, html
from simulator.report.diagnosis_view import print_diagnosis
from simulator.report.verify_view import print_start, print_verification
from simulator.units import parse_bytes
from simulator.verify.loop import verify_fix
from simulator.verify.network import network_hosts


def simulate(
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
    no_pull: NoPull = False,
    offline: Offline = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the container for inspection (debug).")
    ] = False,
    network: Network = "",
    disk: Annotated[
        str,
        typer.Option(
            "--disk",
            help="The build's writable space (Render cancels a build past 16g): past it the build "
            "is stopped and diagnosed disk-full.",
        ),
    ] = "16g",
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Use no build cache (every run is a first deploy)."),
    ] = False,
    clear_cache: Annotated[
        bool,
        typer.Option(
            "--clear-cache",
            help="Empty the build cache first (Render: 'Clear build cache & deploy').",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify-fix",
            help="If the build fails, try the fixes (planned and checked with pip's resolver, "
            "then the diagnosis's) on a copy of the repo until one builds: exit 0 when one passes.",
        ),
    ] = False,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write the HTML report here (plan, log, diagnosis, memory over time, "
            "phases); one is always saved beside the log.",
        ),
    ] = None,
) -> None:
    """Run the service's build as Render would, stream its log, and report how it ended."""
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
        ctx,
    )
    options = replace(
        options,
        network=network,
        build_cache=not no_cache,
        clear_cache=clear_cache,
        disk_bytes=parse_bytes(disk, "--disk"),
    )
    if report_file is not None:
        html.check_report_path(report_file)
    console = report.stderr_console() if json_out else report.stdout_console()
    client = endpoints.connect()
    plan = make_plan(repo, options, client=client)
    if verify and len(plan.services) > 1:
        names = ", ".join(s.name for s in plan.services)
        raise UsageError(
            f"--verify-fix verifies one service, and {plan.blueprint} has {len(plan.services)}",
            hint=f"pass --service NAME ({names})",
        )
    report.print_plan(plan, console)
    results = []
    runs: list[html.ServiceRun] = []
    verification = None
    run_options = RunOptions(base_image=options.base_image, pull=not no_pull, keep=keep)
    spinner = report.spinner(console)
    for service_plan in plan.services:
        result = run_build(
            client,
            plan,
            service_plan,
            index=PackageIndex(offline=offline),
            options=run_options,
            echo=report.make_echo(console),
            spinner=spinner,
        )
        report.print_result(result, console)
        if result.diagnosis is not None:
            print_diagnosis(result.diagnosis, console)
        results.append(result)
        verification = None
        if verify:
            planner = None if offline else planner_for(network_hosts(client, network))
            with result.timeline.phase("verify fix"):
                verification = verify_fix(
                    client,
                    plan,
                    service_plan,
                    result,
                    options,
                    run_options=run_options,
                    echo=report.make_echo(console),
                    spinner=spinner,
                    on_start=lambda n, f, c, r: print_start(console, n, f, c, r),
                    index=PackageIndex(offline=offline),
                    planner=planner,
                )
            if verification.result is not None:
                report.print_result(verification.result, console)
            print_verification(verification, console)
        run = html.ServiceRun(service_plan, result, verification)
        runs.append(run)
        result.report_path = html.save_beside_log(plan, run)
        if result.report_path is not None:
            console.print(f"Report: {result.report_path}", markup=False, highlight=False)
        else:
            console.print(f"warning: no report written beside {result.log_path}", markup=False)
    data: dict[str, Any] = {"plan": plan.to_dict(), "results": [r.to_dict() for r in results]}
    if verification is not None:
        data["verify_fix"] = verification.to_dict()
    if report_file is not None:
        data["report"] = str(html.save_requested(report_file, plan, runs))
        console.print(f"Report: {data['report']}", markup=False, highlight=False)
    if json_out:
        report.print_json(data)
    github_actions.publish_build(data, json_out=json_out)
    if verification is not None:
        raise typer.Exit(0 if verification.passed else BUILD_FAILED)
    if not all(r.succeeded for r in results):
        raise typer.Exit(BUILD_FAILED)

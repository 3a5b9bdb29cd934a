"""`render-sim explain`: diagnose a build log (no Docker)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.check.service import explain_with_repo
from simulator.cli.options import Json, Offline, Service
from simulator.diagnose.explain import explain_file
from simulator.index.client import PackageIndex
from simulator.report import console as report
from simulator.report.check_view import print_planned
from simulator.report.diagnosis_view import diagnosis_to_json, print_diagnosis


def explain(
    log: Annotated[
        str,
        typer.Argument(help="A build log file (copied from Render's dashboard), or - for stdin."),
    ] = "-",
    json_out: Json = False,
    offline: Offline = False,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            help="The repo the log is from: its service's Python is known, and the fixes for "
            "the whole service are planned and checked with pip's resolver.",
        ),
    ] = None,
    service: Service = None,
) -> None:
    """Diagnose a build log: what failed, which package, why, and the fix (no Docker)."""
    index = PackageIndex(offline=offline)
    planned = None
    if repo is None:
        diagnosis = explain_file(log, index=index)
    else:
        diagnosis, planned = explain_with_repo(log, repo, service, index, plan=not offline)
    if json_out:
        data = diagnosis_to_json(diagnosis)
        if planned is not None:
            data["planned_fixes"] = planned.to_dict()
        report.print_json(data)
        return
    console = report.stdout_console()
    print_diagnosis(diagnosis, console)
    if planned is not None:
        print_planned(planned, console)

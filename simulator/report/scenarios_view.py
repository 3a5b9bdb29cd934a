"""Scenarios for people (rich tables, one line per finished scenario) and for programs (JSON).

Plain data in, output out: nothing here decides whether a scenario passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulator.report.junit_merge import MergedReport
from simulator.scenarios.manifest import Scenario
from simulator.scenarios.run import ScenarioResult

STATUS = {
    "passed": "[bold green]✓ passed[/]",
    "failed": "[bold red]✗ failed[/]",
    "error": "[bold red]! error[/]",
}


def print_scenario_list(scenarios: Sequence[Scenario], console: Console) -> None:
    """Name, kind, network, expected outcome/class and description of each scenario."""
    if not scenarios:
        console.print("no scenarios")
        return
    table = Table(show_lines=False, pad_edge=False)
    for column in ("name", "kind", "network", "expected", "description"):
        table.add_column(column, overflow="fold")
    for scenario in scenarios:
        table.add_row(
            escape(scenario.name),
            scenario.kind,
            scenario.network,
            escape(scenario.expect.summary()),
            escape(scenario.description),
        )
    console.print(table)
    kinds = [s.kind for s in scenarios]
    console.print(
        f"{len(scenarios)} scenario(s): {kinds.count('hermetic')} hermetic, "
        f"{kinds.count('online')} online"
    )


def scenario_list_to_json(scenarios: Sequence[Scenario]) -> dict[str, Any]:
    return {"scenarios": [s.to_dict() for s in scenarios]}


def progress_line(
    result: ScenarioResult, done: int, total: int, *, show_engine: bool = False
) -> str:
    """One line as a scenario finishes: `[2/5] ✗ failed  name  12.3 s  class: expected ...`."""
    detail = ""
    if result.error:
        detail = result.error
    elif result.mismatches:
        detail = result.mismatches[0] + (
            f" (+{len(result.mismatches) - 1} more)" if len(result.mismatches) > 1 else ""
        )
    else:
        detail = result.got()
    engine = f"  [dim]on {escape(result.engine)}[/]" if show_engine and result.engine else ""
    return (
        f"[dim]\\[{done}/{total}][/] {STATUS[result.status]}  [bold]{escape(result.scenario.name)}[/]"
        f"  {result.duration_s:.1f} s{engine}  [dim]{escape(detail)}[/]"
    )


def _package(result: ScenarioResult) -> str:
    diagnosis = result.result.diagnosis if result.result else None
    if diagnosis is None:
        return ""
    package = f" / {diagnosis.package}" if diagnosis.package else ""
    return f"{diagnosis.failure_class}{package}"


def print_results(results: Sequence[ScenarioResult], duration_s: float, console: Console) -> None:
    """The table of all results, then what each failed or errored scenario missed."""
    table = Table(pad_edge=False)
    several = len({r.engine for r in results}) > 1  # spread over engines: say which ran what
    columns = ["name", "expected", "got", "passed", "duration", "class / package"]
    for column in [*columns, *(["engine"] if several else [])]:
        table.add_column(column, overflow="fold", no_wrap=column == "name")
    for result in results:
        table.add_row(
            escape(result.scenario.name),
            escape(result.scenario.expect.summary()),
            escape(result.got()),
            STATUS[result.status],
            f"{result.duration_s:.1f} s",
            escape(_package(result)),
            *([escape(result.engine)] if several else []),
        )
    console.print(table)
    for result in results:
        if result.status == "passed":
            continue
        console.print(f"{STATUS[result.status]} [bold]{escape(result.scenario.name)}[/]:")
        if result.error:
            console.print(f"  {escape(result.error)}", soft_wrap=True)
        for mismatch in result.mismatches:
            console.print(f"  • {escape(mismatch)}", soft_wrap=True)
        if result.result is not None:  # printed whole: a folded path cannot be copied
            console.print(f"  log: {escape(str(result.result.log_path))}", soft_wrap=True)
    passed = sum(r.passed for r in results)
    errors = sum(r.status == "error" for r in results)
    style = "bold green" if passed == len(results) else "bold red"
    console.print(
        f"[{style}]{passed} passed, {len(results) - passed - errors} failed, {errors} error(s)[/]"
        f" in {duration_s:.1f} s"
    )


def results_to_json(results: Sequence[ScenarioResult], duration_s: float) -> dict[str, Any]:
    passed = sum(r.passed for r in results)
    return {
        "scenarios": [r.to_dict() for r in results],
        "passed": passed,
        "failed": len(results) - passed,  # errors included: they did not pass either
        "errors": sum(r.status == "error" for r in results),
        "duration_s": round(duration_s, 2),
    }


def print_merged(merged: MergedReport, console: Console, written: Path | None) -> None:
    """The merged shards: what did not pass, the counts, and the verdict."""
    source = f"{merged.shards} shards" if merged.shards else f"{len(merged.files)} report(s)"
    for case in merged.cases:
        if case.status in ("failed", "error"):
            console.print(
                f"{STATUS[case.status]} [bold]{escape(case.name)}[/]  [dim]({escape(str(case.file))})[/]",
                soft_wrap=True,
            )
    counts = (
        f"{merged.count('passed')} passed, {merged.count('failed')} failed, "
        f"{merged.count('error')} error(s)"
        + (f", {merged.count('skipped')} skipped" if merged.count("skipped") else "")
    )
    style = "bold green" if merged.passed else "bold red"
    console.print(f"[{style}]{counts}[/] in {len(merged.cases)} case(s) from {source}")
    if not merged.cases:
        console.print("[bold red]no test case in the reports[/]")
    if written is not None:
        console.print(f"JUnit report: {escape(str(written))}")

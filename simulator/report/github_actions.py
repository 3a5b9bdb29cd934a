"""Output for GitHub Actions: `::error` annotations, a step summary, fold groups.

Under GitHub Actions (`GITHUB_ACTIONS=true`) a failed build becomes an annotation on the run's
page and a Markdown table in the job summary (`$GITHUB_STEP_SUMMARY`), so the cause is visible
without opening the log. The streamed build log is folded (`group_start`/`group_end`) and fenced
(`stop_commands`) by `report.console.LiveEcho`, so the build cannot issue workflow commands. Everything here is a pure function of the JSON form of the results
(`BuildResult.to_dict()`, with `Diagnosis.to_dict()` inside) except `write_step_summary`, which
appends to the summary file.

Workflow command syntax and escaping follow GitHub's toolkit (actions/toolkit,
packages/core/src/command.ts): `%`, CR and LF are escaped in the message, and also `:` and `,`
in property values. The data given here is already masked; nothing reads or prints environment
values except the two variables GitHub defines for this purpose.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TITLE_PREFIX = "render-sim"
#: GitHub keeps at most 10 error annotations per step and drops the rest without a word
#: (docs.github.com: "Workflow commands for GitHub Actions", setting an error message).
MAX_ERRORS = 10
CELL_LIMIT = 160  # characters per summary table cell; longer text is cut with "…"

_OUTCOME_MARKS = {
    "succeeded": "✅ succeeded",
    "failed": "❌ failed",
    "out-of-memory": "❌ out of memory",
    "timeout": "⏱️ timeout",
    "no-output": "⏱️ no output",
}


def active(env: Mapping[str, str] = os.environ) -> bool:
    """True when running as a GitHub Actions step (GitHub sets `GITHUB_ACTIONS=true`)."""
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Escape the message of a workflow command: `%`, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value of a workflow command: as `escape_data`, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotation(
    title: str, message: str, file: str | None = None, line: int | None = None
) -> str:
    """One `::error file=...,line=...,title=...::message` line.

    `file` is a path relative to the repository (GitHub shows the annotation on that file);
    `line` is 1-based and only used with a file.
    """
    properties: list[str] = []
    if file:
        properties.append(f"file={escape_property(file)}")
        if line is not None and line > 0:
            properties.append(f"line={line}")
    properties.append(f"title={escape_property(title)}")
    return f"::error {','.join(properties)}::{escape_data(message)}"


def capped(lines: list[str]) -> list[str]:
    """At most `MAX_ERRORS` annotations: the last one kept says how many more failed."""
    if len(lines) <= MAX_ERRORS:
        return lines
    more = len(lines) - MAX_ERRORS + 1
    note = f"{more} more failures are not annotated (GitHub keeps {MAX_ERRORS} per step): see the job summary"
    return [*lines[: MAX_ERRORS - 1], error_annotation(f"{TITLE_PREFIX}: {more} more", note)]


def table_row(cells: list[str]) -> str:
    """A Markdown table row, each cell made safe (one line, no HTML, pipes escaped, short)."""
    return _row(cells)


def group_start(title: str) -> str:
    """The line that opens a fold in the log (`::group::title`)."""
    return f"::group::{escape_data(title)}"


def group_end() -> str:
    """The line that closes the fold opened by `group_start`."""
    return "::endgroup::"


def stop_commands(token: str | None = None) -> tuple[str, str]:
    """The lines to print before and after untrusted output, such as a build log.

    Between them GitHub treats `::error::` and every other workflow command as plain text,
    so a package's build output cannot add annotations, masks or fold groups of its own.
    """
    token = token or secrets.token_hex(16)
    return f"::stop-commands::{token}", f"::{token}::"


def annotate_build(result_dict: Mapping[str, Any], workspace: str | None = None) -> list[str]:
    """The `::error` lines for the failed services of a `simulate` result.

    `result_dict` is either what `simulate --json` prints (`{"plan": ..., "results": [...]}`)
    or a single `BuildResult.to_dict()`. One line per failed service: the title names the
    service and the failure class, the message is the diagnosis headline and the first fix.
    The annotation points at the Blueprint when the plan names one: its path relative to
    `workspace` (default: the plan's repository).
    """
    plan = result_dict.get("plan") if "results" in result_dict else None
    results = result_dict.get("results") if "results" in result_dict else [result_dict]
    file = _blueprint_file(plan, workspace) if isinstance(plan, Mapping) else None
    lines = []
    for result in _mappings(results):
        if result.get("outcome") == "succeeded":
            continue
        service = _text(result.get("service")) or "service"
        diagnosis = result.get("diagnosis")
        if isinstance(diagnosis, Mapping):
            kind = _text(diagnosis.get("class")) or "unknown"
            message = _text(diagnosis.get("headline")) or _failure_text(result)
            fix = _top_fix(diagnosis)
            if fix:
                message += f"\nFix: {fix}"
        else:
            kind = _text(result.get("outcome")) or "failed"
            message = _failure_text(result)
        lines.append(error_annotation(f"{TITLE_PREFIX}: {service} {kind}", message, file=file))
    return lines


def annotate_scenarios(
    scenario_results: list[dict[str, Any]], workspace: str | None = None
) -> list[str]:
    """The `::error` lines for the scenarios that missed their expectation or could not run.

    `scenario_results` are `ScenarioResult.to_dict()` mappings. The annotation points at the
    scenario's manifest (`<path>/scenario.yaml`, relative to `workspace` when inside it) and
    lists every mismatch, or the error that stopped the scenario.
    """
    lines = []
    for scenario in _mappings(scenario_results):
        if scenario.get("passed") is True:
            continue
        name = _text(scenario.get("name")) or "scenario"
        mismatches = scenario.get("mismatches")
        problems = [_text(m) for m in mismatches] if isinstance(mismatches, list) else []
        error = _text(scenario.get("error"))
        if error:
            problems.append(error)
        message = "\n".join(problems) or f"got {_expectation_text(scenario.get('got'))}"
        file = None
        if scenario.get("path"):
            file = _relative(Path(_text(scenario.get("path"))) / "scenario.yaml", workspace)
        lines.append(error_annotation(f"{TITLE_PREFIX} scenario: {name}", message, file=file))
    return lines


def step_summary_markdown(
    results: list[dict[str, Any]], scenario_results: list[dict[str, Any]] | None = None
) -> str:
    """A Markdown summary of the builds (and of scenario runs) for the job's summary page.

    `results` are `BuildResult.to_dict()` mappings. `scenario_results` are
    `ScenarioResult.to_dict()` mappings (the `scenarios` of `scenarios run --json`): `name`,
    `expected` and `got` (each `{"outcome", "class", ...}` or plain text), `passed`, optionally
    `status` ("error" when the scenario could not run) and `duration_s`.
    """
    out = ["## render-sim", ""]
    builds = list(_mappings(results))
    if builds:
        succeeded = sum(1 for r in builds if r.get("outcome") == "succeeded")
        out.append(
            f"{succeeded} of {len(builds)} service build(s) succeeded "
            "on Render's native Python runtime (simulated)."
        )
        out += [
            "",
            "| Service | Python | Outcome | Class | Package | Top fix |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for result in builds:
            diagnosis = result.get("diagnosis")
            diagnosis = diagnosis if isinstance(diagnosis, Mapping) else {}
            outcome = _text(result.get("outcome"))
            row = [
                _text(result.get("service")),
                _python_text(result.get("python")),
                _OUTCOME_MARKS.get(outcome, outcome),
                _text(diagnosis.get("class")),
                _package_text(diagnosis.get("package")),
                _top_fix(diagnosis),
            ]
            out.append(_row(row))
    if scenario_results is not None:
        scenarios = list(_mappings(scenario_results))
        passed = sum(1 for s in scenarios if s.get("passed") is True)
        out += [
            "",
            "### Scenarios",
            "",
            f"{passed} of {len(scenarios)} scenario(s) met their expectation.",
            "",
            "| Scenario | Expected | Got | Passed | Duration |",
            "| --- | --- | --- | --- | --- |",
        ]
        for scenario in scenarios:
            if scenario.get("passed") is True:
                mark = "✅"
            else:
                mark = "⚠️ error" if scenario.get("status") == "error" else "❌"
            row = [
                _text(scenario.get("name")),
                _expectation_text(scenario.get("expected")),
                _expectation_text(scenario.get("got")),
                mark,
                _duration_text(scenario.get("duration_s")),
            ]
            out.append(_row(row))
    return "\n".join(out) + "\n"


def write_step_summary(markdown: str, env: Mapping[str, str] = os.environ) -> bool:
    """Append `markdown` to the file named by `GITHUB_STEP_SUMMARY`; False when not possible.

    A summary that cannot be written never fails the command: the annotations and the log
    still carry the result.
    """
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(text)
    except OSError:
        return False
    return True


# -- small functions ------------------------------------------------------------------------


def _mappings(items: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(items, (list, tuple)):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _top_fix(diagnosis: Mapping[str, Any]) -> str:
    fixes = diagnosis.get("fixes")
    first = next(iter(_mappings(fixes)), None)
    return _text(first.get("title")) if first else ""


def _failure_text(result: Mapping[str, Any]) -> str:
    event = _text(result.get("event"))
    if event:
        return event
    last = result.get("last_error_lines")
    if isinstance(last, list) and last:
        return _text(last[-1])
    return f"the build ended: {_text(result.get('outcome')) or 'failed'}"


def _python_text(python: Any) -> str:
    if isinstance(python, Mapping):
        render, here = _text(python.get("render")), _text(python.get("here"))
        return render if not here or here == render else f"{render} (ran {here})"
    return _text(python)


def _package_text(package: Any) -> str:
    if isinstance(package, Mapping):
        name, version = _text(package.get("name")), _text(package.get("version"))
        return f"{name} {version}".strip()
    return _text(package)


def _duration_text(seconds: Any) -> str:
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return f"{seconds:.1f} s"
    return _text(seconds)


def _expectation_text(value: Any) -> str:
    """`failed/rust-readonly-cargo` for `{"outcome": "failed", "class": ...}`; text as is."""
    if isinstance(value, Mapping):
        outcome, kind = _text(value.get("outcome")), _text(value.get("class"))
        return "/".join(part for part in (outcome, kind) if part) or "-"
    return _text(value)


def _blueprint_file(plan: Mapping[str, Any], workspace: str | None) -> str | None:
    blueprint = plan.get("blueprint")
    if not blueprint:
        return None
    path = Path(str(blueprint))
    return _relative(path, workspace or _text(plan.get("repo")) or None) or path.name


def _relative(path: Path, base: str | None) -> str | None:
    """`path` relative to `base` (GitHub wants repository paths); None when it is not.

    A relative path is relative to the working directory, the workspace in a workflow step.
    """
    if not path.is_absolute():
        return path.as_posix()
    if base:
        try:
            return path.relative_to(Path(base)).as_posix()
        except ValueError:
            return None
    return None


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, no HTML, pipes escaped, short."""
    text = " ".join(text.split())
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return text or " "


def publish_build(summary: Mapping[str, Any], *, json_out: bool = False) -> None:
    """Under GitHub Actions: annotate failed services and add the job summary (else nothing).

    Workflow commands go to stderr when stdout carries JSON; printed plainly (never wrapped).
    """
    if not active():
        return
    stream = sys.stderr if json_out else sys.stdout
    for line in capped(annotate_build(summary, workspace=os.environ.get("GITHUB_WORKSPACE"))):
        print(line, file=stream, flush=True)
    write_step_summary(step_summary_markdown([dict(r) for r in _mappings(summary.get("results"))]))


def publish_scenarios(scenario_results: list[dict[str, Any]], *, json_out: bool = False) -> None:
    """Under GitHub Actions: annotate scenarios that missed, and add the job summary."""
    if not active():
        return
    stream = sys.stderr if json_out else sys.stdout
    workspace = os.environ.get("GITHUB_WORKSPACE")
    for line in capped(annotate_scenarios(scenario_results, workspace=workspace)):
        print(line, file=stream, flush=True)
    write_step_summary(step_summary_markdown([], scenario_results))

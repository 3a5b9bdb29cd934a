"""The HTML report of a simulation: one self-contained file a person opens in a browser.

Per service: the plan (Python and why, build command, limits, differences from Render), the
diagnosis (class, culprit, root cause, evidence lines linked into the log), the fixes and the
`--verify-fix` outcome, the memory over time against the limit with each OOM kill marked, the
phases on a time line, and the log, masked as the saved log is, its evidence lines highlighted.

Self-contained: the CSS is inlined, the charts are SVG made in Python (`charts`), there is no
script, font or image from anywhere: the file opens offline, from `file://`, years later. Every
text that comes from the user, the build or the index is HTML-escaped (a log line `<script>`
stays text) and masked with the service's secret values, as every other output is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from pathlib import Path

from simulator import __version__
from simulator.build.buildlog import NOTE_PREFIX, Masker, report_path_for
from simulator.build.simulation import BuildResult
from simulator.diagnose.actions import describe as action_summary
from simulator.diagnose.diagnosis import Diagnosis
from simulator.errors import UsageError
from simulator.plan.models import BuildPlan, ServicePlan
from simulator.report import charts
from simulator.verify.outcome import Verification

MAX_LOG_LINES = 20_000  # past this, the report shows the head, the tail and the evidence
HEAD_LINES, TAIL_LINES, CONTEXT_LINES = 1_000, 15_000, 3
MAX_LINE_CHARS = 5_000


@dataclass(frozen=True)
class ServiceRun:
    """What the report shows of one service: its plan, its build, and --verify-fix when run."""

    service: ServicePlan
    result: BuildResult
    verification: Verification | None = None


Text = Callable[[str], str]  # masks, then escapes


def _text_for(service: ServicePlan) -> Text:
    mask = Masker(service.secrets())
    return lambda value: escape(mask(str(value)))


def render_report(plan: BuildPlan, runs: Sequence[ServiceRun]) -> str:
    """The whole report as one HTML document."""
    title = ", ".join(f"{run.service.name}: {run.result.outcome}" for run in runs)
    commit = f" at {plan.git.commit[:12]}" if plan.git.commit else ""
    started = runs[0].result.timeline.started_at if runs else None
    when = f", {started:%Y-%m-%d %H:%M:%S} UTC" if started else ""
    body = [
        "<header>",
        "<h1>render-sim: Render build simulation</h1>",
        f'<p class="sub">{escape(str(plan.repo))}{escape(commit)}{escape(when)}</p>',
        "</header>",
    ]
    for number, run in enumerate(runs, 1):
        body += _service_section(plan, run, f"s{number}")
    body.append(
        f"<footer>Made by render-sim {escape(__version__)}: a simulation of Render's native "
        "Python build in Docker, not affiliated with Render. This file needs no network."
        "</footer>"
    )
    css = files("simulator.report").joinpath("report.css").read_text(encoding="utf-8")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>render-sim: {escape(title)}</title>",
            f"<style>\n{css}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(path: Path, plan: BuildPlan, runs: Sequence[ServiceRun]) -> Path:
    """Write the report to `path` (whole or not at all: a reader never sees half a file)."""
    text = render_report(plan, runs)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# -- one service --------------------------------------------------------------------------------


def _service_section(plan: BuildPlan, run: ServiceRun, anchor: str) -> list[str]:
    t = _text_for(run.service)
    result = run.result
    outcome_class = "succeeded" if result.succeeded else "failed"
    out = [
        f'<section class="service" id="{anchor}">',
        f'<h2>{t(result.service)} <span class="outcome {outcome_class}">'
        f"{t(result.outcome)}</span></h2>",
    ]
    if result.event:
        out.append(f'<p class="event">{t(result.event)}</p>')
    python = result.python
    if result.image_python and result.image_python != result.python:
        python = f"{result.python} on Render, {result.image_python} here"
    highest = result.memory.highest() if result.memory else result.peak_memory_bytes
    out += _facts(
        [
            ("duration", t(charts.seconds_text(result.duration_s))),
            ("peak memory", t(charts.size_text(highest)) if highest else "unknown"),
            ("Python", t(python)),
            ("exit code", t(str(result.exit_code))),
            ("log", f"<code>{t(str(result.log_path))}</code>"),
        ]
    )
    out += _plan_part(run.service, t, plan)
    if result.diagnosis is not None:
        out += _diagnosis_part(result.diagnosis, t, anchor)
    if run.verification is not None:
        out += _verification_part(run.verification, t)
    out += _memory_part(result, t)
    out += _phases_part(result, t)
    out += _log_part(result, t, anchor)
    out.append("</section>")
    return out


def _facts(rows: Iterable[tuple[str, str]]) -> list[str]:
    """A definition list of (label, already escaped HTML) rows."""
    out = ['<dl class="facts">']
    out += [f"<dt>{escape(label)}</dt><dd>{html}</dd>" for label, html in rows]
    out.append("</dl>")
    return out


def _plan_part(service: ServicePlan, t: Text, plan: BuildPlan) -> list[str]:
    limits = service.limits
    idle = (
        f", no output for {charts.seconds_text(limits.idle_timeout_s)} stops it"
        if limits.idle_timeout_s
        else ""
    )
    python = (
        f"<strong>{t(service.python.version)}</strong> (from {t(service.python.source)}: "
        f"{t(service.python.requested)})"
    )
    if service.image_python and service.image_python != service.python.version:
        python += f"; runs {t(service.image_python)} here (stand-in)"
    env = sorted(service.masked_env())
    rows = [
        ("Python", python),
        ("Render says", f"<code>{t(service.python.log_line)}</code>"),
        ("build command", f"<code>{t(service.build_command)}</code>"),
    ]
    if service.root_dir:
        rows.append(("root directory", f"<code>{t(service.root_dir)}</code>"))
    rows += [
        ("image", f"<code>{t(service.base)}</code>"),
        (
            "limits",
            t(
                f"{charts.size_text(limits.memory_bytes)}, {limits.cpus:g} CPUs, "
                f"{charts.seconds_text(limits.timeout_s)}{idle}"
            ),
        ),
        ("env vars", t(", ".join(env) or "none") + f" (+ {len(service.render_env)} set by Render)"),
        ("files copied", t(str(len(service.files)))),
    ]
    out = ["<h3>Plan</h3>", *_facts(rows)]
    out += _list("Differences from Render for this run", service.differences, t)
    out += _list("Warnings", [*service.warnings, *plan.warnings], t, css="warning")
    lints = [f"{item.where}: {item.message} (fix: {item.fix})" for item in service.lints]
    out += _list("Build command lint", lints, t)
    return out


def _list(title: str, items: Sequence[str], t: Text, css: str = "") -> list[str]:
    if not items:
        return []
    attr = f' class="{css}"' if css else ""
    return (
        [f"<h4>{escape(title)}</h4>", f"<ul{attr}>"]
        + [f"<li>{t(i)}</li>" for i in items]
        + ["</ul>"]
    )


def _diagnosis_part(diagnosis: Diagnosis, t: Text, anchor: str) -> list[str]:
    failed = diagnosis.is_known or bool(diagnosis.evidence)
    rows = [
        ("class", f"<code>{t(diagnosis.failure_class)}</code>"),
        ("root cause", t(diagnosis.root_cause)),
    ]
    if diagnosis.package is not None:
        rows.append(("culprit", f"<strong>{t(str(diagnosis.package))}</strong>"))
    if diagnosis.step:
        rows.append(("failing step", t(diagnosis.step)))
    if diagnosis.python is not None:
        where = t(diagnosis.python.source)
        if diagnosis.python.line:
            line = diagnosis.python.line
            where = f'<a href="#{anchor}-L{line}">log line {line}</a> ({where})'
        rows.append(("Python in the log", f"{t(diagnosis.python.version)}, from {where}"))
    out = [
        "<h3>Diagnosis</h3>",
        f'<p class="headline{"" if failed else " ok"}">{t(diagnosis.headline)}</p>',
        *_facts(rows),
        f"<p>{t(diagnosis.explanation)}</p>",
    ]
    if diagnosis.evidence:
        out += [f'<h4 id="{anchor}-evidence">Evidence</h4>', '<ol class="evidence">']
        for item in diagnosis.evidence:
            out.append(
                f'<li><a href="#{anchor}-L{item.line}">line {item.line}</a> '
                f"<code>{t(item.text)}</code></li>"
            )
        out.append("</ol>")
    if diagnosis.fixes:
        out += ["<h3>Fixes</h3>", '<ol class="fixes">']
        for fix in diagnosis.fixes:
            mark = (
                '<span class="checked">✓ checked against the package index</span>'
                if fix.checked
                else '<span class="unchecked">not checked</span>'
            )
            action = (
                f'<div class="action">→ {t(action_summary(fix.action))}</div>'
                if fix.action is not None
                else ""
            )
            out.append(
                f'<li><span class="fix-title">{t(fix.title)}</span> {mark}'
                f"<div>{t(fix.detail)}</div>{action}</li>"
            )
        out.append("</ol>")
    out += _list("Warnings", diagnosis.warnings, t, css="warning")
    return out


def _verification_part(verification: Verification, t: Text) -> list[str]:
    css = "checked" if verification.passed else "event"
    out = ["<h3>Verify fix</h3>", f'<p class="{css}">{t(verification.message)}</p>']
    if verification.hint:
        out.append(f"<p>fix: {t(verification.hint)}</p>")
    if verification.attempts:
        out += [
            "<table><thead><tr><th>#</th><th>fix</th><th>from</th><th>builds</th>"
            "<th>how it ended</th></tr></thead><tbody>"
        ]
        for attempt in verification.attempts:
            ended = attempt.status + (f" ({attempt.reason})" if attempt.reason else "")
            out.append(
                f'<tr><td class="num">{attempt.number}</td><td>{t(attempt.fix.title)}</td>'
                f'<td>{t(attempt.origin)}</td><td class="num">{attempt.rounds}</td>'
                f"<td>{t(ended)}</td></tr>"
            )
        out.append("</tbody></table>")
    change = verification.change
    if change is not None:
        out.append(f"<p>The change: {t(change.summary)}</p>")
        if change.instructions:
            out.append(f"<pre>{t(change.instructions)}</pre>")
        diff = change.diff()
        if diff:
            out.append(f'<pre class="diff">{t(diff.rstrip())}</pre>')
    return out


def _memory_part(result: BuildResult, t: Text) -> list[str]:
    trace = result.memory
    out = ["<h3>Memory</h3>"]
    if trace is None:
        return out + ["<p>Not sampled: the build container never started.</p>"]
    kills = trace.kill_times()
    said = [
        f"Memory in use (as <code>docker stats</code> counts it), one sample a second from the "
        f"container's cgroup, against the limit of {t(charts.size_text(trace.limit_bytes))}."
    ]
    highest = trace.highest()
    if highest is not None:
        said.append(f"Highest: {t(charts.size_text(highest))}.")
    if kills:
        when, exact = kills[0]
        said.append(
            f'<strong class="event">Killed for lack of memory at {t(charts.seconds_text(when))}'
            f"{'' if exact else ' (approximately: the engine sent no event)'}.</strong>"
        )
    if trace.error:
        said.append(t(trace.error))
    phases = [p for p in result.timeline.phases if p.name != "image"]
    return out + [
        f"<p>{' '.join(said)}</p>",
        f'<div class="chart">{charts.memory_chart(trace, phases)}</div>',
    ]


def _phases_part(result: BuildResult, t: Text) -> list[str]:
    phases = result.timeline.phases
    if not phases:
        return []
    out = [
        "<h3>Phases</h3>",
        f'<div class="chart">{charts.phase_timeline(phases)}</div>',
        "<table><thead><tr><th>phase</th><th>started at</th><th>took</th></tr></thead><tbody>",
    ]
    for phase in phases:
        out.append(
            f'<tr><td>{t(phase.name)}</td><td class="num">'
            f"{t(charts.seconds_text(phase.start_s))}</td>"
            f'<td class="num">{t(charts.seconds_text(phase.duration_s))}</td></tr>'
        )
    out.append("</tbody></table>")
    return out


# -- the log ------------------------------------------------------------------------------------


def shown_lines(count: int, keep: Iterable[int]) -> list[int]:
    """The 1-based line numbers the report shows of a log of `count` lines.

    All of them up to MAX_LOG_LINES; past that the head, the tail and each line in `keep` (the
    evidence) with a few lines around it.
    """
    if count <= MAX_LOG_LINES:
        return list(range(1, count + 1))
    shown = set(range(1, HEAD_LINES + 1)) | set(range(count - TAIL_LINES + 1, count + 1))
    for line in keep:
        shown.update(range(max(1, line - CONTEXT_LINES), min(count, line + CONTEXT_LINES) + 1))
    return sorted(shown)


def _log_part(result: BuildResult, t: Text, anchor: str) -> list[str]:
    lines = result.log_text.split("\n") if result.log_text else []
    # The diagnosis read the log with Render's event line after it (`simulation.diagnose`):
    # its line numbers count that line too, so it is shown, as the dashboard shows it.
    kinds = [_kind(line) for line in lines]
    if result.event:
        lines.append(result.event)
        kinds.append("event-line")
    evidence = {item.line for item in result.diagnosis.evidence} if result.diagnosis else set()
    out = [
        "<h3>Log</h3>",
        f"<p>Masked as the saved log is: <code>{t(str(result.log_path))}</code>"
        + (" (its last line is Render's event, shown on the dashboard)" if result.event else "")
        + ".</p>",
        '<div class="log">',
    ]
    previous = 0
    for number in shown_lines(len(lines), evidence):
        if number != previous + 1:
            out.append(
                f'<div class="gap">… {number - previous - 1:,} lines not shown here; the saved '
                "log has every line</div>"
            )
        previous = number
        text = lines[number - 1]
        if len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS] + f" … ({len(text) - MAX_LINE_CHARS:,} more characters)"
        css = ["l", kinds[number - 1]] + (["evidence"] if number in evidence else [])
        back = (
            f'<a class="back" href="#{anchor}-evidence">↑ evidence</a>'
            if number in evidence
            else ""
        )
        out.append(
            f'<div class="{" ".join(c for c in css if c)}" id="{anchor}-L{number}">'
            f'<a class="ln" href="#{anchor}-L{number}">{number}</a>'
            f"<span>{t(text)}{back}</span></div>"
        )
    if previous < len(lines):
        out.append(f'<div class="gap">… {len(lines) - previous:,} lines not shown here</div>')
    out.append("</div>")
    return out


def _kind(line: str) -> str:
    if line.startswith("==> "):
        return "render"
    if line.startswith(NOTE_PREFIX):
        return "note"
    return ""


# -- where reports go ---------------------------------------------------------------------------


def check_report_path(path: Path) -> Path:
    """`--report FILE`, checked before the build runs: a file in an existing directory."""
    if path.is_dir():
        raise UsageError(
            f"--report {path} is a directory", hint="give a file name, e.g. --report report.html"
        )
    if not path.parent.is_dir():
        raise UsageError(
            f"--report {path}: the directory {path.parent} does not exist",
            hint="create it first, or write the report elsewhere",
        )
    return path


def save_requested(path: Path, plan: BuildPlan, runs: Sequence[ServiceRun]) -> Path:
    """The report `--report FILE` asked for (every service of the run in one file)."""
    try:
        return write_report(path, plan, runs)
    except OSError as error:
        raise UsageError(
            f"could not write the report {path}: {error.strerror or error}",
            hint="give --report a path you can write to",
        ) from None


def save_beside_log(plan: BuildPlan, run: ServiceRun) -> Path | None:
    """One service's report beside its saved log (`report_path_for`); None when it cannot be
    written there (the caller says so; the build's result stands)."""
    try:
        return write_report(report_path_for(run.result.log_path), plan, [run])
    except OSError:
        return None

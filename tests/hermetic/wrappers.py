"""A real build log, wrapped the way Render, Docker BuildKit and GitHub Actions would show it.

The generated-log tests take the output a hermetic scenario's real build printed (pip, uv, Poetry,
gcc, cargo ...) and wrap it in each platform's own framing: Render's log as render-sim writes
it, Render's log stream export (an RFC 3339 timestamp on every line), Render's dashboard copy
(`Dec 2 08:31:05 PM  `), a BuildKit `RUN` step (`#8 0.412 ` prefixes, the error summary and
`ERROR: failed to solve`), and a GitHub Actions step (timestamps, `##[group]Run`,
`##[error]Process completed with exit code 1.`). The class and package a log must get come from
the scenario that made it, never from reading it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

START = datetime(2026, 12, 2, 20, 31, 5)
_COMMAND = re.compile(r"^==> Running build command '(?P<cmd>.*)'\.\.\.$", re.M)
_END = re.compile(r"^==> Build (?:failed|successful)", re.M)


@dataclass(frozen=True)
class BuildOutput:
    """What a build printed: the command, its output lines, how it ended, Render's event line."""

    command: str
    lines: tuple[str, ...]
    exit_code: int | None
    outcome: str  # failed | out-of-memory | timeout | no-output, or runtime-failed (the app's)
    render_log: str  # the whole log as render-sim wrote it
    event: str = ""  # Render's event line (Ran out of memory ..., Build timed out ...)


def build_output(render_log: str, exit_code: int | None, outcome: str, event: str) -> BuildOutput:
    """The build command's own output, cut out of render-sim's log (its notes left out)."""
    command = _COMMAND.search(render_log)
    if command is None:
        raise ValueError("the log has no ==> Running build command line")
    end = _END.search(render_log, command.end())
    body = render_log[command.end() + 1 : end.start() if end else len(render_log)]
    lines = tuple(line for line in body.splitlines() if not line.startswith("[render-sim]"))
    return BuildOutput(command["cmd"], lines, exit_code, outcome, render_log, event)


def _times(count: int, step_ms: int = 137) -> list[datetime]:
    return [START + timedelta(milliseconds=step_ms * n) for n in range(count)]


def render(output: BuildOutput) -> str:
    """Render's log as render-sim writes it, with the event line Render shows for the build."""
    text = output.render_log.rstrip("\n") + "\n"
    return text + (output.event + "\n" if output.event else "")


def render_stream(output: BuildOutput) -> str:
    """Render's log stream export: an RFC 3339 timestamp with nanoseconds on every line."""
    lines = render(output).splitlines()
    return "".join(
        f"{moment.strftime('%Y-%m-%dT%H:%M:%S.%f')}123Z {line}\n"
        for moment, line in zip(_times(len(lines)), lines, strict=True)
    )


def render_dashboard(output: BuildOutput) -> str:
    """A copy from Render's dashboard: `Dec 2 08:31:05 PM  ` before every line."""
    lines = render(output).splitlines()
    return "".join(
        f"{moment.strftime('%b')} {moment.day} {moment.strftime('%I:%M:%S %p')}  {line}\n"
        for moment, line in zip(_times(len(lines), 900), lines, strict=True)
    )


def buildkit(output: BuildOutput) -> str:
    """The build command as a Dockerfile `RUN` step under BuildKit's plain progress output."""
    step, code = "[3/4] RUN", output.exit_code if output.exit_code is not None else 137
    seconds = [0.2 + 0.013 * n for n in range(len(output.lines))]
    process = (
        f'process "/bin/sh -c {output.command}" did not complete successfully: exit code: {code}'
    )
    out = [f"#8 {step} {output.command}"]
    out += [f"#8 {t:.3f} {line}" for t, line in zip(seconds, output.lines, strict=True)]
    out += [f"#8 ERROR: {process}", "------", f" > {step} {output.command}:"]
    tail = list(zip(seconds, output.lines, strict=True))[-10:]
    out += [f"{t:.3f} {line}" for t, line in tail]
    out += [
        "------",
        "Dockerfile:4",
        "--------------------",
        "   3 |     COPY . .",
        f"   4 | >>> RUN {output.command}",
        "--------------------",
        f"ERROR: failed to solve: {process}",
    ]
    return "\n".join(out) + "\n"


def github_actions(output: BuildOutput) -> str:
    """The build command as a GitHub Actions `run:` step, as the job log shows it."""
    body = [
        f"##[group]Run {output.command}",
        output.command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *output.lines,
    ]
    if output.outcome == "timeout":
        body += [
            "##[error]The job running on runner GitHub Actions 2 has exceeded the maximum "
            "execution time of 10 minutes.",
            "##[error]The operation was canceled.",
        ]
    else:
        body.append(f"##[error]Process completed with exit code {output.exit_code or 1}.")
    return "".join(
        f"{moment.strftime('%Y-%m-%dT%H:%M:%S.%f')}1Z {line}\n"
        for moment, line in zip(_times(len(body)), body, strict=True)
    )


Wrapper = Callable[[BuildOutput], str]
WRAPPERS: dict[str, Wrapper] = {
    "render": render,
    "render-stream": render_stream,
    "render-dashboard": render_dashboard,
    "buildkit": buildkit,
    "github-actions": github_actions,
}


def wrappers_for(output: BuildOutput) -> dict[str, Wrapper]:
    """The wrappers that say how this build ended: a time limit is the platform's (Render's
    event line, GitHub's job limit); BuildKit has none of its own."""
    if output.outcome == "runtime-failed":  # only Render's log goes on past the build
        return {k: v for k, v in WRAPPERS.items() if k.startswith("render")}
    if output.outcome in ("timeout", "no-output"):
        return {k: v for k, v in WRAPPERS.items() if k != "buildkit"}
    return dict(WRAPPERS)

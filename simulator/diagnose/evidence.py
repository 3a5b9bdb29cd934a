"""The lines that prove a diagnosis, and what to say when no rule matched.

`error_like_lines` scores lines by how much they look like errors (`error:`, `×`, a traceback,
an exception, an exit status), inside the failing event's scope. When no rule fires,
`unknown_diagnosis` says what is known instead of an empty answer: the step that failed, whose
it was, and its most error-like line ("the build of X failed while preparing its metadata:
<line>"), or that the log shows a successful install.
"""

from __future__ import annotations

from collections.abc import Iterable

from packaging.utils import canonicalize_name

from simulator.diagnose.diagnosis import (
    UNKNOWN,
    Diagnosis,
    Evidence,
    PackageRef,
    PythonInfo,
)
from simulator.diagnose.events import STEP_PHRASES, Event
from simulator.diagnose.mentions import Mentions
from simulator.diagnose.scan import Hit, Matcher, ScannedLog, fixed_matcher
from simulator.diagnose.scope import Scope

EVIDENCE_LINE_LIMIT = 2000  # characters shown per evidence line; huge lines are cut
MAX_EVIDENCE = 12

_ERROR_LIKE: tuple[tuple[Matcher, int], ...] = (
    (
        fixed_matcher(
            r"^\s*(?:ERROR|error|Error|FATAL|fatal)(?:\[\w+\])?:",
            ["ERROR", "rror", "FATAL", "fatal"],
        ),
        5,
    ),
    (fixed_matcher(r"^\s*(?:×|💥|╰─▶)", ["×", "💥", "╰─▶"]), 4),
    (fixed_matcher(r"Traceback \(most recent call last\)"), 3),
    (fixed_matcher(r"^\s*(?:Caused by: |╰─▶ |`-> )", ["Caused by: ", "╰─▶ ", "`-> "]), 4),
    (fixed_matcher(r"^\s*[\w.]*(?:Error|Exception|Interrupt):", ["Error:", "Exception:"]), 6),
    (
        fixed_matcher(
            r"(?:exit code|exit status|returned non-zero)", ["exit code", "exit status", "non-zero"]
        ),
        2,
    ),
    (fixed_matcher(r"\b(?:[Ff]ailed|FAILED)\b", ["ailed", "FAILED"]), 1),
    (fixed_matcher(r"==> Build failed"), 2),
)
# Lines that only say "see above" or repeat a summary: never the decisive line of an unknown.
_BOILERPLATE = (
    "See above for output",
    "note: This error originates",
    "note: This is an issue with the package",
    "hint: See above",
    "did not run successfully",
    "Command errored out",
    "Error running maturin",
    "returned non-zero exit status",
    "maturin failed",
    "The build backend returned an error",
    "==> ",
    "subprocess-exited-with-error",
    "metadata-generation-failed",
    "exit code: 1",
    "[end of output]",
    "Process completed with exit code",
    "did not complete successfully",
    "returned a non-zero code",
)
_SUCCESS = (fixed_matcher(r"==> Build successful"), fixed_matcher(r"Successfully installed "))


def error_like_lines(scope: Scope, limit: int = 10) -> list[Hit]:
    """The `limit` lines of the scope that look most like errors, in log order."""
    scored: dict[int, tuple[int, Hit]] = {}
    for matcher, score in _ERROR_LIKE:
        for hit in scope.hits(matcher, keep=2000):
            best = scored.get(hit.start)
            total = score + (best[0] if best else 0)
            scored[hit.start] = (total, hit)
    top = sorted(scored.values(), key=lambda item: (item[0], item[1].start), reverse=True)[:limit]
    return sorted((hit for _, hit in top), key=lambda hit: hit.start)


def decisive_line(lines: list[Hit]) -> Hit | None:
    """The most telling of the error-like lines: the first real error, not a summary."""
    real = [hit for hit in lines if not any(b in hit.text for b in _BOILERPLATE)]
    exceptions = [hit for hit in real if "Error:" in hit.text or "Exception:" in hit.text]
    if exceptions:
        return exceptions[-1]
    causes = [hit for hit in real if hit.text.lstrip().startswith(("Caused by:", "╰─▶", "`->"))]
    if causes:
        # the deepest cause of an error chain, or the first error the tool printed after it
        after = [h for h in real if h.start > causes[-1].start and "rror" in h.text[:12]]
        return after[0] if after else causes[-1]
    return real[0] if real else None


def clip(text: str) -> str:
    text = text.rstrip()
    if len(text) > EVIDENCE_LINE_LIMIT:
        return text[:EVIDENCE_LINE_LIMIT] + f"… [{len(text) - EVIDENCE_LINE_LIMIT} more characters]"
    return text


def evidence(log: ScannedLog, lines: Iterable[tuple[int, str]]) -> tuple[Evidence, ...]:
    """Evidence from (offset, text) lines: deduplicated, in log order, at most MAX_EVIDENCE."""
    unique = dict(lines)
    ordered = sorted(unique.items())[:MAX_EVIDENCE]
    numbers = log.line_numbers(start for start, _ in ordered)
    return tuple(Evidence(numbers[start], clip(text)) for start, text in ordered)


def step_text(event: Event | None) -> str:
    """The failing step in words: "the build of rsim-rust 0.1.0 (preparing its metadata)"."""
    if event is None:
        return ""
    what = event.describe()
    phrase = STEP_PHRASES.get(event.step)
    return f"{what} ({phrase})" if phrase and event.owner else what


def no_failure(log: ScannedLog, scope: Scope, python: PythonInfo | None) -> Diagnosis | None:
    """The diagnosis of a log that shows no failure, or None when it shows one."""
    if error_like_lines(scope) or not any(log.hits(matcher) for matcher in _SUCCESS):
        return None
    return Diagnosis(
        failure_class=UNKNOWN,
        root_cause="no failure in the log",
        headline="No failure found: the log shows a successful install",
        explanation="No line of the log looks like an error, and the install reports success.",
        python=python,
        phase="none",
    )


def unknown_diagnosis(
    log: ScannedLog,
    scope: Scope,
    event: Event | None,
    python: PythonInfo | None,
    warnings: tuple[str, ...],
) -> Diagnosis:
    """What is known when no rule matched: the failing step, its owner, its decisive line."""
    lines = error_like_lines(scope)
    decisive = decisive_line(lines)
    package = None
    if event is not None and event.owner:
        version = event.version or Mentions(log).version_of(
            canonicalize_name(event.owner), event.start
        )
        package = PackageRef(event.owner, version)
    if package is None:
        # no owner line in the excerpt: the directory pip unpacked the sdist into names it
        unpacked = Mentions(log, scope).unpack_dirs
        if unpacked:
            name = unpacked[-1].name
            package = PackageRef(name, Mentions(log).version_of(canonicalize_name(name), scope.end))
    step = step_text(event)
    if package is not None and decisive is not None:
        phrase = STEP_PHRASES.get(event.step) if event else None
        building = event is None or event.kind in ("collect", "build", "error", "phase")
        what = f"The build of {package}" if building else step[:1].upper() + step[1:]
        if event is None or not event.owner:
            step = f"the build of {package}"
        while_ = f" while {phrase}" if phrase else ""
        headline = f"{what} failed{while_}: {decisive.text.strip()}"
        explanation = (
            f"None of render-sim's failure patterns matches this failure, but the log shows where "
            f"it happened: {step} failed, and the line above is its most telling error. The lines "
            "below are that step's own output."
        )
    elif package is not None:
        headline = f"The build of {package} failed, with no error line render-sim recognises"
        explanation = (
            "None of render-sim's failure patterns matches this failure, and the excerpt shows "
            f"no error line from the build of {package} itself; the installer names it as the "
            "step that failed."
        )
    elif lines:
        headline = "render-sim found no known cause of failure in this log"
        if decisive is not None:
            headline += f": {decisive.text.strip()}"
        explanation = (
            "None of render-sim's failure patterns matches this log. The lines below are the ones "
            "that look most like errors; the real cause is usually the first error of the failing "
            "step, not the last line."
        )
    else:
        headline = "render-sim found no known cause of failure in this log"
        explanation = (
            "None of render-sim's failure patterns matches this log, and no line looks like an "
            "error. Was the whole build output pasted?"
        )
    return Diagnosis(
        failure_class=UNKNOWN,
        root_cause="unknown",
        headline=clip(headline),
        explanation=explanation,
        package=package,
        python=python,
        evidence=evidence(log, ((hit.start, hit.text) for hit in lines)),
        warnings=warnings,
        step=step,
    )

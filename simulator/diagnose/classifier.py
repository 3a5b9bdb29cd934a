"""Read a build log and say what failed, which package, why, and the fix.

The failure classes, their patterns and their guidance live in `data/rules.yaml`, loaded and
validated once by `simulator.diagnose.catalogue`. `classify` scans the log and assembles a `Diagnosis`:

1. Normalise the log once (`simulator.diagnose.logtext`): ANSI colours, CRLF, RFC 3339 timestamps,
   Render dashboard dates and BuildKit prefixes are stripped; line numbers stay those of the
   input.
2. Find the lines each rule's signals match. Every pattern has a literal "needle" that any match
   contains, so lines are found with `str.find` over the whole text and only those lines meet a
   regex: the scan is linear in the input, 50 MB logs take seconds.
3. The highest-priority rule that fired wins; no rule -> class `unknown`, with the lines that
   look most like errors as evidence.
4. The culprit package comes from the rule's culprit steps (`simulator.diagnose.culprit`: the
   distribution whose build failed beats the one the user asked for); the Python version from
   Render's `==> Using Python version` line, the context, maturin's `--interpreter`, wheel tags
   or paths (`simulator.diagnose.python_in_log`).
5. Fixes come from the rule's templates (`simulator.fixes`); the computed ones (older Python,
   upgrade, conflict) ask the optional `PackageIndex` and say whether they were checked against
   real metadata.

`classify` is pure apart from those optional index lookups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulator.diagnose.catalogue import RULES_PATH, RuleCatalogueError, load_rules
from simulator.diagnose.culprit import CulpritFinder
from simulator.diagnose.diagnosis import UNKNOWN, Diagnosis, DiagnosisContext, Evidence, PythonInfo
from simulator.diagnose.logtext import (
    Hit,
    Matcher,
    ScannedLog,
    fixed_matcher,
    normalise,
    required_literal,
)
from simulator.diagnose.python_in_log import RENDER_PYTHON_LINE, find_python, python_fields
from simulator.diagnose.rules import Catalogue, Rule, Signal, render_template
from simulator.fixes import FixInputs, build_fixes
from simulator.wheels import PackageIndex

# `classify` is this module's own; the other names are re-exported for existing callers.
__all__ = [
    "RULES_PATH",
    "RuleCatalogueError",
    "ScannedLog",
    "classify",
    "load_rules",
    "normalise",
    "required_literal",
]

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
    (fixed_matcher(r"^\s*(?:×|💥)", ["×", "💥"]), 4),
    (fixed_matcher(r"Traceback \(most recent call last\)"), 3),
    (fixed_matcher(r"^\s*\w*(?:Error|Exception):", ["Error:", "Exception:"]), 4),
    (
        fixed_matcher(
            r"(?:exit code|exit status|returned non-zero)", ["exit code", "exit status", "non-zero"]
        ),
        2,
    ),
    (fixed_matcher(r"\b(?:[Ff]ailed|FAILED)\b", ["ailed", "FAILED"]), 1),
    (fixed_matcher(r"==> Build failed"), 2),
)
_SUCCESS = (fixed_matcher(r"==> Build successful"), fixed_matcher(r"Successfully installed "))


def _error_like_lines(log: ScannedLog, limit: int = 10) -> list[Hit]:
    scored: dict[int, tuple[int, Hit]] = {}
    for matcher, score in _ERROR_LIKE:
        for hit in log.hits(matcher, keep=2000):
            best = scored.get(hit.start)
            total = score + (best[0] if best else 0)
            scored[hit.start] = (total, hit)
    top = sorted(scored.values(), key=lambda item: (item[0], item[1].start), reverse=True)[:limit]
    return sorted((hit for _, hit in top), key=lambda hit: hit.start)


def _evidence(log: ScannedLog, lines: Iterable[tuple[int, str]]) -> tuple[Evidence, ...]:
    """Evidence from (offset, text) lines: deduplicated, in log order, at most MAX_EVIDENCE."""
    unique = dict(lines)
    ordered = sorted(unique.items())[:MAX_EVIDENCE]
    numbers = log.line_numbers(start for start, _ in ordered)
    return tuple(Evidence(numbers[start], _clip(text)) for start, text in ordered)


def _clip(text: str) -> str:
    text = text.rstrip()
    if len(text) > EVIDENCE_LINE_LIMIT:
        return text[:EVIDENCE_LINE_LIMIT] + f"… [{len(text) - EVIDENCE_LINE_LIMIT} more characters]"
    return text


def _line_at(log: ScannedLog, start: int) -> tuple[int, str]:
    end = log.text.find("\n", start)
    return start, log.text[start : end if end != -1 else len(log.text)]


@dataclass(frozen=True)
class _Firing:
    rule: Rule
    signal: Signal
    decisive: Hit
    hits: tuple[tuple[Signal, Hit], ...]
    weak_only: bool


def _fire(log: ScannedLog, rule: Rule) -> _Firing | None:
    strong: list[tuple[Signal, Hit]] = []
    weak: list[tuple[Signal, Hit]] = []
    for signal in rule.signals:
        for hit in log.hits(signal.matcher):
            (weak if signal.weak else strong).append((signal, hit))
    if strong:
        # The most specific signal (listed first) describes the failure; its first line is the
        # decisive one the culprit is looked for around.
        signal = min((item[0] for item in strong), key=rule.signals.index)
        decisive = min((hit for s, hit in strong if s is signal), key=lambda hit: hit.start)
        return _Firing(rule, signal, decisive, tuple(strong), False)
    if weak:
        last = max(weak, key=lambda item: item[1].start)
        if log.is_near_end(last[1].start):
            return _Firing(rule, last[0], last[1], tuple(weak), True)
    return None


def classify(
    text: str, context: DiagnosisContext | None = None, index: PackageIndex | None = None
) -> Diagnosis:
    """Diagnose a build log: class, culprit package, Python version, evidence and fixes.

    Pure apart from `index` lookups (None: no lookups, fixes say they are unchecked).
    """
    catalogue = load_rules()
    log = ScannedLog(text)
    context = context or DiagnosisContext()
    firing = None
    for rule in catalogue.rules:  # highest priority first: the first rule that fires wins
        firing = _fire(log, rule)
        if firing is not None:
            break
    if firing is None:
        return _unknown(log, context)
    return _diagnose(catalogue, log, firing, context, index)


def _unknown(log: ScannedLog, context: DiagnosisContext) -> Diagnosis:
    lines = _error_like_lines(log)
    python = find_python(log, context, None)
    if not lines and any(log.hits(matcher) for matcher in _SUCCESS):
        return Diagnosis(
            failure_class=UNKNOWN,
            root_cause="no failure in the log",
            headline="No failure found: the log shows a successful install",
            explanation="No line of the log looks like an error, and the install reports success.",
            python=python,
        )
    headline = "render-sim found no known cause of failure in this log"
    explanation = (
        "None of render-sim's failure patterns matches this log. The lines below are the ones "
        "that look most like errors; the real cause is usually the first error of the failing "
        "step, not the last line."
        if lines
        else "None of render-sim's failure patterns matches this log, and no line looks like "
        "an error. Was the whole build output pasted?"
    )
    return Diagnosis(
        failure_class=UNKNOWN,
        root_cause="unknown",
        headline=headline,
        explanation=explanation,
        python=python,
        evidence=_evidence(log, ((hit.start, hit.text) for hit in lines)),
        warnings=_warnings(load_rules(), context, None, False),
    )


def _diagnose(
    catalogue: Catalogue,
    log: ScannedLog,
    firing: _Firing,
    context: DiagnosisContext,
    index: PackageIndex | None,
) -> Diagnosis:
    rule = firing.rule
    finder = CulpritFinder(log, rule, firing.decisive, firing.signal)
    culprit = finder.find()
    package = culprit.package if culprit else None
    python = find_python(log, context, firing.decisive.start)

    fields: dict[str, str] = dict(rule.defaults)
    fields.update(firing.signal.detail)
    fields.update({k: v for k, v in firing.decisive.match.groupdict().items() if v})
    fields.update(python_fields(python))
    fields.update(
        package=package.name if package else "the package",
        package_label=str(package) if package else "a package",
        version=package.version or "" if package else "",
        build_command=context.build_command or "",
        index_name=index.description if index is not None else "the package index",
        conflict=finder.conflict.describe() if finder.conflict else fields.get("conflict", ""),
        download_note=(
            f" (largest download: {package}, {culprit.size:g} MB)"
            if culprit and culprit.size and package
            else ""
        ),
    )

    inputs = FixInputs(
        catalogue,
        log,
        fields,
        package,
        python,
        context,
        index,
        culprit,
        finder.conflict,
        firing.decisive,
    )
    fixes = build_fixes(rule.fixes, inputs)

    headline_template = rule.headline
    explanation_template = rule.explanation
    if python is None:
        headline_template = rule.headline_no_python or headline_template
        explanation_template = rule.explanation_no_python or explanation_template
    if firing.weak_only and rule.headline_weak:
        headline_template = rule.headline_weak
    # Evidence: each decisive signal's first and last line (six at most), the first line of
    # each supporting pattern, where the culprit is named, and Render's Python line.
    per_signal: dict[int, list[Hit]] = {}
    for signal, hit in firing.hits:
        per_signal.setdefault(id(signal), []).append(hit)
    decisive_hits = sorted(
        {hit.start: hit for hits in per_signal.values() for hit in (hits[0], hits[-1])}.values(),
        key=lambda hit: hit.start,
    )[:6]
    evidence = [(hit.start, hit.text) for hit in decisive_hits]
    evidence += [(hit.start, hit.text) for matcher in rule.context for hit in log.hits(matcher)[:1]]
    if culprit is not None:
        evidence.append(_line_at(log, culprit.start))
    if python is not None and python.source == "render-log":
        evidence += [(hit.start, hit.text) for hit in log.hits(RENDER_PYTHON_LINE)[:1]]

    python_fix = any(t.generator in ("older-python", "no-match") for t in rule.fixes)
    return Diagnosis(
        failure_class=rule.failure_class,
        root_cause=render_template(rule.root_cause, fields),
        headline=render_template(headline_template, fields),
        explanation=render_template(explanation_template, fields),
        package=package,
        python=python,
        evidence=_evidence(log, evidence),
        fixes=tuple(fixes),
        warnings=_warnings(catalogue, context, python, python_fix),
    )


def _warnings(
    catalogue: Catalogue, context: DiagnosisContext, python: PythonInfo | None, python_matters: bool
) -> tuple[str, ...]:
    out = []
    fields = python_fields(python)
    if context.runtime_txt_exists:
        content = (context.runtime_txt or "").strip()
        out.append(
            render_template(
                catalogue.warnings["runtime-txt"],
                {**fields, "content": f" ({content})" if content else ""},
            )
        )
    if python_matters and python is not None and python.selected_by == "default":
        out.append(render_template(catalogue.warnings["default-python"], fields))
    return tuple(out)

"""Layer 3: classify the step that failed, and assemble the `Diagnosis`.

1. `simulator.diagnose.text` normalises the log (prefixes, colours, quoting; line numbers kept).
2. `simulator.diagnose.segment` reads the build as installer events and picks the failing one
   (or, after a successful build, the runtime section).
3. The catalogue's rules (`data/rules.yaml`, validated by `simulator.diagnose.catalogue`) are
   matched inside that event's lines and Render's closing lines only (its `Scope`): the
   highest-priority rule that fires wins, except that the platform's own verdict (Render's
   `Ran out of memory`, a time limit) always does. Every pattern has a literal "needle", so a
   scope is searched with `bytes.find` and only the lines holding one meet a regex.
4. The culprit comes from the rule's steps, first among them the event's owner
   (`simulator.diagnose.culprit`); the Python version from Render's line, the context or what
   tools printed (`simulator.diagnose.python_in_log`); the fixes from the rule's templates
   (`simulator.diagnose.fixes`, which may ask the optional `PackageIndex`).
5. No rule fires: `unknown`, with what is known (`simulator.diagnose.evidence`).

`classify` is pure apart from those optional index lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.culprit import CulpritFinder
from simulator.diagnose.diagnosis import Diagnosis, DiagnosisContext, PythonInfo
from simulator.diagnose.events import Event, Role
from simulator.diagnose.evidence import evidence, no_failure, step_text, unknown_diagnosis
from simulator.diagnose.fix_inputs import FixInputs
from simulator.diagnose.fixes import build_fixes
from simulator.diagnose.python_in_log import RENDER_PYTHON_LINE, find_python, python_fields
from simulator.diagnose.rules import Catalogue, Rule, Signal, render_template
from simulator.diagnose.scan import Hit, ScannedLog
from simulator.diagnose.scope import Scope
from simulator.diagnose.segment import Reading, read_log
from simulator.diagnose.text import LogText
from simulator.index.client import PackageIndex

#: How the installer whose event failed is named in the texts ("so uv compiled it from source").
INSTALLERS = {"uv": "uv", "poetry": "Poetry", "pdm": "PDM", "pipenv": "pipenv"}


def matched_fields(match: re.Match[str]) -> dict[str, str]:
    """The fields a signal's match fills: its named groups that matched. A regex names a group
    once, so a pattern whose alternatives fill one field names the others `missing2`, `missing3`:
    they fill `missing` too."""
    fields: dict[str, str] = {}
    for name, value in match.groupdict().items():
        if value:
            fields.setdefault(name.rstrip("0123456789") or name, value)
    return fields


@dataclass(frozen=True)
class _Firing:
    rule: Rule
    signal: Signal
    decisive: Hit
    hits: tuple[tuple[Signal, Hit], ...]
    weak_only: bool


def _fire(
    scope: Scope,
    rule: Rule,
    end: int,
    verdicts_only: bool = False,
    python: tuple[int, int] | None = None,
    context: DiagnosisContext | None = None,
) -> _Firing | None:
    strong: list[tuple[Signal, Hit]] = []
    weak: list[tuple[Signal, Hit]] = []
    for signal in rule.signals:
        if verdicts_only and not signal.verdict:
            continue
        if signal.min_python and (python is None or python < signal.min_python):
            continue
        if signal.when_context and not getattr(context, signal.when_context, False):
            continue
        hits = scope.hits(signal.matcher)
        if hits and signal.with_ and not any(scope.hits(m, keep=1) for m in signal.with_):
            continue
        for hit in hits:
            (weak if signal.weak else strong).append((signal, hit))
    if strong:
        # The most specific signal (listed first) describes the failure; its first line is the
        # decisive one.
        signal = min((item[0] for item in strong), key=rule.signals.index)
        decisive = min((hit for s, hit in strong if s is signal), key=lambda hit: hit.start)
        return _Firing(rule, signal, decisive, tuple(strong), False)
    if weak:
        last = max(weak, key=lambda item: item[1].start)
        if scope.log.is_near_end(last[1].start, end=end):
            return _Firing(rule, last[0], last[1], tuple(weak), True)
    return None


def _build_scope(reading: Reading) -> Scope:
    """The failing event's lines, the summary and kill lines after it, Render's closing lines."""
    log = reading.log
    build_end = reading.sections.build[1]
    ranges = [reading.end_section]
    event = reading.failing
    if event is None or reading.how == "running":
        # Nothing reports a failure: what failed is somewhere after the last barrier.
        ranges.append((reading.start, build_end))
    else:
        ranges.append((event.start, event.end))
        for mark, _ in reading.summaries:
            if mark.offset >= event.start:
                ranges.append((mark.offset, log.line_end(mark.offset) + 1))
    for mark in reading.kills:
        ranges.append((mark.offset, log.line_end(mark.offset) + 1))
    return Scope.of(log, ranges)


def _first_firing(
    catalogue: Catalogue,
    scope: Scope,
    phase: str,
    end: int,
    verdict_scope: Scope | None = None,
    python: tuple[int, int] | None = None,
    context: DiagnosisContext | None = None,
) -> _Firing | None:
    rules = [rule for rule in catalogue.rules if rule.phase == phase]
    if verdict_scope is not None:
        for rule in rules:
            firing = _fire(verdict_scope, rule, end, verdicts_only=True)
            if firing is not None:
                return firing
    for rule in rules:  # highest priority first: the first rule that fires wins
        firing = _fire(scope, rule, end, python=python, context=context)
        if firing is not None:
            return firing
    return None


def classify(
    text: str | bytes | LogText,
    context: DiagnosisContext | None = None,
    index: PackageIndex | None = None,
) -> Diagnosis:
    """Diagnose a build log: class, culprit package, Python version, evidence and fixes.

    Pure apart from `index` lookups (None: no lookups, fixes say they are unchecked).
    """
    catalogue = load_rules()
    log = ScannedLog(text)
    context = context or DiagnosisContext()
    reading = read_log(log)
    sections = reading.sections
    if sections.result == "succeeded" and sections.runtime is not None:
        runtime = Scope.of(log, [sections.runtime])
        firing = _first_firing(catalogue, runtime, "runtime", sections.runtime[1])
        if firing is not None:
            return _diagnose(catalogue, log, firing, runtime, None, context, index, "runtime")
        python = find_python(log, context, None)
        return no_failure(log, runtime, python) or unknown_diagnosis(
            log, runtime, None, python, _warnings(catalogue, context, python, False)
        )
    scope = _build_scope(reading)
    verdicts = Scope.of(
        log,
        [reading.end_section]
        + [
            (m.offset, log.line_end(m.offset) + 1)
            for m in reading.kills
            if m.marker.role is Role.KILL
        ],
    )
    python = find_python(log, context, reading.failing.start if reading.failing else None)
    firing = _first_firing(
        catalogue,
        scope,
        "build",
        sections.build[1],
        verdicts,
        python.minor if python else None,
        context,
    )
    if firing is None:
        if reading.failing is None or not reading.failing.failed:
            found = no_failure(log, scope, python)
            if found is not None:
                return found
        return unknown_diagnosis(
            log, scope, reading.failing, python, _warnings(catalogue, context, python, False)
        )
    return _diagnose(catalogue, log, firing, scope, reading.failing, context, index, "build")


def _diagnose(
    catalogue: Catalogue,
    log: ScannedLog,
    firing: _Firing,
    scope: Scope,
    event: Event | None,
    context: DiagnosisContext,
    index: PackageIndex | None,
    phase: str,
) -> Diagnosis:
    rule = firing.rule
    finder = CulpritFinder(log, rule, firing.decisive, firing.signal, scope, event)
    culprit = finder.find()
    package = culprit.package if culprit else None
    python = find_python(log, context, firing.decisive.start)

    groups = matched_fields(firing.decisive.match)
    fields: dict[str, str] = dict(rule.defaults)
    # a signal's detail may quote its own groups ("refuses Python {interpreter}")
    fields.update({k: render_template(v, groups) for k, v in firing.signal.detail.items()})
    fields.update(groups)
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
        step=step_text(event) or "the build command",
        installer=INSTALLERS.get(event.tool, "pip") if event else "pip",
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
    lines = [(hit.start, hit.text) for hit in decisive_hits]
    lines += [(hit.start, hit.text) for matcher in rule.context for hit in scope.hits(matcher)[:1]]
    if culprit is not None:
        lines.append(log.line_at(culprit.start))
    if python is not None and python.source == "render-log":
        lines += [(hit.start, hit.text) for hit in log.hits(RENDER_PYTHON_LINE)[:1]]

    python_fix = any(t.generator in ("older-python", "no-match") for t in rule.fixes)
    return Diagnosis(
        failure_class=rule.failure_class,
        root_cause=render_template(rule.root_cause, fields),
        headline=render_template(headline_template, fields),
        explanation=render_template(explanation_template, fields),
        package=package,
        python=python,
        evidence=evidence(log, lines),
        fixes=tuple(fixes),
        warnings=_warnings(catalogue, context, python, python_fix),
        phase=phase,
        step=step_text(event),
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

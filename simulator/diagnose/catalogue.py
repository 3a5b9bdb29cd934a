"""Loading and validating the rule catalogue, `data/rules.yaml`.

The failure classes, their patterns and their guidance live in that file. `load_rules` reads it
once (cached) and checks every entry before any log is read: unknown keys, bad regexes, patterns
without a literal to scan for, template fields no rule sets, unknown culprit steps, generators
or actions. A mistake raises `RuleCatalogueError`, naming the rule and the field.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name

from simulator.diagnose.catalogue_schema import (
    ACTION_FIELDS,
    CONTEXT_FLAGS,
    CONTEXT_KEYS,
    CORE_FIELDS,
    CULPRIT_STEPS,
    FIX_KEYS,
    GENERATOR_FIELDS,
    GENERATOR_VARIANTS,
    GENERATORS,
    PHASES,
    RULE_KEYS,
    SELF_WORDED_GENERATORS,
    SIGNAL_KEYS,
    TOP_KEYS,
    WARNING_IDS,
)
from simulator.diagnose.diagnosis import FAILURE_CLASSES
from simulator.diagnose.rules import Catalogue, FixTemplate, Rule, Signal
from simulator.diagnose.scan import Matcher, required_literal
from simulator.errors import RenderSimError
from simulator.render import facts

RULES_PATH = Path(__file__).parents[1] / "data" / "rules.yaml"


class RuleCatalogueError(RenderSimError):
    """rules.yaml is malformed; the message names the rule and the field."""


def _fail(where: str, message: str) -> RuleCatalogueError:
    return RuleCatalogueError(
        f"rules catalogue: {where}: {message}",
        hint="Fix the entry in rules.yaml; each rule is checked when the catalogue loads.",
    )


def _reject_unknown_keys(entry: dict[str, Any], keys: frozenset[str], where: str) -> None:
    unknown = set(entry) - keys
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(keys)}")


def _compile_matcher(entry: Any, where: str, keys: frozenset[str]) -> Matcher:
    if isinstance(entry, str):
        entry = {"pattern": entry}
    if not isinstance(entry, dict):
        raise _fail(where, "expected a pattern string or a mapping with 'pattern'")
    _reject_unknown_keys(entry, keys, where)
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise _fail(where, "'pattern' must be a non-empty string")
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise _fail(where, f"bad regex {pattern!r}: {exc}") from exc
    ignore_case = bool(regex.flags & re.IGNORECASE)
    needles = entry.get("needles")
    if needles is None:
        literal = required_literal(pattern)
        if literal is None or len(literal) < 4:
            raise _fail(
                where,
                f"pattern {pattern!r} has no literal of 4+ characters outside groups; "
                "add 'needles' (literals every match contains) so the scan stays linear",
            )
        needles = [literal]
    if not isinstance(needles, list) or not all(
        isinstance(n, str) and len(n) >= 3 for n in needles
    ):
        raise _fail(where, "'needles' must be a list of literals of 3+ characters")
    if ignore_case:
        needles = [needle.lower() for needle in needles]
    return Matcher(regex, tuple(needles), ignore_case)


def _template_fields(text: str, where: str) -> set[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _fail(where, f"bad template {text!r}: {exc}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise _fail(where, f"template field {{{name}}} must be a plain name")
        names.add(name)
    return names


def _check_template(text: Any, where: str, allowed: frozenset[str] | set[str]) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _fail(where, "expected a non-empty text")
    unknown = _template_fields(text, where) - set(allowed)
    if unknown:
        raise _fail(where, f"unknown template field(s) {sorted(unknown)}")
    return " ".join(text.split()) if "\n" in text else text


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _fail(where, "expected a mapping of names to texts")
    return {key: "" if item is None else str(item) for key, item in value.items()}


def _when_context(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in CONTEXT_FLAGS:
        raise _fail(where, f"'when_context' must be one of {sorted(CONTEXT_FLAGS)}")
    return str(value)


def _min_python(value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    match = re.fullmatch(r"3\.(\d+)", str(value))
    if match is None:
        raise _fail(where, "'min_python' must look like 3.12")
    return 3, int(match.group(1))


def _culprit_steps(value: Any, where: str) -> tuple[str, ...]:
    if value in (None, "none"):
        return ()
    steps = [value] if isinstance(value, str) else value
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise _fail(where, "culprit must be a step name or a list of step names")
    unknown = [step for step in steps if step not in CULPRIT_STEPS]
    if unknown:
        raise _fail(where, f"unknown culprit step(s) {unknown}; known: {sorted(CULPRIT_STEPS)}")
    return tuple(steps)


def _parse_rule(raw: Any, position: int) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(f"rule #{position}", "expected a mapping")
    name = raw.get("class")
    where = f"rule '{name}'" if name else f"rule #{position}"
    _reject_unknown_keys(raw, RULE_KEYS, where)
    if name not in FAILURE_CLASSES:
        raise _fail(where, f"unknown class {name!r}; known classes: {', '.join(FAILURE_CLASSES)}")
    priority = raw.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise _fail(where, "'priority' must be an integer")
    sources = raw.get("source")
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        raise _fail(where, "'source' must name the corpus files or documents behind the rule")

    defaults = _string_map(raw.get("defaults"), f"{where} defaults")
    signals = []
    raw_signals = raw.get("signals")
    if not isinstance(raw_signals, list) or not raw_signals:
        raise _fail(where, "'signals' must be a non-empty list")
    group_names: set[str] = set()
    for number, entry in enumerate(raw_signals, 1):
        signal_where = f"{where} signal #{number}"
        if not isinstance(entry, dict):
            raise _fail(signal_where, "expected a mapping with 'pattern' and 'source'")
        matcher = _compile_matcher(entry, signal_where, SIGNAL_KEYS)
        if not isinstance(entry.get("source"), str):
            raise _fail(signal_where, "'source' (corpus file or document) is required")
        group_names.update(matcher.regex.groupindex)
        detail = _string_map(entry.get("detail"), f"{signal_where} detail")
        package = entry.get("package")
        if package is not None and not isinstance(package, str):
            raise _fail(signal_where, "'package' must be a distribution name")
        culprit = entry.get("culprit")
        signals.append(
            Signal(
                matcher=matcher,
                source=entry["source"],
                weak=bool(entry.get("weak", False)),
                detail=detail,
                package=package,
                culprit=None if culprit is None else _culprit_steps(culprit, signal_where),
                verdict=bool(entry.get("verdict", False)),
                min_python=_min_python(entry.get("min_python"), signal_where),
                when_context=_when_context(entry.get("when_context"), signal_where),
                with_=tuple(
                    _compile_matcher(item, f"{signal_where} with #{n}", CONTEXT_KEYS)
                    for n, item in enumerate(entry.get("with") or [], 1)
                ),
            )
        )
    allowed = CORE_FIELDS | set(defaults)
    for signal in signals:
        allowed |= set(signal.detail)
    # Named groups fill fields too, but only fields with a default are always defined.
    missing_defaults = {
        key
        for signal in signals
        for key in signal.detail
        if key not in defaults and not all(key in s.detail for s in signals)
    }
    if missing_defaults:
        raise _fail(
            where,
            f"detail field(s) {sorted(missing_defaults)} are not set by every signal; "
            "give them a value under 'defaults'",
        )
    always = CORE_FIELDS | set(defaults) | set.intersection(*(set(s.detail) for s in signals))

    context = tuple(
        _compile_matcher(entry, f"{where} context #{n}", CONTEXT_KEYS)
        for n, entry in enumerate(raw.get("context") or [], 1)
    )
    captures = tuple(
        _compile_matcher(entry, f"{where} capture #{n}", CONTEXT_KEYS)
        for n, entry in enumerate(raw.get("captures") or [], 1)
    )
    culprit = _culprit_steps(raw.get("culprit"), where)
    uses_capture = "capture" in culprit or any(
        s.culprit and "capture" in s.culprit for s in signals
    )
    if uses_capture and not captures:
        raise _fail(where, "culprit step 'capture' needs 'captures' patterns")

    fixes = []
    for number, entry in enumerate(raw.get("fixes") or [], 1):
        fix_where = f"{where} fix #{number}"
        if not isinstance(entry, dict):
            raise _fail(fix_where, "expected a mapping")
        _reject_unknown_keys(entry, FIX_KEYS, fix_where)
        generator = entry.get("generator")
        if generator is not None and generator not in GENERATORS:
            raise _fail(fix_where, f"unknown generator {generator!r}; known: {sorted(GENERATORS)}")
        title: str | None = None
        text: str | None = None
        if generator not in SELF_WORDED_GENERATORS:
            title = _check_template(entry.get("title"), f"{fix_where} title", always)
            text = _check_template(entry.get("detail"), f"{fix_where} detail", always)
        action = entry.get("action")
        if action is not None:
            action = _string_map(action, f"{fix_where} action")
            kind = action.get("kind")
            if kind not in ACTION_FIELDS:
                raise _fail(
                    fix_where, f"unknown action kind {kind!r}; known: {sorted(ACTION_FIELDS)}"
                )
            if set(action) - {"kind"} != ACTION_FIELDS[kind]:
                raise _fail(fix_where, f"action {kind} needs exactly {sorted(ACTION_FIELDS[kind])}")
            for key, value in action.items():
                _check_template(value, f"{fix_where} action {key}", always)
        max_python = entry.get("max_python")
        if max_python is not None and not re.fullmatch(r"3\.\d+", str(max_python)):
            raise _fail(fix_where, "'max_python' must look like 3.11")
        when_log = entry.get("when_log") or []
        if not isinstance(when_log, list) or not all(isinstance(n, str) and n for n in when_log):
            raise _fail(fix_where, "'when_log' must be a list of literals")
        fixes.append(
            FixTemplate(
                title=title,
                detail=text,
                action=action,
                generator=generator,
                max_python=None if max_python is None else str(max_python),
                only_checked=bool(entry.get("only_checked", False)),
                wheels_required=bool(entry.get("wheels_required", True)),
                when_log=tuple(when_log),
            )
        )

    def optional(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else _check_template(value, f"{where} {key}", always)

    phase = raw.get("phase", "build")
    if phase not in PHASES:
        raise _fail(where, f"'phase' must be one of {', '.join(PHASES)}")
    return Rule(
        phase=phase,
        failure_class=name,
        priority=priority,
        sources=tuple(str(s) for s in sources),
        root_cause=_check_template(raw.get("root_cause"), f"{where} root_cause", always),
        culprit=culprit,
        captures=captures,
        defaults=defaults,
        signals=tuple(signals),
        context=context,
        headline=_check_template(raw.get("headline"), f"{where} headline", always),
        headline_weak=optional("headline_weak"),
        headline_no_python=optional("headline_no_python"),
        explanation=_check_template(raw.get("explanation"), f"{where} explanation", always),
        explanation_no_python=optional("explanation_no_python"),
        fixes=tuple(fixes),
    )


def parse_catalogue(data: Any) -> Catalogue:
    """Validate the parsed YAML of a rules file and build the catalogue."""
    if not isinstance(data, dict):
        raise _fail("top level", "expected a mapping with 'rules'")
    _reject_unknown_keys(data, TOP_KEYS, "top level")
    if data.get("version") != 1:
        raise _fail("top level", "'version' must be 1")

    parents: dict[str, str] = {}
    for number, entry in enumerate(data.get("parents") or [], 1):
        where = f"parents #{number}"
        if not isinstance(entry, dict) or set(entry) != {"child", "parent", "source"}:
            raise _fail(where, "each entry needs exactly child, parent and source")
        parents[canonicalize_name(str(entry["child"]))] = str(entry["parent"])

    generator_fields = CORE_FIELDS | GENERATOR_FIELDS
    generators: dict[str, dict[str, str]] = {}
    raw_generators = data.get("generators") or {}
    if not isinstance(raw_generators, dict):
        raise _fail("generators", "expected a mapping")
    for name, variants in GENERATOR_VARIANTS.items():
        raw = raw_generators.get(name)
        if not isinstance(raw, dict):
            raise _fail(f"generators.{name}", "missing")
        texts: dict[str, str] = {}
        for variant in variants:
            value = raw.get(variant)
            where = f"generators.{name}.{variant}"
            if isinstance(value, dict):
                if set(value) != {"title", "detail"}:
                    raise _fail(where, "expected title and detail")
                texts[f"{variant}.title"] = _check_template(
                    value["title"], where + ".title", generator_fields
                )
                texts[f"{variant}.detail"] = _check_template(
                    value["detail"], where + ".detail", generator_fields
                )
            else:
                texts[variant] = _check_template(value, where, generator_fields)
        extra = set(raw) - set(variants)
        if extra:
            raise _fail(f"generators.{name}", f"unknown variant(s) {sorted(extra)}")
        generators[name] = texts
    extra = set(raw_generators) - set(GENERATOR_VARIANTS)
    if extra:
        raise _fail("generators", f"unknown generator(s) {sorted(extra)}")

    raw_warnings = _string_map(data.get("warnings"), "warnings")
    for warning in WARNING_IDS:
        if warning not in raw_warnings:
            raise _fail("warnings", f"missing {warning!r}")
        _check_template(raw_warnings[warning], f"warnings.{warning}", CORE_FIELDS | {"content"})

    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail("top level", "'rules' must be a non-empty list")
    rules = [_parse_rule(raw, n) for n, raw in enumerate(raw_rules, 1)]
    seen: dict[str, int] = {}
    priorities: dict[int, str] = {}
    for rule in rules:
        if rule.failure_class in seen:
            raise _fail(f"rule '{rule.failure_class}'", "defined twice (one rule per class)")
        seen[rule.failure_class] = 1
        if rule.priority in priorities:
            raise _fail(
                f"rule '{rule.failure_class}'",
                f"priority {rule.priority} is also rule '{priorities[rule.priority]}''s",
            )
        priorities[rule.priority] = rule.failure_class
    rules.sort(key=lambda r: -r.priority)
    return Catalogue(tuple(rules), parents, generators, raw_warnings)


def load_rules(path: Path | str | None = None) -> Catalogue:
    """Load and validate a rules file (the packaged one by default, cached)."""
    if path is None:
        return _default_catalogue()
    return _load_rules_file(Path(path))


@lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    return parse_catalogue(facts.load("rules"))


def _load_rules_file(path: Path) -> Catalogue:
    """Another rules file (tests, a catalogue being edited): read and checked as the packaged
    one is, its schema first (`data/schemas/rules.schema.json`), then what it means."""
    try:
        # libyaml's loader when PyYAML has it: the catalogue loads in milliseconds, not 0.3 s
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except OSError as exc:
        raise RuleCatalogueError(f"rules catalogue {path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RuleCatalogueError(f"rules catalogue {path}: invalid YAML: {exc}") from exc
    try:
        facts.validate("rules", data)
    except facts.DataFileError as exc:
        raise RuleCatalogueError(f"rules catalogue {path}: {exc}") from exc
    return parse_catalogue(data)

"""Read a build log and say what failed, which package, why, and the fix.

The failure classes, their patterns and their guidance live in `data/rules.yaml`; this module
loads and validates that catalogue once, scans the log, and assembles a `Diagnosis`:

1. Normalise the log once: ANSI colours, CRLF, RFC 3339 timestamps, Render dashboard dates and
   BuildKit prefixes (`#12 2.185`, `5.628`) are stripped; line numbers stay those of the input.
2. Find the lines each rule's signals match. Every pattern has a literal "needle" that any match
   contains, so lines are found with `str.find` over the whole text and only those lines meet a
   regex: the scan is linear in the input, 50 MB logs take seconds.
3. The highest-priority rule that fired wins; no rule -> class `unknown`, with the lines that
   look most like errors as evidence.
4. The culprit package comes from the rule's culprit steps (the distribution whose build failed
   beats the one the user asked for); the Python version from Render's `==> Using Python version`
   line, the context, maturin's `--interpreter`, wheel tags or paths.
5. Fixes come from the rule's templates; the computed ones (older Python, upgrade, conflict) ask
   the optional `PackageIndex` and say whether they were checked against real metadata.

`classify` is pure apart from those optional index lookups.
"""

from __future__ import annotations

import re
import shlex
import string
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator.diagnosis import (
    FAILURE_CLASSES,
    UNKNOWN,
    BuildCommand,
    Diagnosis,
    DiagnosisContext,
    Evidence,
    Fix,
    FixAction,
    PackageRef,
    Pin,
    PythonInfo,
    PythonVersionFile,
    Requirement,
    SetEnv,
)
from simulator.errors import RenderSimError
from simulator.wheels import (
    RENDER_PYTHON_MINORS,
    PackageIndex,
    child_requirement,
    find_parent_upgrade,
    first_release_where,
    first_version_with_wheel,
    newest_python_with_wheels,
    parse_python,
    release_installs_on,
)

RULES_PATH = Path(__file__).parent / "data" / "rules.yaml"
EVIDENCE_LINE_LIMIT = 2000  # characters shown per evidence line; huge lines are cut
MAX_EVIDENCE = 12
MAX_HITS_KEPT = 50  # per pattern: the first hits, plus the very last one
PYTORCH_PACKAGES = frozenset({"torch", "torchvision", "torchaudio"})


class RuleCatalogueError(RenderSimError):
    """rules.yaml is malformed; the message names the rule and the field."""


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

CULPRIT_STEPS = frozenset(
    {
        "signal",
        "build-failure",
        "pip-unpack-dir",
        "local-crate",
        "last-sdist",
        "largest-download",
        "failed-command",
        "conflict",
        "capture",
    }
)
GENERATORS = frozenset(
    {
        "older-python",
        "upgrade",
        "conflict-upgrade",
        "conflict-align",
        "no-match",
        "drop-system-flag",
        "no-cache-dir",
    }
)
# Generators that take their texts from the `generators:` section, not from the fix entry.
SELF_WORDED_GENERATORS = frozenset(
    {"older-python", "upgrade", "conflict-upgrade", "conflict-align", "no-match"}
)
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "set-env": frozenset({"key", "value"}),
    "python-version-file": frozenset({"value"}),
    "pin": frozenset({"package", "specifier"}),
    "build-command": frozenset({"value"}),
}
#: Template fields every rule may use; a rule adds its own through `defaults`.
CORE_FIELDS = frozenset(
    {
        "package_label",
        "package",
        "version",
        "python",
        "python_label",
        "python_minor",
        "cp_tag",
        "python_source",
        "build_command",
        "index_name",
        "conflict",
        "download_note",
    }
)
GENERATOR_FIELDS = frozenset(
    {
        "target_python",
        "target_python_full",
        "target_cp_tag",
        "pin_how",
        "runtime_note",
        "check_note",
        "upgrade_package",
        "upgrade_version",
        "child_version",
        "child_specifier",
        "child_note",
        "culprit_package",
        "dependency",
        "requested",
        "required",
        "local",
        "extra_index",
        "available_version",
        "python_spec",
    }
)
RULE_KEYS = frozenset(
    {
        "class",
        "priority",
        "source",
        "root_cause",
        "culprit",
        "captures",
        "defaults",
        "signals",
        "context",
        "headline",
        "headline_weak",
        "headline_no_python",
        "explanation",
        "explanation_no_python",
        "fixes",
    }
)
SIGNAL_KEYS = frozenset({"pattern", "needles", "source", "weak", "detail", "package", "culprit"})
CONTEXT_KEYS = frozenset({"pattern", "needles", "source"})
FIX_KEYS = frozenset(
    {
        "title",
        "detail",
        "action",
        "generator",
        "max_python",
        "only_checked",
        "wheels_required",
        "when_log",
    }
)
TOP_KEYS = frozenset({"version", "parents", "generators", "warnings", "rules"})
# The variants each self-worded generator must define in `generators:`.
GENERATOR_VARIANTS: dict[str, tuple[str, ...]] = {
    "older-python": (
        "checked",
        "unchecked",
        "sdist",
        "pin-env",
        "pin-file",
        "pin-file-env-set",
        "runtime-note",
    ),
    "upgrade": (
        "parent",
        "child",
        "none",
        "newer-sdist",
        "unchecked",
        "parent-unchecked",
        "direct-child-note",
    ),
    "conflict-upgrade": ("checked",),
    "conflict-align": ("default",),
    "no-match": ("local-version", "pin-available", "python-for-release", "python-unchecked"),
    "check-notes": ("offline", "no-index", "no-version"),
}
WARNING_IDS = ("runtime-txt", "default-python")


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern and the literals (needles) one of which every match contains."""

    regex: re.Pattern[str]
    needles: tuple[str, ...]
    ignore_case: bool = False


@dataclass(frozen=True)
class Signal:
    matcher: Matcher
    source: str
    weak: bool = False
    detail: Mapping[str, str] = field(default_factory=dict)
    package: str | None = None
    culprit: tuple[str, ...] | None = None  # overrides the rule's steps; () = never a package


@dataclass(frozen=True)
class FixTemplate:
    title: str | None = None
    detail: str | None = None
    action: Mapping[str, str] | None = None
    generator: str | None = None
    max_python: str | None = None
    only_checked: bool = False  # drop the fix unless the index confirmed it
    wheels_required: bool = True  # False: a source build works once Python/package changes
    when_log: tuple[str, ...] = ()  # only when the log contains one of these literals


@dataclass(frozen=True)
class Rule:
    failure_class: str
    priority: int
    sources: tuple[str, ...]
    root_cause: str
    culprit: tuple[str, ...]
    captures: tuple[Matcher, ...]
    defaults: Mapping[str, str]
    signals: tuple[Signal, ...]
    context: tuple[Matcher, ...]
    headline: str
    headline_weak: str | None
    headline_no_python: str | None
    explanation: str
    explanation_no_python: str | None
    fixes: tuple[FixTemplate, ...]


@dataclass(frozen=True)
class Catalogue:
    """The validated contents of rules.yaml, rules ordered by priority (highest first)."""

    rules: tuple[Rule, ...]
    parents: Mapping[str, str]  # canonical child name -> parent distribution
    generators: Mapping[str, Mapping[str, str]]
    warnings: Mapping[str, str]

    def rule(self, failure_class: str) -> Rule:
        for rule in self.rules:
            if rule.failure_class == failure_class:
                return rule
        raise KeyError(failure_class)


def required_literal(pattern: str) -> str | None:
    """The longest literal run every match of `pattern` must contain, or None.

    Only the top level counts (groups may be optional or alternatives); a top-level `|` means
    no single literal is mandatory. Good enough to find the needle of a hand-written pattern.
    """
    best = ""
    run: list[str] = []
    depth = 0
    i = 0

    def close_run() -> None:
        nonlocal best, run
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []

    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1 : i + 2]
            i += 2
            if depth:
                continue
            if nxt and not nxt.isalnum():
                literal = nxt
            else:
                close_run()
                continue
        elif char == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            if not depth:
                close_run()
            continue
        elif char == "(":
            depth += 1
            i += 1
            if depth == 1:
                close_run()
            continue
        elif char == ")":
            depth = max(depth - 1, 0)
            i += 1
            continue
        elif char == "|":
            if not depth:
                return None
            i += 1
            continue
        elif char in ".^$":
            i += 1
            if not depth:
                close_run()
            continue
        elif char in "?*{":
            i += 1
            if not depth:
                if run:
                    run.pop()  # the character before an optional quantifier is not mandatory
                close_run()
            if char == "{":
                while i < len(pattern) and pattern[i - 1] != "}":
                    i += 1
            continue
        elif char == "+":
            i += 1
            if not depth:
                close_run()
            continue
        else:
            literal = char
            i += 1
        if not depth:
            run.append(literal)
    close_run()
    return best or None


def _fail(where: str, message: str) -> RuleCatalogueError:
    return RuleCatalogueError(
        f"rules catalogue: {where}: {message}",
        hint="Fix the entry in rules.yaml; each rule is checked when the catalogue loads.",
    )


def _compile_matcher(entry: Any, where: str, keys: frozenset[str]) -> Matcher:
    if isinstance(entry, str):
        entry = {"pattern": entry}
    if not isinstance(entry, dict):
        raise _fail(where, "expected a pattern string or a mapping with 'pattern'")
    unknown = set(entry) - keys
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(keys)}")
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
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
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
        unknown = set(entry) - FIX_KEYS
        if unknown:
            raise _fail(fix_where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(FIX_KEYS)}")
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

    return Rule(
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
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail("top level", f"unknown key(s) {sorted(unknown)}; allowed: {sorted(TOP_KEYS)}")
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
    return _load_rules_file(RULES_PATH)


def _load_rules_file(path: Path) -> Catalogue:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleCatalogueError(f"rules catalogue {path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RuleCatalogueError(f"rules catalogue {path}: invalid YAML: {exc}") from exc
    return parse_catalogue(data)


# ---------------------------------------------------------------------------------------------
# Scanning a log
# ---------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Line prefixes added by log exporters, stripped once: RFC 3339 timestamps (Render's log stream,
# GitHub Actions), Render dashboard dates ("Apr 18 05:56:26 PM"), BuildKit ("#12 2.185", "#8")
# and docker's plain progress ("5.628").
_TIMESTAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_DASHBOARD_DATE = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d{1,2}:\d\d:\d\d(?: ?[AP]M)?"
_BUILDKIT = r"#\d+ (?:\d+\.\d+(?: |$))?|\d+\.\d+(?: |$)"
# Never matches the empty string, so lines without a prefix cost one failed attempt.
_PREFIX = re.compile(
    rf"(?m)^(?:(?:\ufeff|{_TIMESTAMP}[ \t]+|{_DASHBOARD_DATE}[ \t]+)+(?:{_BUILDKIT})?|{_BUILDKIT})"
)


def normalise(text: str) -> str:
    """The log with colours and line prefixes removed; same number of lines as the input."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\n" not in text:
            text = text.replace("\r", "\n")  # classic Mac line ends
    return _PREFIX.sub("", text)


@dataclass(frozen=True)
class Hit:
    """A matched line: where it starts in the normalised text, its text, and the match."""

    start: int
    text: str
    match: re.Match[str]


class ScannedLog:
    """The normalised log and the primitives the classifier needs on it."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        self._hits: dict[tuple[int, int], list[Hit]] = {}

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()

    def hits(self, matcher: Matcher, keep: int = MAX_HITS_KEPT) -> list[Hit]:
        """Lines matching `matcher`, in order: the first `keep` plus the last one."""
        key = (id(matcher), keep)
        if key not in self._hits:
            self._hits[key] = list(self._scan(matcher, keep))
        return self._hits[key]

    def _scan(self, matcher: Matcher, keep: int) -> Iterator[Hit]:
        haystack = self.lowered if matcher.ignore_case else self.text
        text = self.text
        found: dict[int, Hit] = {}
        last: Hit | None = None
        for needle in matcher.needles:
            position = haystack.find(needle)
            while position != -1:
                start = haystack.rfind("\n", 0, position) + 1
                end = haystack.find("\n", position)
                if end == -1:
                    end = len(haystack)
                if start not in found:
                    line = text[start:end]
                    match = matcher.regex.search(line)
                    if match:
                        hit = Hit(start, line, match)
                        if len(found) < keep:
                            found[start] = hit
                        if last is None or start > last.start:
                            last = hit
                position = haystack.find(needle, end)
        if last is not None:
            found.setdefault(last.start, last)
        yield from sorted(found.values(), key=lambda hit: hit.start)

    def last_hit_before(self, matcher: Matcher, anchor: int) -> Hit | None:
        """The last line before offset `anchor` that matches, searching backwards."""
        haystack = self.lowered if matcher.ignore_case else self.text
        best: Hit | None = None
        for needle in matcher.needles:
            limit = anchor
            while True:
                position = haystack.rfind(needle, 0, limit)
                if position == -1 or (best is not None and position < best.start):
                    break
                start = haystack.rfind("\n", 0, position) + 1
                end = haystack.find("\n", position)
                line = self.text[start : end if end != -1 else len(self.text)]
                match = matcher.regex.search(line)
                if match:
                    if best is None or start > best.start:
                        best = Hit(start, line, match)
                    break
                limit = start
        return best

    def line_numbers(self, offsets: Iterable[int]) -> dict[int, int]:
        """1-based line numbers of offsets, counting newlines once over the text."""
        numbers: dict[int, int] = {}
        line, previous = 1, 0
        for offset in sorted(set(offsets)):
            line += self.text.count("\n", previous, offset)
            numbers[offset] = line
            previous = offset
        return numbers

    def lines_after(self, start: int, limit: int = 8) -> list[tuple[int, str]]:
        """Up to `limit` (offset, text) lines after the line starting at `start`."""
        out: list[tuple[int, str]] = []
        position = self.text.find("\n", start)
        while position != -1 and len(out) < limit:
            end = self.text.find("\n", position + 1)
            if end == -1:
                end = len(self.text)
            out.append((position + 1, self.text[position + 1 : end]))
            position = end if end < len(self.text) else -1
        return out

    def is_near_end(self, start: int, max_lines: int = 3) -> bool:
        """True when at most `max_lines` meaningful lines follow the line at `start`.

        Render's own closing lines (`==> Build failed`, troubleshooting links) and blank lines
        do not count.
        """
        end = self.text.find("\n", start)
        if end == -1:
            return True
        tail = self.text[end + 1 :]
        if len(tail) > 20_000:
            return False
        meaningful = [
            line for line in tail.split("\n") if line.strip() and not line.startswith("==>")
        ]
        return len(meaningful) <= max_lines


def _m(pattern: str, needles: Sequence[str] | None = None) -> Matcher:
    """A matcher for the classifier's own fixed patterns (checked like catalogue patterns)."""
    regex = re.compile(pattern)
    if needles is None:
        literal = required_literal(pattern)
        assert literal and len(literal) >= 4, pattern
        needles = [literal]
    return Matcher(regex, tuple(needles))


# ---------------------------------------------------------------------------------------------
# Python version
# ---------------------------------------------------------------------------------------------

_PY_RENDER = _m(
    r"==> Using Python version (?P<v>3\.\d+\.\d+)(?: \((?P<default>default)\)| via (?P<via>.+))?"
)
# Sources in order of trust; each pattern has group "v" ("3.14") or "m" (the minor: "14").
_PY_SOURCES: tuple[tuple[str, tuple[Matcher, ...]], ...] = (
    (
        "maturin-interpreter",
        (
            _m(r"--interpreter['\",\s]+[^\s'\",]*?python(?P<v>3\.\d+)\b", ["--interpreter"]),
            _m(r"maturin pep517 \S+ -i ['\"]?[^\s'\",]*?python(?P<v>3\.\d+)\b", ["maturin pep517"]),
            _m(r"'maturin', 'pep517', '[\w-]+', '-i', '[^']*?python(?P<v>3\.\d+)'", ["'maturin'"]),
        ),
    ),
    (
        "pyo3-message",
        (_m(r"interpreter version \((?P<v>3\.\d+)\) is newer than PyO3", ["PyO3"]),),
    ),
    (
        "interpreter-report",
        (
            _m(r"Found CPython (?P<v>3\.\d+)"),
            _m(r"SOABI: cpython-3(?P<m>\d+)"),
            _m(r"Using CPython (?P<v>3\.\d+\.\d+)"),
            _m(r"Using Python (?P<v>3\.\d+\.\d+) environment at"),
            _m(r"installed using Python (?P<v>3\.\d+\.\d+)"),
        ),
    ),
    ("cargo-cfg", (_m(r"cargo:rustc-cfg=Py_3_(?P<m>\d+)\b"),)),
    (
        "wheel-tag",
        (
            _m(
                r"(?:Downloading|Using cached|Downloaded)\s+\S*?-cp3(?P<m>\d+)-(?:cp3\d+m?|abi3|none)-",
                ["-cp3"],
            ),
        ),
    ),
    (
        "path",
        (
            _m(r"/python(?P<v>3\.\d{1,2})(?:/|\b)", ["/python3."]),
            _m(r"cpython-3(?P<m>\d{1,2})\b", ["cpython-3"]),
        ),
    ),
)
_PYTHON_SOURCE_TEXT = {
    "render-log": "the Python Render installed",
    "context": "the Python of the build plan",
    "maturin-interpreter": "the interpreter maturin built for",
    "pyo3-message": "as PyO3 reported it",
    "interpreter-report": "as the build tool reported it",
    "cargo-cfg": "from cargo's Py_3_x build flags",
    "wheel-tag": "from the cpXY tags of the wheels pip downloaded",
    "path": "from the interpreter paths in the log",
}
_SELECTED_BY_TEXT = {
    "default": "Render's default for this service; neither PYTHON_VERSION nor .python-version is set",
    "PYTHON_VERSION": "set by the PYTHON_VERSION environment variable",
    ".python-version": "set by the .python-version file",
}


def _python_from_match(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("v"):
        return groups["v"]
    return f"3.{groups['m']}"


def _selected_by(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    if "default" in lowered:
        return "default"
    if "python_version" in lowered or "environment" in lowered:
        return "PYTHON_VERSION"
    if "python-version" in lowered:
        return ".python-version"
    return None


def find_python(
    log: ScannedLog, context: DiagnosisContext | None, anchor: int | None
) -> PythonInfo | None:
    """The Python a build used: Render's line, then the context, then what tools printed."""
    hits = log.hits(_PY_RENDER)
    if hits:
        hit = _pick_near(hits, anchor)
        via = hit.match.group("via")
        selected = "default" if hit.match.group("default") else _selected_by(via)
        line = log.line_numbers([hit.start])[hit.start]
        return PythonInfo(hit.match.group("v"), "render-log", line, selected)
    if context and context.python_version:
        return PythonInfo(
            context.python_version, "context", None, _selected_by(context.python_source)
        )
    for source, matchers in _PY_SOURCES:
        found = [hit for matcher in matchers for hit in log.hits(matcher)]
        if not found:
            continue
        if source == "cargo-cfg":  # a build script lists every Py_3_x up to the interpreter
            hit = max(found, key=lambda h: int(h.match.group("m")))
        else:
            hit = _pick_near(sorted(found, key=lambda h: h.start), anchor)
        line = log.line_numbers([hit.start])[hit.start]
        return PythonInfo(_python_from_match(hit.match), source, line)
    return None


def _pick_near(hits: Sequence[Hit], anchor: int | None) -> Hit:
    """The last hit at or before `anchor`, else the first one."""
    if anchor is not None:
        before = [hit for hit in hits if hit.start <= anchor]
        if before:
            return before[-1]
    return hits[0]


# ---------------------------------------------------------------------------------------------
# Package mentions and the culprit
# ---------------------------------------------------------------------------------------------

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"


@dataclass(frozen=True)
class Mention:
    """A distribution named somewhere in the log."""

    start: int
    name: str  # as written (tarball underscores turned into hyphens)
    version: str | None = None
    kind: str = ""  # collect, sdist, wheel, failure, unpack, crate
    size: float | None = None  # download size in MB
    parent: str | None = None  # the immediate parent requirement ("pydantic==2.5.3")
    direct: bool = False  # requested by a requirements file or the command line

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


_COLLECTING = _m(
    rf"Collecting (?P<name>{_NAME})(?:\[[^\]]*\])?(?P<spec>[^\s;(]*)(?:\s+\(from (?P<chain>.*)\))?"
)
_EXACT = re.compile(r"===?\s*(?P<version>[^\s,;*]+)")
_DOWNLOAD = _m(
    r"(?:Downloading|Using cached|Downloaded)\s+(?P<target>\S+)"
    r"(?:\s+\((?P<size>[\d.,]+)\s*(?P<unit>[kKMGT]?i?B|bytes)\))?",
    ["Downloading ", "Using cached ", "Downloaded "],
)
_FAILURES: tuple[Matcher, ...] = (
    _m(rf"Failed building wheel for (?P<name>{_NAME})"),
    _m(rf"Failed to build '(?P<name>{_NAME})'"),
    _m(
        rf"Failed to (?:download and )?build `(?P<name>{_NAME}?)(?:==(?P<version>[^`\s]+))?`",
        ["build `"],
    ),
    _m(
        rf"Failed to (?:download and build|fetch wheel): (?P<name>{_NAME}?)==(?P<version>\S+)",
        ["Failed to "],
    ),
    _m(
        rf"^\s*(?:ERROR: )?Failed to build (?!installable)(?P<names>{_NAME}(?: {_NAME})*)\s*$",
        ["Failed to build "],
    ),
    _m(
        rf"Building wheel for (?P<name>{_NAME}) \(.*\) did not run successfully",
        ["did not run successfully"],
    ),
    _m(rf"Could not build wheels for (?P<names>{_NAME}(?:, {_NAME})*)"),
    _m(
        rf"pyproject\.toml based projects \((?P<names>{_NAME}(?:, {_NAME})*)\)",
        ["based projects ("],
    ),
    _m(rf"╰─> (?P<name>{_NAME})\s*$", ["╰─> "]),
    _m(rf"- Installing (?P<name>{_NAME}) \((?P<version>[^)]+)\): Failed", ["): Failed"]),
    _m(rf"issues with (?P<name>{_NAME}) \((?P<version>[^)]+)\)", ["issues with "]),
    _m(
        rf"Running setup\.py (?:install|bdist_wheel) for (?P<name>{_NAME}) (?:\.\.\. )?error",
        ["Running setup.py "],
    ),
    _m(r"pip failed to build packages:"),
)
_UNPACK_DIR = _m(
    r"/pip-install-[^/\s]+/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)(?:_[0-9a-f]{32})?(?:/|\s|'|$)",
    ["/pip-install-"],
)
_LOCAL_CRATE = _m(
    rf"failed to run custom build command for `(?P<name>{_NAME}) v(?P<version>[\w.+-]+) \(/",
    ["failed to run custom build command for `"],
)
_PIP_COMMAND = _m(r"pip3? install (?P<args>.*)", ["pip install", "pip3 install"])
_SDIST = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*?)\.(?:tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$")
_UNIT_MB = {
    "b": 1e-6,
    "bytes": 1e-6,
    "kb": 1e-3,
    "kib": 1e-3,
    "mb": 1,
    "mib": 1,
    "gb": 1e3,
    "gib": 1e3,
    "tb": 1e6,
}
# Options of `pip install` that take a value (so the value is not a requirement).
_PIP_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
     "--extra-index-url", "-f", "--find-links", "--timeout", "--retries", "-t", "--target",
     "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi",
     "--src", "--upgrade-strategy", "--progress-bar", "--cache-dir", "--trusted-host",
     "--proxy", "--log", "--python", "--config-settings", "-C", "--only-binary",
     "--no-binary", "--report"}
)  # fmt: skip


def _exact_version(requirement: PepRequirement) -> str | None:
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def _parse_requirement(text: str) -> PepRequirement | None:
    try:
        return PepRequirement(text.strip().strip("'\""))
    except InvalidRequirement:
        return None


def _written_name(name: str) -> str:
    return name.replace("_", "-")


def _file_mention(start: int, target: str, size: float | None) -> Mention | None:
    filename = urllib.parse.unquote(target.rsplit("/", 1)[-1].split("#", 1)[0])
    if filename.endswith(".metadata"):
        return None  # pip fetched only the wheel's metadata: not the download that matters
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) < 5:
            return None
        return Mention(start, _written_name(parts[0]), parts[1], "wheel", size)
    match = _SDIST.match(filename)
    if match:
        return Mention(start, _written_name(match["name"]), match["version"], "sdist", size)
    return None


def _collect_mention(start: int, match: re.Match[str]) -> Mention:
    exact = _EXACT.fullmatch(match["spec"])
    chain = (match["chain"] or "").split("->")
    first = chain[0].strip()
    parent = None if not first or first.startswith("-") else first
    direct = not match["chain"] or first.startswith(("-r ", "-c "))
    version = exact["version"] if exact else None
    return Mention(start, match["name"], version, "collect", parent=parent, direct=direct)


def _download_mention(start: int, match: re.Match[str]) -> Mention | None:
    size = None
    if match["size"]:
        try:
            size = float(match["size"].replace(",", "")) * _UNIT_MB.get(match["unit"].lower(), 1)
        except ValueError:
            size = None
    return _file_mention(start, match["target"], size)


class Mentions:
    """Distributions named in the log, found lazily and cached."""

    def __init__(self, log: ScannedLog) -> None:
        self.log = log
        self._named: dict[str, list[Mention]] = {}

    @cached_property
    def files(self) -> list[Mention]:
        """Every download in the log (only the download-bound rules need them all)."""
        out = []
        for hit in self.log.hits(_DOWNLOAD, keep=10**9):
            mention = _download_mention(hit.start, hit.match)
            if mention:
                out.append(mention)
        return out

    @cached_property
    def failures(self) -> list[Mention]:
        out = []
        for matcher in _FAILURES:
            for hit in self.log.hits(matcher):
                groups = hit.match.groupdict()
                if matcher is _FAILURES[-1]:  # pipx lists the failed packages below the line
                    for start, line in self.log.lines_after(hit.start, 8):
                        name = line.strip()
                        if not line.startswith((" ", "\t")) or not re.fullmatch(_NAME, name):
                            break
                        out.append(Mention(start, name, None, "failure"))
                    continue
                names = groups.get("names")
                if names:
                    first = re.split(r"[ ,]+", names.strip())[0]
                    out.append(Mention(hit.start, first, None, "failure"))
                elif groups.get("name") and groups["name"].lower() not in ("see", "error"):
                    out.append(Mention(hit.start, groups["name"], groups.get("version"), "failure"))
        out.sort(key=lambda m: m.start)
        return out

    @cached_property
    def unpack_dirs(self) -> list[Mention]:
        return [
            Mention(hit.start, hit.match["name"], None, "unpack")
            for hit in self.log.hits(_UNPACK_DIR, keep=10**9)
        ]

    @cached_property
    def crates(self) -> list[Mention]:
        return [
            Mention(hit.start, hit.match["name"], hit.match["version"], "crate")
            for hit in self.log.hits(_LOCAL_CRATE)
        ]

    def named(self, key: str) -> list[Mention]:
        """Collect/download/failure/crate mentions of distribution `key` only.

        Lines are found by the name's spellings (pydantic-core, pydantic_core, ...), so this
        stays cheap on logs with hundreds of thousands of `Collecting` lines.
        """
        if key not in self._named:
            spellings = {key, key.replace("-", "_"), key.replace("-", ".")}
            finder = Matcher(re.compile("."), tuple(sorted(spellings)), ignore_case=True)
            found: list[Mention] = []
            for hit in self.log.hits(finder, keep=10**9):
                found.extend(self._parse_line(hit.start, hit.text))
            self._named[key] = [m for m in found if m.key == key]
        return self._named[key]

    def _parse_line(self, start: int, line: str) -> list[Mention]:
        out: list[Mention] = []
        match = _COLLECTING.regex.search(line)
        if match:
            out.append(_collect_mention(start, match))
        match = _DOWNLOAD.regex.search(line)
        if match:
            mention = _download_mention(start, match)
            if mention:
                out.append(mention)
        match = _LOCAL_CRATE.regex.search(line)
        if match:
            out.append(Mention(start, match["name"], match["version"], "crate"))
        for matcher in _FAILURES[:-1]:
            match = matcher.regex.search(line)
            if match and match.groupdict().get("name") and match.groupdict().get("version"):
                out.append(Mention(start, match["name"], match["version"], "failure"))
        return out

    def last_sdist_before(self, anchor: int) -> Mention | None:
        """The last sdist pip downloaded before `anchor`, else the last `Collecting` line."""
        position = anchor
        while True:
            hit = self.log.last_hit_before(_DOWNLOAD, position)
            if hit is None:
                break
            mention = _download_mention(hit.start, hit.match)
            if mention is not None and mention.kind == "sdist":
                return mention
            position = hit.start
        hit = self.log.last_hit_before(_COLLECTING, anchor)
        return _collect_mention(hit.start, hit.match) if hit else None

    def version_of(self, key: str, anchor: int) -> str | None:
        """The version the log gives for distribution `key`, nearest before `anchor`."""
        candidates = [m for m in self.named(key) if m.version]
        if not candidates:
            return None
        before = [m for m in candidates if m.start <= anchor]
        chosen = (
            max(before, key=lambda m: m.start) if before else min(candidates, key=lambda m: m.start)
        )
        return chosen.version

    def collecting(self, key: str) -> Mention | None:
        """The `Collecting` line of distribution `key` (the first)."""
        for mention in self.named(key):
            if mention.kind == "collect":
                return mention
        return None


@dataclass(frozen=True)
class Conflict:
    """Two requirements that exclude each other, as the resolver reported them."""

    culprit: str
    culprit_version: str | None
    dependency: str
    required: str  # what the culprit needs, e.g. "<=1.4.41,>=1.4.17"
    requested: str  # what the user asked for, e.g. "sqlalchemy==2.0.20"

    def describe(self) -> str:
        who = f"{self.culprit} {self.culprit_version}" if self.culprit_version else self.culprit
        needs = f"{self.dependency}{self.required}" if self.required else self.dependency
        return f"{who} requires {needs}, but {self.requested} is requested"


_PIP_REQUESTED = _m(r"The user requested (?:\(constraint\) )?(?P<req>\S+)")
_PIP_DEPENDS = _m(
    rf"^\s*(?P<name>{_NAME}) (?P<version>\S+) depends on (?P<req>.+?)\s*$", [" depends on "]
)
_POETRY_DEPENDS = _m(
    rf"(?P<name>{_NAME}) \((?P<version>[^)]+)\) depends on (?P<dep>{_NAME}) \((?P<spec>[^)]+)\)",
    [") depends on "],
)
_POETRY_ROOT = _m(rf"depends on both (?P<dep>{_NAME}) \((?P<spec>[^)]+)\)", ["depends on both "])
_UV_DEPENDS = _m(
    rf"(?P<name>{_NAME})==(?P<version>[^\s,]+) depends on (?P<dep>{_NAME})(?P<spec>[^\s,]*)",
    [" depends on "],
)
_UV_REQUESTED = _m(rf"you require (?P<dep>{_NAME})(?P<spec>[^\s,]*)", ["you require "])


def _pip_spec(text: str) -> str:
    """pip writes "pydantic!=1.8, <2.0.0 and >=1.7.4": make it a specifier string."""
    return text.replace(" and ", ",").replace(" ", "")


def _poetry_spec(text: str) -> str:
    text = text.strip()
    return f"=={text}" if re.fullmatch(r"\d[\w.]*", text) else text


def _probe_version(spec: str) -> str | None:
    """A concrete version a requested specifier stands for: its ==/>= bound."""
    match = re.search(r"(?:===?|>=|~=|\^|~)\s*(\d[\w.+]*)", spec) or re.fullmatch(
        r"(\d[\w.+]*)", spec
    )
    return match.group(1) if match else None


def _allows(spec: str, version: str) -> bool | None:
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def find_conflict(log: ScannedLog) -> Conflict | None:
    """The requirement that excludes what the user asked for (pip, Poetry or uv wording)."""
    requested: dict[str, str] = {}
    for hit in log.hits(_PIP_REQUESTED):
        req = _parse_requirement(hit.match["req"])
        if req:
            requested[canonicalize_name(req.name)] = hit.match["req"]
    for hit in log.hits(_POETRY_ROOT):
        requested[canonicalize_name(hit.match["dep"])] = hit.match["dep"] + _poetry_spec(
            hit.match["spec"]
        )
    for hit in log.hits(_UV_REQUESTED):
        requested[canonicalize_name(hit.match["dep"])] = hit.match["dep"] + hit.match["spec"]

    edges: list[tuple[str, str | None, str, str]] = []  # culprit, version, dependency, spec
    for hit in log.hits(_PIP_DEPENDS):
        req = _parse_requirement(_pip_spec(hit.match["req"]))
        if req is None:
            continue
        edges.append((hit.match["name"], hit.match["version"], req.name, str(req.specifier)))
    for hit in log.hits(_POETRY_DEPENDS):
        edges.append(
            (
                hit.match["name"],
                hit.match["version"],
                hit.match["dep"],
                _poetry_spec(hit.match["spec"]),
            )
        )
    for hit in log.hits(_UV_DEPENDS):
        edges.append((hit.match["name"], hit.match["version"], hit.match["dep"], hit.match["spec"]))
    if not edges:
        return None

    def conflict_for(edge: tuple[str, str | None, str, str]) -> Conflict:
        name, version, dependency, spec = edge
        wanted = requested.get(canonicalize_name(dependency), dependency)
        return Conflict(name, version, dependency, spec, wanted)

    for edge in edges:
        wanted = requested.get(canonicalize_name(edge[2]))
        if wanted is None:
            continue
        probe = _probe_version(
            wanted[len(edge[2]) :] if wanted.lower().startswith(edge[2].lower()) else wanted
        )
        if probe and _allows(edge[3], probe) is False:
            return conflict_for(edge)
    return conflict_for(edges[0])


@dataclass(frozen=True)
class Culprit:
    package: PackageRef
    start: int  # where the log names it (for evidence)
    size: float | None = None
    collected: Mention | None = None


class CulpritFinder:
    """Runs a rule's culprit steps over the log's mentions."""

    def __init__(self, log: ScannedLog, rule: Rule, decisive: Hit, signal: Signal) -> None:
        self.log = log
        self.rule = rule
        self.decisive = decisive
        self.signal = signal
        self.mentions = Mentions(log)
        self.conflict: Conflict | None = None

    def find(self) -> Culprit | None:
        steps = self.signal.culprit if self.signal.culprit is not None else self.rule.culprit
        for step in steps:
            found = self._step(step)
            if found is not None:
                return self._complete(found)
        return None

    def _complete(self, culprit: Culprit) -> Culprit:
        key = canonicalize_name(culprit.package.name)
        version = culprit.package.version or self.mentions.version_of(key, self.decisive.start)
        collected = self.mentions.collecting(key)
        name = culprit.package.name
        if collected is not None and canonicalize_name(collected.name) == key:
            name = collected.name  # the spelling the user's requirement used
        return Culprit(PackageRef(name, version), culprit.start, culprit.size, collected)

    def _step(self, step: str) -> Culprit | None:
        anchor = self.decisive.start
        if step == "signal":
            groups = self.decisive.match.groupdict()
            if groups.get("name"):
                return Culprit(PackageRef(groups["name"], groups.get("version")), anchor)
            if groups.get("req"):
                req = _parse_requirement(groups["req"].split(" (", 1)[0])
                if req:
                    return Culprit(PackageRef(req.name, _exact_version(req)), anchor)
            if self.signal.package:
                return Culprit(PackageRef(self.signal.package), anchor)
            return None
        if step == "build-failure":
            return self._around(self.mentions.failures, prefer_after=True)
        if step == "pip-unpack-dir":
            return self._around(self.mentions.unpack_dirs, prefer_after=False)
        if step == "local-crate":
            return self._around(self.mentions.crates, prefer_after=False)
        if step == "last-sdist":
            mention = self.mentions.last_sdist_before(anchor + 1)
            return self._from_mention(mention) if mention else None
        if step == "largest-download":
            sized = [m for m in self.mentions.files if m.size]
            if not sized:
                return None
            biggest = max(sized, key=lambda m: (m.size or 0, -m.start))
            return self._from_mention(biggest)
        if step == "failed-command":
            return self._failed_command()
        if step == "conflict":
            self.conflict = find_conflict(self.log)
            if self.conflict is None:
                return None
            return Culprit(PackageRef(self.conflict.culprit, self.conflict.culprit_version), anchor)
        if step == "capture":
            for matcher in self.rule.captures:
                hits = self.log.hits(matcher)
                if hits:
                    hit = _pick_near(hits, anchor)
                    groups = hit.match.groupdict()
                    if groups.get("name"):
                        return Culprit(PackageRef(groups["name"], groups.get("version")), hit.start)
            return None
        raise AssertionError(step)

    def _from_mention(self, mention: Mention) -> Culprit:
        return Culprit(PackageRef(mention.name, mention.version), mention.start, mention.size)

    def _around(self, mentions: Sequence[Mention], prefer_after: bool) -> Culprit | None:
        """The mention nearest the decisive line: the first after it (a build's failure line
        follows its output) or the last before it (an unpack path precedes the error)."""
        anchor = self.decisive.start
        after = [m for m in mentions if m.start >= anchor]
        before = [m for m in mentions if m.start < anchor]
        ordered = ([after[0]] if after else []) + ([before[-1]] if before else [])
        if not prefer_after:
            ordered.reverse()
        return self._from_mention(ordered[0]) if ordered else None

    def _failed_command(self) -> Culprit | None:
        hits = self.log.hits(_PIP_COMMAND)
        if not hits:
            return None
        failing = [h for h in hits if "did not complete" in h.text or "non-zero" in h.text]
        hit = failing[0] if failing else _pick_near(hits, self.decisive.start)
        args = hit.match["args"].replace('\\"', '"')
        args = re.split(r'"? did not complete|;|&&|\]: exit code', args)[0]
        try:
            tokens = shlex.split(args)
        except ValueError:
            tokens = args.split()
        skip = False
        for token in tokens:
            if skip:
                skip = False
                continue
            if token.startswith("-"):
                skip = token in _PIP_VALUE_OPTIONS
                continue
            req = _parse_requirement(token)
            if req:
                return Culprit(PackageRef(req.name, _exact_version(req)), hit.start)
        return None


# ---------------------------------------------------------------------------------------------
# Fixes
# ---------------------------------------------------------------------------------------------


def _minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest.split(".")[0])


@dataclass
class FixInputs:
    """Everything a fix generator may use."""

    catalogue: Catalogue
    log: ScannedLog
    fields: dict[str, str]
    package: PackageRef | None
    python: PythonInfo | None
    context: DiagnosisContext
    index: PackageIndex | None
    culprit: Culprit | None
    conflict: Conflict | None
    decisive: Hit

    def text(self, generator: str, variant: str, **extra: str) -> str:
        return _render(self.catalogue.generators[generator][variant], {**self.fields, **extra})

    def check_note(self) -> str:
        if self.index is None:
            return self.text("check-notes", "no-index")
        return self.text("check-notes", "offline")

    def render_minors(self) -> list[str]:
        """Minor versions Render offers, newest first (the context's mapping when given)."""
        minors = list(self.context.render_versions) or list(RENDER_PYTHON_MINORS)
        valid = [m for m in minors if re.fullmatch(r"3\.\d+", m)]
        return sorted(valid, key=_minor_key, reverse=True)

    def python_choice(
        self, target: str, runtime_note: bool = True
    ) -> tuple[FixAction | None, dict[str, str]]:
        """How to pin Python `target` ("3.12") on Render, and the fields describing it."""
        full = self.context.render_versions.get(target)
        env_set = self.python is not None and self.python.selected_by == "PYTHON_VERSION"
        fields = {
            "target_python": target,
            "target_python_full": full or f"{target}.x",
            "target_cp_tag": "cp" + target.replace(".", ""),
            "runtime_note": (
                self.text("older-python", "runtime-note")
                if runtime_note and self.context.runtime_txt_exists
                else ""
            ),
        }
        action: FixAction | None
        if full:
            action = SetEnv("PYTHON_VERSION", full)
            fields["pin_how"] = self.text("older-python", "pin-env", **fields)
        elif env_set:
            action = None  # PYTHON_VERSION must be a full version, which render-sim does not know
            fields["pin_how"] = self.text("older-python", "pin-file-env-set", **fields)
        else:
            action = PythonVersionFile(target)
            fields["pin_how"] = self.text("older-python", "pin-file", **fields)
        return action, fields


def _older_python(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    build = inputs.python.minor if inputs.python else None
    limit = _minor_key(template.max_python) if template.max_python else None
    candidates = [
        minor
        for minor in inputs.render_minors()
        if (build is None or _minor_key(minor) < build)
        and (limit is None or _minor_key(minor) <= limit)
    ]
    if not candidates:
        return []
    package = inputs.package
    target: str | None = None
    variant = "unchecked"
    note = inputs.check_note()
    if package and package.version and inputs.index is not None:
        files = inputs.index.files(package.name, package.version)
        if files.checked:
            target = newest_python_with_wheels(
                inputs.index, package.name, package.version, candidates
            )
            variant = "checked"
            if target is None:
                if template.wheels_required:
                    return []  # no older Python has a wheel either: only an upgrade helps
                variant = "sdist"  # no wheels anywhere, but the source builds on older Pythons
    elif not package or not package.version:
        note = inputs.text("check-notes", "no-version")
    if variant == "unchecked" and build is None and template.wheels_required:
        return []  # neither the build's Python nor the wheels are known: nothing concrete to say
    action, fields = inputs.python_choice(target or candidates[0])
    fields["check_note"] = note
    checked = variant == "checked"
    return [
        Fix(
            inputs.text("older-python", f"{variant}.title", **fields),
            inputs.text("older-python", f"{variant}.detail", **fields),
            action,
            checked,
        )
    ]


def _upgrade(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    package, python = inputs.package, inputs.python
    if package is None or python is None or python.minor is None:
        return []
    minor = f"{python.minor[0]}.{python.minor[1]}"
    key = canonicalize_name(package.name)
    collected = inputs.culprit.collected if inputs.culprit else None
    direct = collected is not None and collected.direct

    parent_name: str | None = None
    parent_version: str | None = None
    if collected is not None and collected.parent:
        req = _parse_requirement(collected.parent)
        if req:
            parent_name, parent_version = req.name, _exact_version(req)
    known_parent = inputs.catalogue.parents.get(key)
    if known_parent and (
        parent_name is None or canonicalize_name(parent_name) != canonicalize_name(known_parent)
    ):
        parent_name = known_parent
        listed = Mentions(inputs.log).collecting(canonicalize_name(known_parent))
        parent_version = listed.version if listed else None

    fields: dict[str, str] = {"check_note": inputs.check_note(), "child_note": ""}
    index = inputs.index
    versions_known = index is not None and index.versions(package.name).checked
    if index is None or not versions_known:
        if template.only_checked:
            return []
        variant = "parent-unchecked" if parent_name and known_parent else "unchecked"
        fields["upgrade_package"] = parent_name or package.name
        return [_generated(inputs, "upgrade", variant, fields, None, False)]

    first_child = first_version_with_wheel(index, package.name, minor, minimum=package.version)
    if first_child is None:
        if template.only_checked:
            return []
        if not template.wheels_required:
            return _newer_sdist(inputs, fields)
        return [_generated(inputs, "upgrade", "none", fields, None, True)]

    use_parent = parent_name is not None and (
        known_parent is not None
        or _parent_blocks(index, parent_name, parent_version, package.name, first_child, minor)
    )
    if use_parent and parent_name:
        upgrade = find_parent_upgrade(
            index, parent_name, package.name, minor, parent_version, child_minimum=package.version
        )
        if upgrade is None:
            if template.only_checked:
                return []
            fields["upgrade_package"] = parent_name
            return [_generated(inputs, "upgrade", "parent-unchecked", fields, None, False)]
        also: tuple[Requirement, ...] = ()
        if direct:
            fields["child_note"] = inputs.text("upgrade", "direct-child-note")
            also = (Requirement(package.name, f">={upgrade.child_version}"),)
        fields.update(
            upgrade_package=parent_name,
            upgrade_version=upgrade.parent_version,
            child_version=upgrade.child_version,
            child_specifier=upgrade.child_specifier,
        )
        action = Pin(parent_name, f">={upgrade.parent_version}", also)
        return [_generated(inputs, "upgrade", "parent", fields, action, True)]

    fields.update(upgrade_package=package.name, upgrade_version=first_child)
    return [
        _generated(inputs, "upgrade", "child", fields, Pin(package.name, f">={first_child}"), True)
    ]


def _newer_sdist(inputs: FixInputs, fields: dict[str, str]) -> list[Fix]:
    """No release has wheels: suggest the newest release, whose build may work (unchecked)."""
    package, index = inputs.package, inputs.index
    assert package is not None and index is not None
    finals = []
    for listed in index.versions(package.name):
        try:
            parsed = Version(listed)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease and not parsed.is_devrelease:
            finals.append((parsed, listed))
    if not finals:
        return []
    newest = max(finals)[1]
    if package.version and newest == package.version:
        return []
    fields = {**fields, "upgrade_version": newest}
    action = Pin(package.name, f">={newest}")
    return [_generated(inputs, "upgrade", "newer-sdist", fields, action, False)]


def _parent_blocks(
    index: PackageIndex, parent: str, version: str | None, child: str, child_first: str, python: str
) -> bool:
    """Does this parent release's requirement keep `child` below its first release with wheels?"""
    if version is None:
        return False
    requirement = child_requirement(
        index.requires_dist(parent, version), child, parse_python(python)
    )
    if requirement is None:
        return False
    return not requirement.specifier.contains(child_first, prereleases=True)


def _generated(
    inputs: FixInputs,
    generator: str,
    variant: str,
    fields: Mapping[str, str],
    action: FixAction | None,
    checked: bool,
) -> Fix:
    return Fix(
        inputs.text(generator, f"{variant}.title", **fields),
        inputs.text(generator, f"{variant}.detail", **fields),
        action,
        checked,
    )


def _conflict_upgrade(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    conflict, index = inputs.conflict, inputs.index
    if conflict is None or index is None or not index.versions(conflict.culprit).checked:
        return []
    wanted = conflict.requested
    probe = (
        _probe_version(wanted[len(conflict.dependency) :])
        if wanted.lower().startswith(conflict.dependency.lower())
        else _probe_version(wanted)
    )
    if probe is None:
        return []

    def allows(version: str) -> bool | None:
        requires = index.requires_dist(conflict.culprit, version)
        if not requires.checked:
            return None
        requirement = child_requirement(requires, conflict.dependency, (3, 12))
        return requirement is None or requirement.specifier.contains(probe, prereleases=True)

    first = first_release_where(index, conflict.culprit, allows, minimum=conflict.culprit_version)
    if first is None or (conflict.culprit_version and first == conflict.culprit_version):
        return []
    fields = {
        "culprit_package": conflict.culprit,
        "upgrade_version": first,
        "dependency": conflict.dependency,
        "requested": conflict.requested,
    }
    return [
        _generated(
            inputs, "conflict-upgrade", "checked", fields, Pin(conflict.culprit, f">={first}"), True
        )
    ]


def _conflict_align(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    conflict = inputs.conflict
    if conflict is None or not conflict.required:
        return []
    fields = {
        "culprit_package": conflict.culprit
        + (f" {conflict.culprit_version}" if conflict.culprit_version else ""),
        "dependency": conflict.dependency,
        "required": conflict.required,
        "requested": conflict.requested,
    }
    action = Pin(conflict.dependency, conflict.required)
    return [_generated(inputs, "conflict-align", "default", fields, action, False)]


_FROM_VERSIONS = _m(r"\(from versions: (?P<versions>[^)]*)\)")
_IGNORED = _m(
    r"Ignored the following versions that require a different python version: (?P<list>.*)",
    ["require a different python version"],
)


def _no_match(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    package = inputs.package
    if package is None:
        return []
    fixes: list[Fix] = []
    version = package.version or ""
    key = canonicalize_name(package.name)
    if "+" in version and key in PYTORCH_PACKAGES:
        local = version.split("+", 1)[1]
        extra = f"https://download.pytorch.org/whl/{local}"
        fields = {"local": local, "extra_index": extra}
        fixes.append(
            _generated(
                inputs,
                "no-match",
                "local-version",
                fields,
                SetEnv("PIP_EXTRA_INDEX_URL", extra),
                False,
            )
        )
        return fixes

    # The requested release exists but needs another Python ("Ignored the following versions").
    for hit in inputs.log.hits(_IGNORED):
        for item in hit.match["list"].split(";"):
            match = re.match(r"\s*(\S+) Requires-Python (.+?)\s*$", item)
            if match and version and match.group(1) == version:
                spec = match.group(2)
                for minor in inputs.render_minors():
                    if _allows(spec, f"{minor}.0") or _allows(spec, f"{minor}.99"):
                        action, fields = inputs.python_choice(minor)
                        fields["python_spec"] = spec
                        fixes.append(
                            _generated(
                                inputs, "no-match", "python-for-release", fields, action, False
                            )
                        )
                        return fixes

    available = []
    for hit in inputs.log.hits(_FROM_VERSIONS):
        if hit.start == inputs.decisive.start or "satisfies the requirement" in hit.text:
            available = [
                v.strip()
                for v in hit.match["versions"].split(",")
                if v.strip() and v.strip() != "none"
            ]
    finals = []
    for item in available:
        try:
            parsed = Version(item)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease:
            finals.append((parsed, item))
    if finals and version and version not in available:
        newest = max(finals)[1]
        fields = {"available_version": newest}
        fixes.append(
            _generated(
                inputs, "no-match", "pin-available", fields, Pin(package.name, f"=={newest}"), False
            )
        )
        return fixes

    if not available and inputs.index is not None and version:
        files = inputs.index.files(package.name, version)
        if files.checked and files:
            for minor in inputs.render_minors():
                if release_installs_on(files, minor):
                    action, fields = inputs.python_choice(minor)
                    specs = sorted({f.requires_python for f in files if f.requires_python})
                    fields["python_spec"] = ", ".join(specs) or "any"
                    fixes.append(
                        _generated(inputs, "no-match", "python-for-release", fields, action, True)
                    )
                    return fixes
    if not available and version:
        newest = inputs.render_minors()[0]
        action, fields = inputs.python_choice(newest)
        fields["check_note"] = inputs.check_note()
        fixes.append(_generated(inputs, "no-match", "python-unchecked", fields, action, False))
    return fixes


def _drop_system_flag(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    command = inputs.context.build_command
    action = None
    if command and "--system" in command:
        action = BuildCommand(" ".join(part for part in command.split() if part != "--system"))
    return [_static_fix(inputs, template, action)]


def _no_cache_dir(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    command = inputs.context.build_command
    action: FixAction
    if command and "pip install" in command and "--no-cache-dir" not in command:
        action = BuildCommand(command.replace("pip install", "pip install --no-cache-dir", 1))
    else:
        action = SetEnv("PIP_NO_CACHE_DIR", "1")
    return [_static_fix(inputs, template, action)]


def _static_fix(inputs: FixInputs, template: FixTemplate, action: FixAction | None = None) -> Fix:
    if action is None and template.action:
        values = {k: _render(v, inputs.fields) for k, v in template.action.items()}
        kind = values.pop("kind")
        action = {
            "set-env": lambda: SetEnv(values["key"], values["value"]),
            "python-version-file": lambda: PythonVersionFile(values["value"]),
            "pin": lambda: Pin(values["package"], values["specifier"]),
            "build-command": lambda: BuildCommand(values["value"]),
        }[kind]()
    return Fix(
        _render(template.title or "", inputs.fields),
        _render(template.detail or "", inputs.fields),
        action,
        False,
    )


_GENERATOR_FUNCTIONS: dict[str, Callable[[FixInputs, FixTemplate], list[Fix]]] = {
    "older-python": _older_python,
    "upgrade": _upgrade,
    "conflict-upgrade": _conflict_upgrade,
    "conflict-align": _conflict_align,
    "no-match": _no_match,
    "drop-system-flag": _drop_system_flag,
    "no-cache-dir": _no_cache_dir,
}
assert set(_GENERATOR_FUNCTIONS) == GENERATORS


def _render(template: str, fields: Mapping[str, str]) -> str:
    text = template.format_map(_Fields(fields))
    # Fallback phrases ("a package") may start a sentence.
    return re.sub(
        r"(^|[.!?]\s+)(a package|this Python version)",
        lambda m: m[1] + m[2][0].upper() + m[2][1:],
        text,
    )


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""  # validated at load time; a generator field a variant does not set is empty


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------

_ERROR_LIKE: tuple[tuple[Matcher, int], ...] = (
    (
        _m(
            r"^\s*(?:ERROR|error|Error|FATAL|fatal)(?:\[\w+\])?:",
            ["ERROR", "rror", "FATAL", "fatal"],
        ),
        5,
    ),
    (_m(r"^\s*(?:×|💥)", ["×", "💥"]), 4),
    (_m(r"Traceback \(most recent call last\)"), 3),
    (_m(r"^\s*\w*(?:Error|Exception):", ["Error:", "Exception:"]), 4),
    (
        _m(
            r"(?:exit code|exit status|returned non-zero)", ["exit code", "exit status", "non-zero"]
        ),
        2,
    ),
    (_m(r"\b(?:[Ff]ailed|FAILED)\b", ["ailed", "FAILED"]), 1),
    (_m(r"==> Build failed"), 2),
)
_SUCCESS = (_m(r"==> Build successful"), _m(r"Successfully installed "))


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


def _python_fields(python: PythonInfo | None) -> dict[str, str]:
    if python is None:
        return {
            "python": "",
            "python_label": "this Python version",
            "python_minor": "",
            "cp_tag": "matching",
            "python_source": "not shown in the log",
        }
    minor = python.minor
    source = _SELECTED_BY_TEXT.get(python.selected_by or "") or _PYTHON_SOURCE_TEXT[python.source]
    return {
        "python": python.version,
        "python_label": f"Python {python.version}",
        "python_minor": f"{minor[0]}.{minor[1]}" if minor else python.version,
        "cp_tag": f"cp{minor[0]}{minor[1]}" if minor else "matching",
        "python_source": source,
    }


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
    fields.update(_python_fields(python))
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
    fixes: list[Fix] = []
    for template in rule.fixes:
        if template.when_log and not any(needle in log.text for needle in template.when_log):
            continue
        if template.generator:
            fixes.extend(_GENERATOR_FUNCTIONS[template.generator](inputs, template))
        else:
            fixes.append(_static_fix(inputs, template))

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
        evidence += [(hit.start, hit.text) for hit in log.hits(_PY_RENDER)[:1]]

    python_fix = any(t.generator in ("older-python", "no-match") for t in rule.fixes)
    return Diagnosis(
        failure_class=rule.failure_class,
        root_cause=_render(rule.root_cause, fields),
        headline=_render(headline_template, fields),
        explanation=_render(explanation_template, fields),
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
    fields = _python_fields(python)
    if context.runtime_txt_exists:
        content = (context.runtime_txt or "").strip()
        out.append(
            _render(
                catalogue.warnings["runtime-txt"],
                {**fields, "content": f" ({content})" if content else ""},
            )
        )
    if python_matters and python is not None and python.selected_by == "default":
        out.append(_render(catalogue.warnings["default-python"], fields))
    return tuple(out)

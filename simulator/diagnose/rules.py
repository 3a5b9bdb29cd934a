"""The rule catalogue once loaded: rules, their signals and fix templates, and filling in texts.

`simulator.diagnose.catalogue` builds these from `data/rules.yaml` and validates them; everything else
only reads them. Each text of a rule (headline, explanation, fix titles...) is a template whose
`{fields}` the diagnosis fills in with `render_template`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.diagnose.scan import Matcher


@dataclass(frozen=True)
class Signal:
    matcher: Matcher
    source: str
    weak: bool = False
    detail: Mapping[str, str] = field(default_factory=dict)
    package: str | None = None
    culprit: tuple[str, ...] | None = None  # overrides the rule's steps; () = never a package
    verdict: bool = False  # the platform's own word on how the build ended: wins over the rest
    with_: tuple[Matcher, ...] = ()  # one of these must match in the same scope too
    min_python: tuple[int, int] | None = None  # counts only on a build Python at least this
    when_context: str | None = None  # counts only when this DiagnosisContext field is true


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
    phase: str = "build"  # "build": read in the failing build step; "runtime": after the build


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


def render_template(template: str, fields: Mapping[str, str]) -> str:
    """A catalogue text with its fields filled in (fields nobody set are empty)."""
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

"""Reading the fields of a Blueprint: typed values, their lines, and errors that point.

`Fields` is shared by the readers of services (`services.py`) and of environment variables
(`env_vars.py`): it turns the tree `yaml_lines.parse_yaml` built into checked values, and every
problem into a `ConfigurationError` (or a warning) naming the file, the line and the field
(`render.yaml:12: services[0].buildCommand`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from simulator.config.yaml_lines import LineMapping, LineSequence
from simulator.errors import ConfigurationError, Location

DOCS_URL = "https://render.com/docs/blueprint-spec"


class Fields:
    """The file being read (as shown in messages), its warnings, and typed field access."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.warnings: list[str] = []

    def where(self, line: int, field: str) -> Location:
        return Location(self.shown, line, field)

    def error(
        self, message: str, line: int, field: str, hint: str | None = None
    ) -> ConfigurationError:
        return ConfigurationError(message, hint=hint, where=self.where(line, field))

    def warn(self, message: str, line: int, field: str) -> None:
        self.warnings.append(f"{self.where(line, field)}: {message}")

    def mapping(
        self, value: Any, line: int, field: str, what: str, hint: str | None = None
    ) -> LineMapping:
        if not isinstance(value, LineMapping):
            raise self.error(
                f"{what} must be a mapping (key: value lines), not {kind_of(value)}",
                line,
                field,
                hint=hint or f"Write {what} as `key: value` lines (see {DOCS_URL}).",
            )
        return value

    def sequence(self, parent: LineMapping, key: str, field: str) -> list[tuple[Any, int, str]]:
        """The items of parent[key] with their lines and fields; [] when absent or null."""
        value = parent.get(key)
        if value is None:
            return []
        line = parent.key_lines.get(key, parent.line)
        if not isinstance(value, LineSequence):
            raise self.error(
                f"{key} must be a list (lines starting with '- '), not {kind_of(value)}",
                line,
                field,
                hint=f"Write each entry of {key} on its own line starting with '- '.",
            )
        return [(item, value.item_lines[i], f"{field}[{i}]") for i, item in enumerate(value)]

    def text(self, mapping: LineMapping, key: str, field: str) -> str | None:
        """A scalar field as the text written in the file; None when absent or null."""
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        if isinstance(value, (LineMapping, LineSequence)):
            raise self.error(
                f"{key} must be a single value, not {kind_of(value)}",
                mapping.key_lines.get(key, mapping.line),
                join_field(field, key),
                hint=f"Give {key} one value on the same line, e.g. `{key}: ...`; quote it if "
                "it starts with [ or {.",
            )
        return mapping.raw.get(key, str(value))

    def check_keys(self, mapping: LineMapping, known: Iterable[str], field: str, what: str) -> None:
        known = set(known)
        for key in mapping:
            if key in known:
                continue
            line = mapping.key_lines.get(key, mapping.line)
            suggestion = suggest(str(key), known)
            if suggestion:
                self.warn(
                    f"unknown key {key!r} in {what}: did you mean {suggestion!r}? "
                    "Render does not read it as written.",
                    line,
                    join_field(field, key),
                )
            else:
                self.warn(
                    f"unknown key {key!r} in {what}: render-sim ignores it (see {DOCS_URL}).",
                    line,
                    join_field(field, key),
                )

    # -- the document -------------------------------------------------------------------


def join_field(field: str, key: Any) -> str:
    return f"{field}.{key}" if field else str(key)


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, LineSequence):
        return "a list"
    if isinstance(value, list):
        return "a list of pairs (!!omap or !!pairs)"
    if isinstance(value, (set, frozenset)):
        return "a set (!!set)"
    if value is None:
        return "empty"
    return f"the value {str(value)[:40]!r}"


def suggest(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` is most likely a misspelling of, if any."""
    known = list(known)
    for name in known:
        if name.lower() == word.lower():
            return name
    matches = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    return matches[0] if matches else None


def choices_hint(value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = suggest(value, choices)
    guess = f"Did you mean {close!r}? " if close else ""
    return f"{guess}Use one of: {', '.join(choices)}."

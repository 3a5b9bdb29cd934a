"""Reading a scenario manifest's YAML nodes: every error names the file, the line and the field
(`scenarios/x/scenario.yaml:7: expect.class`) with the fix."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.errors import Location, ScenarioError, UsageError

TOP_KEYS = ("description", "network", "options", "expect")


def node_kind(node: Node) -> str:
    """How an error names a node it did not expect ("a mapping", "a list", "empty", its value)."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "empty"
    return f"{node.value!r}"


class ManifestReader:
    """Reads the YAML nodes of one manifest; every error names the file, line and field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)

    def fail(self, message: str, node: Node | None, fld: str, hint: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else 0
        return ScenarioError(message, hint=hint, where=Location(self.shown, line, fld))

    def parse(self, text: str) -> Node | None:
        loader = yaml.SafeLoader(text)
        try:
            return loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            problem = ": ".join(p for p in (error.context, error.problem) if p) or "invalid YAML"
            mark = error.problem_mark or error.context_mark
            raise ScenarioError(
                f"YAML syntax error: {problem}",
                hint="fix the YAML (indent nested keys with spaces; quote values holding ': ' or '#')",
                where=Location(self.shown, mark.line + 1 if mark else 0),
            ) from None
        except yaml.YAMLError as error:
            raise ScenarioError(
                f"YAML syntax error: {error}",
                hint="a manifest is UTF-8 text in YAML",
                where=Location(self.shown),
            ) from None
        finally:
            loader.dispose()

    def mapping(
        self, node: Node, fld: str, known: Sequence[str] | None
    ) -> dict[str, tuple[Node, Node]]:
        """A mapping's entries by key (key node, value node); unknown or repeated keys fail."""
        if not isinstance(node, MappingNode):
            raise self.fail(
                f"must be a mapping of keys to values, not {node_kind(node)}",
                node,
                fld,
                hint=f"write `{fld.rsplit('.', 1)[-1] or 'key'}:` followed by indented `key: value` lines"
                if fld
                else f"a manifest is a mapping with {', '.join(TOP_KEYS)}",
            )
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(
                    "a key must be a plain word", key_node, fld, hint="write `key: value`"
                )
            key = key_node.value
            name = f"{fld}.{key}" if fld else key
            if key in entries:
                first = entries[key][0].start_mark.line + 1
                raise self.fail(
                    f"{key!r} is given twice (first on line {first})",
                    key_node,
                    name,
                    hint="keep one of them",
                )
            if known is not None and key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    f"unknown key {key!r}",
                    key_node,
                    name,
                    hint=f"{guess}known keys here: {', '.join(known)}",
                )
            entries[key] = (key_node, value_node)
        return entries

    def text(self, node: Node, fld: str, example: str) -> str:
        """A scalar as written (`python: 3.10` stays "3.10", not the number 3.1)."""
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(
                f"must be a single value, not {node_kind(node)}",
                node,
                fld,
                hint=f"write it like `{example}`",
            )
        return str(node.value)

    def choice(self, node: Node, fld: str, choices: Sequence[str], what: str = "") -> str:
        value = self.text(node, fld, f"{fld.rsplit('.', 1)[-1]}: {choices[0]}")
        if value not in choices:
            close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(
                f"{value!r} is not {what}"
                if what
                else f"{value!r} is not one of {', '.join(choices)}",
                node,
                fld,
                hint=f"{guess}use one of: {', '.join(choices)}",
            )
        return value

    def integer(self, node: Node, fld: str) -> int:
        value = self.value(node)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(
                f"must be a whole number, not {node_kind(node)}",
                node,
                fld,
                hint=f"write it like `{fld.rsplit('.', 1)[-1]}: 1`",
            )
        return value

    def number(self, node: Node, fld: str) -> float:
        value = self.value(node)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise self.fail(
                f"must be a number above 0, not {node_kind(node)}",
                node,
                fld,
                hint=f"write it like `{fld.rsplit('.', 1)[-1]}: 2`",
            )
        return float(value)

    def strings(self, node: Node, fld: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            raise self.fail(
                f"must be a list of texts, not {node_kind(node)}",
                node,
                fld,
                hint=f'write it like `{fld.rsplit(".", 1)[-1]}: ["first text", "second text"]`',
            )
        out = []
        for i, item in enumerate(node.value):
            value = self.text(item, f"{fld}[{i}]", "- some text")
            if not value:
                raise self.fail(
                    "is empty (an empty text is found in every log)",
                    item,
                    f"{fld}[{i}]",
                    hint="remove it, or write the text that must be there",
                )
            out.append(value)
        return tuple(out)

    def value(self, node: Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self.fail(
                f"cannot be read: {error.problem}", node, "", hint="check the value"
            ) from None
        finally:
            loader.dispose()

    def unit(self, node: Node, fld: str, parse: Any) -> Any:
        """A size, duration or date, read as on the command line (`512m`, `30s`, `2026-03-01`)."""
        text = self.text(node, fld, f"{fld.rsplit('.', 1)[-1]}: ...")
        try:
            return parse(text)
        except UsageError as error:
            raise self.fail(error.message, node, fld, hint=error.hint or "") from None

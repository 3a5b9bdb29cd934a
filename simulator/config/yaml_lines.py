"""YAML with line numbers: render.yaml read into mappings and lists that know their lines.

PyYAML's safe loader, extended so that every mapping and list remembers the line it starts on
and the line of each key and item (so every problem found later names `render.yaml:12`), and
so that what PyYAML would accept silently or fail on without a line is an error with one:
duplicate keys, merge keys that multiply (a "billion laughs" document), NUL characters, lone
surrogates, values their explicit tag cannot read. `parse_yaml` turns every YAML problem into a
`ConfigurationError` naming the file and the line; it never prints the text it could not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from simulator.errors import ConfigurationError, Location

_SURROGATE = re.compile("[\ud800-\udfff]")


class LineMapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, each key's line and each scalar's text."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        # The text of scalar values as written, so `value: 3.10` stays "3.10" rather than
        # the float 3.1. Env var values are strings on Render; that it keeps the written
        # text of an unquoted number is render-sim's assumption.
        self.raw: dict[Any, str] = {}


class LineSequence(list[Any]):
    """A YAML sequence that remembers its line and each item's line."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """SafeLoader building `LineMapping`/`LineSequence` and refusing duplicate keys.

    Plain PyYAML keeps the last of two equal keys without a word, which hides mistakes
    such as a second `envVars:` block that silently replaces the first.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._flattening: set[int] = set()  # ids of the mappings whose merges are under way

    def flatten_mapping(self, node: MappingNode) -> None:
        """Resolve `<<` merge keys as YAML's merge type says, keeping one entry per key.

        The mapping's own keys win over merged ones, and in `<<: [*a, *b]` the earlier mapping
        wins (yaml.org/type/merge.html; Go's YAML library, assumed to be Render's, agrees).
        This is done here, not left to PyYAML: PyYAML 6.0.4 lets the later mapping win for keys
        longer than one character (yaml/pyyaml#953), and PyYAML before it keeps every merged
        entry, so `a2: {<<: [*a1, *a1]}`, `a3: {<<: [*a2, *a2]}` ... double at each level: a
        billion entries from thirty short lines (a "billion laughs" document). A mapping that
        merges itself (`&a {<<: *a}`) adds nothing: its keys are already there.
        """
        self._flattening.add(id(node))
        try:
            merged: list[tuple[Any, Any]] = []
            own: list[tuple[Any, Any]] = []
            for key_node, value_node in node.value:
                if key_node.tag != "tag:yaml.org,2002:merge":
                    if key_node.tag == "tag:yaml.org,2002:value":
                        key_node.tag = "tag:yaml.org,2002:str"
                    own.append((key_node, value_node))
                    continue
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in reversed(sources):  # the last entry of a key wins, below
                    if not isinstance(source, MappingNode):
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"expected a mapping or list of mappings for merging, "
                            f"but found {source.id}",
                            source.start_mark,
                        )
                    if id(source) not in self._flattening:
                        self.flatten_mapping(source)
                        merged.extend(source.value)
            node.value = _last_entry_per_key(merged + own)
        finally:
            self._flattening.discard(id(node))

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Construct a node; a value its explicit tag cannot read is an error with a line.

        PyYAML's constructors trust the tag: `!!timestamp foo`, `!!bool foo` or `!!int ""`
        fail inside them with AttributeError, KeyError or IndexError.
        """
        try:
            return super().construct_object(node, deep=deep)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            tag = str(getattr(node, "tag", "")).replace("tag:yaml.org,2002:", "!!")
            what = getattr(node, "id", "value")  # named by its line, never quoted
            raise yaml.constructor.ConstructorError(
                None, None, f"this {what} cannot be read as {tag}", node.start_mark
            ) from error

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        if isinstance(value, str):
            problem = _unusable_text(value)
            if problem:
                raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return value


def _last_entry_per_key(entries: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    kept: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    for key_node, value_node in reversed(entries):
        # The same non-scalar node comes back through an alias: count it once.
        identity = (
            (key_node.tag, key_node.value) if isinstance(key_node, ScalarNode) else id(key_node)
        )
        if identity not in seen:
            seen.add(identity)
            kept.append((key_node, value_node))
    kept.reverse()
    return kept


def _unusable_text(value: str) -> str | None:
    """Why a string from the file cannot be used, if it cannot.

    YAML's escapes can write what no text file holds: a NUL (`"\\0"`), which no command,
    path or environment variable can contain, and lone UTF-16 surrogates (`"\\ud800"`),
    which are not characters and cannot be written out again.
    """
    if "\x00" in value:
        return "found a NUL character (written as \\0 or \\x00)"
    surrogate = _SURROGATE.search(value)
    if surrogate:
        code = ord(surrogate[0])
        return f"found a lone surrogate escape (\\u{code:04x}), which is not a character"
    return None


def _expect(node: Any, kind: type[Any], tag: str) -> None:
    # An explicit tag can put any node here: `!!seq {a: 1}`, `!!map [a]`.
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"a {node.id} cannot be read as {tag}", node.start_mark
        )


def _construct_mapping(loader: _Loader, node: MappingNode) -> Iterator[LineMapping]:
    _expect(node, MappingNode, "!!map")
    mapping = LineMapping(node.start_mark.line + 1)
    yield mapping
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key_node.value!r} "
                    f"(first defined on line {seen[key_node.value]})",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as error:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "found a key that is not a scalar",
                key_node.start_mark,
            ) from error
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
        if isinstance(value_node, ScalarNode):
            mapping.raw[key] = value_node.value


def _construct_sequence(loader: _Loader, node: SequenceNode) -> Iterator[LineSequence]:
    _expect(node, SequenceNode, "!!seq")
    sequence = LineSequence(node.start_mark.line + 1)
    yield sequence
    for child in node.value:
        sequence.append(loader.construct_object(child, deep=True))
        sequence.item_lines.append(child.start_mark.line + 1)


def _construct_timestamp(loader: _Loader, node: ScalarNode) -> Any:
    # `2024-13-01` matches YAML's timestamp pattern but is no date: PyYAML would raise a
    # bare ValueError without a line.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as error:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"this value looks like a date but is not one ({error})",
            node.start_mark,
        ) from error


def _construct_int(loader: _Loader, node: ScalarNode) -> Any:
    # Python refuses to convert more than 4300 decimal digits, and a long YAML 1.1
    # sexagesimal float (`1:2:3.5`) overflows. Go's YAML library, which Render's parser is
    # assumed to use, reads a plain scalar that fits no number as a string; so does
    # render-sim, instead of failing without a line.
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


def _construct_float(loader: _Loader, node: ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_float(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse_yaml(text: str, shown: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        problem = problem or "invalid YAML"
        mark = error.problem_mark or error.context_mark
        if (
            error.context_mark is not None
            and error.problem_mark is not None
            and error.problem_mark.index >= len(text.rstrip())
        ):
            # "expected ']' but got <stream end>": the opening line is the useful one.
            mark = error.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ConfigurationError(
            f"YAML syntax error: {problem}",
            hint=_yaml_hint(problem),
            where=Location(shown, line),
        ) from error
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigurationError(
            f"YAML syntax error: {error.reason} (character {error.character!r})",
            hint="Remove the control character; YAML files hold printable text only.",
            where=Location(shown, line),
        ) from error
    except yaml.YAMLError as error:
        raise ConfigurationError(
            f"YAML syntax error: {error}", hint=_yaml_hint(""), where=Location(shown)
        ) from error
    except (ValueError, TypeError, OverflowError) as error:
        raise ConfigurationError(
            f"cannot read a value: {error}", hint=_yaml_hint(""), where=Location(shown)
        ) from error
    except RecursionError as error:
        raise ConfigurationError(
            "the YAML is nested too deeply to read",
            hint="A Blueprint needs only a few levels of nesting.",
            where=Location(shown),
        ) from error


def _yaml_hint(problem: str) -> str:
    if "\\t" in problem or "tab" in problem:
        return "Indent with spaces: YAML does not allow tabs for indentation."
    if "duplicate key" in problem:
        return "Keep one of the two entries: YAML does not allow a key twice in one mapping."
    if "mapping values are not allowed" in problem:
        return "Quote values that contain ': ', e.g. startCommand: \"gunicorn app:app\"."
    if "cannot be read as !!" in problem:
        return "Remove the `!!` tag, or write a value of that type; a Blueprint needs no tags."
    if "NUL character" in problem:
        return "Remove the NUL: commands, paths and environment variables cannot contain it."
    if "surrogate" in problem:
        return (
            "Write the character itself, or escape it whole: \\U0001F600, not a pair of "
            "\\uD83D\\uDE00 escapes."
        )
    if "expected a single document" in problem:
        return "Keep one YAML document: remove the extra `---` line."
    return "Check the indentation and the quoting on that line and the one before it."

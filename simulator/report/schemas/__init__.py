"""The versioned JSON of every `--json` output: the envelope, and a JSON Schema per command.

Every `--json` output is one object that starts with `schema_version`, `render_sim_version` and
`command` (`envelope`), followed by the command's own keys, or by `error` when it failed.
`render-sim schema COMMAND` prints the JSON Schema (draft 2020-12) of that output (`schema_for`).

The schemas are data files next to this module: `defs.json` holds the shared definitions (a
plan, a build result, a diagnosis, ...) and `<command>.json` one command's output (`images
list` is `images-list.json`). `schema_for` makes one self-contained document of them, so a
consumer needs a single file (tests check each is a valid schema that real outputs meet).

Compatibility (README, "JSON output"): within one `SCHEMA_VERSION`, keys are only added, never
removed, renamed or given another type, so objects in the schemas accept keys they do not list.
Anything else bumps `SCHEMA_VERSION`.
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from simulator import __version__
from simulator.errors import UsageError

#: Bumped only by a change that can break a consumer (a key removed, renamed or retyped).
SCHEMA_VERSION = 1
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_KEYS = ("schema_version", "render_sim_version", "command")

#: The commands that print JSON (`--json`), as typed after `render-sim`.
COMMANDS: tuple[str, ...] = (
    "simulate",
    "plan",
    "explain",
    "check",
    "doctor",
    "clean",
    "images list",
    "images build",
    "images prune",
    "scenarios list",
    "scenarios run",
    "scenarios images",
    "scenarios merge",
)
#: Options before the command that take a value (`render-sim --context NAME doctor`).
VALUE_OPTIONS = frozenset({"--context"})
#: Commands that are groups: their JSON comes from a subcommand (`images list`).
GROUPS = frozenset(command.split()[0] for command in COMMANDS if " " in command)


def envelope(data: Mapping[str, Any], command: str | None) -> dict[str, Any]:
    """`data` after the three keys every output starts with.

    `command` is the command as typed ("images list"), or None when the failure came before
    any command was known (then the output is only an error).
    """
    if not isinstance(data, Mapping):
        raise TypeError("a --json output is one object")  # a list could not carry the version
    clash = [key for key in ENVELOPE_KEYS if key in data]
    if clash:
        raise ValueError(f"output keys {clash} are the envelope's")
    return {
        "schema_version": SCHEMA_VERSION,
        "render_sim_version": __version__,
        "command": command,
        **data,
    }


def command_of(words: Sequence[str]) -> str | None:
    """The command in a command line's words (`["images", "list", "--json"]` -> "images list").

    Options before or between the words are skipped, and the value of an option before the
    command (`--context NAME`); the result is None when no command is named (`render-sim
    --json`).
    """
    names: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in VALUE_OPTIONS and not names:
            skip = True  # its value is not the command
        elif not word.startswith("-"):
            names.append(word)
    if not names:
        return None
    if names[0] in GROUPS and len(names) > 1:
        return f"{names[0]} {names[1]}"
    return names[0]


def current_command(argv: Sequence[str] | None = None) -> str | None:
    """The command running now, from its command line (default `sys.argv`)."""
    return command_of((sys.argv if argv is None else argv)[1:])


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((files(__name__) / name).read_text(encoding="utf-8"))
    return data


def _file_name(command: str) -> str:
    return command.replace(" ", "-") + ".json"


@functools.cache
def _schema(command: str) -> dict[str, Any]:
    defs = _read("defs.json")["$defs"]
    body = _read(_file_name(command))
    schema = {
        "$schema": DRAFT,
        "$id": f"urn:render-sim:json:{command.replace(' ', '-')}:{SCHEMA_VERSION}",
        "title": body["title"],
        "description": body["description"]
        + " Keys not listed may appear: they are added within a schema_version, never removed.",
        "type": "object",
        "required": list(ENVELOPE_KEYS),
        "properties": {
            "schema_version": {
                "const": SCHEMA_VERSION,
                "description": "Bumped only when a key is removed, renamed or changes type.",
            },
            "render_sim_version": {"type": "string"},
            "command": {"const": command},
        },
        "oneOf": [body["output"], {"$ref": "#/$defs/error"}],
        "$defs": defs,
    }
    return schema


def schema_for(command: str | Sequence[str]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `command`'s `--json` output, self-contained.

    `command` is "images list" or its words. A command without JSON output is a usage error
    naming those that have one.
    """
    name = command if isinstance(command, str) else " ".join(command)
    name = " ".join(name.split())
    if name not in COMMANDS:
        raise UsageError(
            f"no JSON schema for {name!r}: it is not a command with --json output",
            hint="one of: " + ", ".join(COMMANDS),
        )
    return copy.deepcopy(_schema(name))

"""Edit one service of a render.yaml in place, keeping everything else byte for byte.

A fix that changes the service's settings (its Root Directory, an environment variable next to
file changes) is written into the copy's render.yaml, so the rebuild reads it exactly as Render
would and the user gets one diff. Only block-style YAML is edited (`key: value` lines, `- key:`
list items, as Render's docs write Blueprints); anything else raises `BlueprintNotEditable`,
and the caller falls back to telling the user where to set the value. Every edit is checked by
reading the file again (`simulator.config.blueprint`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.verify.text import yaml_scalar


class BlueprintNotEditable(Exception):
    """The service's part of render.yaml is not in a shape render-sim rewrites line by line."""


_KEY = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<key>[A-Za-z_][\w-]*)\s*:(?P<rest>.*)$")


@dataclass
class _Block:
    """The lines of one YAML mapping: [start, end) and the column of its keys."""

    start: int  # 0-based index of the mapping's first line
    end: int
    column: int


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], first: int) -> _Block:
    """The mapping that starts on line index `first` (`- type: web` or `type: web`)."""
    head = lines[first]
    match = re.match(r"^(\s*)(-\s+)?", head)
    assert match is not None
    column = len(match.group(0))
    if not _KEY.match(head):
        raise BlueprintNotEditable(f"line {first + 1} does not start a block mapping")
    end = first + 1
    while end < len(lines):
        line = lines[end]
        if _significant(line) and _indent(line) < column:
            break
        if _significant(line) and _indent(line) == column and line.lstrip().startswith("-"):
            break
        end += 1
    while end > first + 1 and not _significant(lines[end - 1]):
        end -= 1  # trailing blank lines and comments belong to what follows
    return _Block(first, end, column)


def _find_key(lines: list[str], block: _Block, key: str) -> int | None:
    for number in range(block.start, block.end):
        match = _KEY.match(lines[number])
        if match is None or match["key"] != key:
            continue
        if match.start("key") == block.column:
            return number
    return None


def _set_scalar(line: str, value: str) -> str:
    match = re.match(r"^(\s*(?:-\s+)?[A-Za-z_][\w-]*\s*:)", line)
    assert match is not None
    return f"{match.group(1)} {yaml_scalar(value)}"


def set_service_key(text: str, service_line: int, key: str, value: str) -> str:
    """render.yaml's text with `key: value` set in the service whose mapping starts on line
    `service_line` (1-based): the line replaced when the key exists, else added after `name:`."""
    lines = text.splitlines()
    block = _block(lines, service_line - 1)
    found = _find_key(lines, block, key)
    if found is not None:
        if lines[found].rstrip().endswith(("|", ">", "|-", ">-")):
            raise BlueprintNotEditable(f"{key} on line {found + 1} is a block scalar")
        lines[found] = _set_scalar(lines[found], value)
    else:
        after = _find_key(lines, block, "name")
        position = (after if after is not None else block.start) + 1
        lines.insert(position, f"{' ' * block.column}{key}: {yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def set_env_var(
    text: str, service_line: int, key: str, value: str, entry_line: int | None = None
) -> str:
    """render.yaml's text with the service's variable `key` set to `value`: the `value:` of
    the entry on `entry_line` (1-based) changed, or an entry added to its envVars."""
    lines = text.splitlines()
    block = _block(lines, service_line - 1)
    if entry_line is not None:
        entry = _block(lines, entry_line - 1)
        found = _find_key(lines, entry, "value")
        if found is None:
            raise BlueprintNotEditable(f"the {key} entry on line {entry_line} has no value: line")
        lines[found] = _set_scalar(lines[found], value)
        return "\n".join(lines) + "\n"
    env = _find_key(lines, block, "envVars")
    if env is None:
        indent = " " * block.column
        lines[block.end : block.end] = [
            f"{indent}envVars:",
            f"{indent}  - key: {key}",
            f"{indent}    value: {yaml_scalar(value)}",
        ]
        return "\n".join(lines) + "\n"
    rest = lines[env].split(":", 1)[1].split("#", 1)[0].strip()
    if rest not in ("", "[]"):
        raise BlueprintNotEditable(f"envVars on line {env + 1} is written on one line")
    items = [n for n in range(env + 1, block.end) if lines[n].lstrip().startswith("- ")]
    if rest == "[]":
        lines[env] = lines[env].split(":", 1)[0] + ":"
        items = []
    if items:
        indent = " " * _indent(lines[items[0]])
        last = _block(lines, items[-1])
        position = last.end
    else:
        indent = " " * (block.column + 2)
        position = env + 1
    lines[position:position] = [f"{indent}- key: {key}", f"{indent}  value: {yaml_scalar(value)}"]
    return "\n".join(lines) + "\n"

"""Finding scenarios on disk: the folders holding a `scenario.yaml`, by name or pattern and kind."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path

from simulator.errors import ScenarioError, UsageError
from simulator.scenarios.manifest import (
    EXAMPLE,
    KINDS,
    MANIFEST,
    Scenario,
    load_scenario,
)


def discover(
    dirs: Sequence[Path], names: Sequence[str] = (), kind: str | None = None
) -> list[Scenario]:
    """The scenarios under `dirs` (folders holding a scenario.yaml), checked, sorted by name.

    `names` picks some (exact names or shell patterns such as `rust-*`); `kind` keeps only
    "hermetic" or "online" ones. A name that matches nothing, a named folder without a
    manifest and one name in two directories are errors, never an empty run.
    """
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    if not dirs:
        raise UsageError("no scenario directory given", hint="pass --dir DIR")
    found: dict[str, Path] = {}
    bare: dict[str, Path] = {}  # folders without a manifest
    for directory in dirs:
        if not directory.is_dir():
            raise ScenarioError(
                f"scenario directory {directory} does not exist",
                hint="pass --dir DIR: a folder of scenario folders, each with a scenario.yaml",
            )
        if (directory / MANIFEST).is_file():
            folders = [directory]  # the directory is one scenario itself
        else:
            folders = sorted(
                p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
            )
        for folder in folders:
            name = folder.name
            if not (folder / MANIFEST).is_file():
                bare.setdefault(name, folder)
                continue
            if name in found and found[name].resolve() != folder.resolve():
                raise ScenarioError(
                    f"two scenarios are named {name!r}: {found[name] / MANIFEST} and "
                    f"{folder / MANIFEST}",
                    hint="a scenario's name is its folder's name: rename one of the folders",
                )
            found[name] = folder
    chosen = _select(found, bare, names, dirs)
    scenarios = [load_scenario(found[name]) for name in chosen]
    return [s for s in scenarios if kind is None or s.kind == kind]


def _select(
    found: Mapping[str, Path], bare: Mapping[str, Path], names: Sequence[str], dirs: Sequence[Path]
) -> list[str]:
    if not names:
        return sorted(found)
    chosen: list[str] = []
    where = ", ".join(str(d) for d in dirs)
    for name in names:
        if name in found:
            matches = [name]
        elif name in bare:
            raise ScenarioError(
                f"scenario folder {bare[name]} has no {MANIFEST}",
                hint=f"add {bare[name] / MANIFEST} with at least `{EXAMPLE}`",
            )
        elif any(c in name for c in "*?["):
            matches = sorted(n for n in found if fnmatch.fnmatchcase(n, name))
            if not matches:
                raise ScenarioError(
                    f"no scenario matches {name!r} in {where}",
                    hint=f"scenarios there: {', '.join(sorted(found)) or 'none'}",
                )
        else:
            close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                f"no scenario named {name!r} in {where}",
                hint=f"{guess}scenarios there: {', '.join(sorted(found)) or 'none'}",
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen

"""Options -> their effective values: the command line, then `RENDER_SIM_*`, then the repo's
settings file (`simulator.config.settings`), then the default.

The command's context (`typer.Context`) says which parameters came from the command line;
everything else is the library's. Without a context (a library call) every value counts as
given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.config.settings import Settings, resolve

#: click's ParameterSource names for a value the command line did not give.
_NOT_GIVEN = frozenset({"DEFAULT", "DEFAULT_MAP"})


def _on_command_line(context: Any, name: str) -> bool:
    if context is None:
        return True
    source = context.get_parameter_source(name)
    return source is not None and source.name not in _NOT_GIVEN


def resolve_options(context: Any, repo: Path | None = None, **given: Any) -> Settings:
    """The command's options in `given`, resolved; `repo` (default: the command's REPO
    argument) is where the settings file is looked for."""
    if repo is None:
        repo = Path((context.params.get("repo") if context is not None else None) or ".")
    names = {name for name in given if _on_command_line(context, name)}
    return resolve(repo, given, names)

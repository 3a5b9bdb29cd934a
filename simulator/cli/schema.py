"""`render-sim schema COMMAND`: the JSON Schema of a command's `--json` output."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from simulator.report.schemas import COMMANDS, SCHEMA_VERSION, schema_for


def schema(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="The command, as typed after render-sim: plan, simulate, 'images list', ...",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of COMMAND's --json output; without COMMAND, list them."""
    if not command:
        typer.echo(f"JSON schema version {SCHEMA_VERSION}; commands with --json output:")
        for name in COMMANDS:
            typer.echo(f"  {name}")
        return
    typer.echo(json.dumps(schema_for(command), indent=2, ensure_ascii=False))

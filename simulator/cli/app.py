"""The `render-sim` command line: one module per command, each options -> library call -> report.

This module only registers the commands and turns failures into exit codes in one place
(`main`): a typed error prints its message and hint and exits with its code (README.md, "Exit
codes"); any other exception is a bug in render-sim: one line says so and where its traceback
was saved, and the exit code is 70. Nothing is decided here.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape

from simulator import __version__, locations
from simulator.build import endpoints
from simulator.cli import check, engine_commands, explain, plan, schema, simulate
from simulator.cli.scenarios import scenarios_app
from simulator.errors import CRASHED, INTERRUPTED, OUTPUT_CLOSED, RenderSimError, UsageError
from simulator.report import console as report
from simulator.report.schemas import command_of

app = typer.Typer(
    name="render-sim",
    help="Reproduce Render.com's native Python build locally in Docker, and diagnose it.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion: bash, zsh, fish
    pretty_exceptions_enable=False,
)
app.command()(simulate.simulate)
app.command()(plan.plan)
app.command()(explain.explain)
app.command()(check.check)
app.command()(engine_commands.doctor)
app.command()(engine_commands.clean)
app.command()(schema.schema)
app.add_typer(engine_commands.images_app, name="images")
app.add_typer(scenarios_app, name="scenarios")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"render-sim {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="Docker context to use (as `docker --context NAME`); default: DOCKER_HOST, "
            "DOCKER_CONTEXT, then `docker context use`.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Reproduce Render.com's native Python build locally in Docker, and diagnose it."""
    endpoints.choose_context(context)


def _fail(error: RenderSimError, json_out: bool) -> NoReturn:
    if json_out:
        report.print_json(
            {
                "error": {
                    "code": error.return_code,
                    "kind": type(error).__name__,
                    "message": str(error),
                    "hint": error.hint,
                }
            }
        )
    else:
        console = report.stderr_console()
        # soft_wrap: the terminal wraps; a path or file:line is never broken by a hard newline
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        if error.hint:
            console.print(f"[bold]fix:[/] {escape(error.hint)}", soft_wrap=True)
    sys.exit(error.return_code)


def _save_traceback(error: BaseException) -> Path | None:
    """Write the traceback of a crash to a file (render-sim's home, else a temporary
    directory); its path, or None when no file could be written."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    command = next((word for word in sys.argv[1:] if not word.startswith("-")), "")
    # The command's name only: its arguments may hold what the user would not paste in a report.
    report = (
        f"render-sim {__version__} crashed running `{command}`\n"
        f"Python {platform.python_version()} on {platform.platform()}\n\n"
        + "".join(traceback.format_exception(type(error), error, error.__traceback__))
    )
    try:
        path = locations.crash_dir() / f"crash-{stamp}-{os.getpid()}.txt"
        path.write_text(report, encoding="utf-8", errors="backslashreplace")
    except OSError:
        return None
    return path


def _output_closed() -> NoReturn:
    """stdout's reader went away (`| head`): stop quietly, as a shell's tools do, and make sure
    Python's own flush at exit does not fail on the same pipe."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(OUTPUT_CLOSED)


def _crash(error: BaseException, json_out: bool) -> NoReturn:
    """A bug in render-sim: one line saying so, the traceback in a file, exit code 70.

    The exception's message is not printed: it may hold a value render-sim could not handle
    (a secret, a line of a file), and the saved traceback has it for a bug report.
    """
    path = _save_traceback(error)
    where = f"its traceback is in {path}" if path else "its traceback could not be saved"
    message = f"render-sim crashed ({type(error).__name__}): a bug in render-sim; {where}"
    if json_out:
        report.print_json(
            {
                "error": {
                    "code": CRASHED,
                    "kind": "crash",
                    "message": message,
                    "hint": "report it with that file",
                    "traceback": str(path) if path else None,
                }
            }
        )
    else:
        report.stderr_console().print(
            f"[bold red]error:[/] {escape(message)}", soft_wrap=True, markup=True
        )
    sys.exit(CRASHED)


#: Commands that start containers: only their interruption has containers to speak of.
CONTAINER_COMMANDS = frozenset({"simulate", "scenarios", "images", "clean"})


def _interrupted_note(argv: list[str]) -> str:
    """What an interruption leaves behind, for the command that was running."""
    command = (command_of(argv[1:]) or "").split(" ")[0]  # `--context NAME` skipped
    if command in CONTAINER_COMMANDS:
        return ": any build container and its volumes were removed"
    return " (this command starts no container: nothing to clean up)"


def _terminate(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: containers and volumes removed


def main() -> None:
    """Entry point: run the app and turn typed errors into their exit codes."""
    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C always cleans up, even when started from a shell that ignores SIGINT (`cmd &`)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    json_out = "--json" in sys.argv
    try:
        # prog_name: `python -m simulator` is render-sim too (also for shell completion's name)
        code = app(prog_name="render-sim", standalone_mode=False)  # Ctrl-C: exit code 130
    except RenderSimError as error:
        _fail(error, json_out)
    except (KeyboardInterrupt, typer.Abort):
        code = INTERRUPTED
    except typer.TyperException as error:  # usage: unknown option, bad value, ...
        show = getattr(error, "show", None)
        if show:
            show()
        sys.exit(UsageError.return_code)
    except BrokenPipeError:
        _output_closed()
    except Exception as error:  # noqa: BLE001 - not a typed error: a bug, reported as one
        _crash(error, json_out)
    if code == INTERRUPTED:
        # Already stopping, with the build removed: a second Ctrl-C or SIGTERM must not turn
        # this exit into a traceback or a kill by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        report.stderr_console().print(f"[bold yellow]interrupted[/]{_interrupted_note(sys.argv)}")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

"""`render-sim` and `python -m simulator`: start the command line so that Ctrl-C is clean.

Loading the command line (typer, rich, the Docker SDK, ...) takes about a second. A Ctrl-C or
SIGTERM in that time ends render-sim as it does later, with exit code 130 and no traceback; nothing
has started yet that would need cleaning up. `simulator.cli.app.main` installs its own handlers
once loaded.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from simulator.errors import INTERRUPTED  # a small module: nothing heavy is loaded before main


def _interrupted_while_starting(_signum: int, _frame: FrameType | None) -> None:
    sys.stderr.write("interrupted before the command started: nothing to clean up\n")
    raise SystemExit(INTERRUPTED)


def main() -> None:
    """Entry point: the start-up handlers first, then the command line."""
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    signal.signal(signal.SIGTERM, _interrupted_while_starting)
    from simulator.cli.app import main as run  # loaded after the handlers are in place

    run()


if __name__ == "__main__":
    main()

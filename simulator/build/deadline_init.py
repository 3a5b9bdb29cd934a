"""PID 1 of render-sim's containers: idles, reaps orphans, and ends the container at its deadline.

This file runs inside the container (`python3 -c <this file> SECONDS`), not in render-sim.

The deadline holds with nobody watching: if render-sim itself is killed (SIGKILL), the build
still ends at its time limit, because the container ends when its PID 1 exits. Being PID 1 of
the container's PID namespace is what makes it hold against the build too: the kernel delivers
no signal from inside the namespace to PID 1 unless PID 1 handles it, and this one ignores every
signal it can, so the build can neither kill nor stop it (SIGKILL and SIGSTOP from inside are
dropped). SIGCHLD is ignored too, so the kernel reaps the orphans PID 1 adopts without a wait
(no zombie keeps a PID under the container's PID limit).

SECONDS <= 0 idles until the container is removed (a container kept with --keep). Written for
every Python a build image may have (3.7 and later).
"""

from __future__ import annotations

import signal
import sys
import time

IDLE_S = 3600.0


def main(argv: list[str]) -> None:
    """Idle until `argv[1]` seconds have passed (forever when <= 0), then exit."""
    seconds = float(argv[1]) if len(argv) > 1 else 0.0
    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(number, signal.SIG_IGN)
        except (OSError, ValueError):
            continue  # signals the interpreter may not handle (SIGRTMIN+n on some builds)
    end = time.monotonic() + seconds
    while seconds <= 0 or time.monotonic() < end:
        left = IDLE_S if seconds <= 0 else end - time.monotonic()
        time.sleep(max(0.0, min(IDLE_S, left)))


if __name__ == "__main__":
    main(sys.argv)

"""`render-sim clean` for people: what was removed, and what was left and why."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape

from simulator.build.ownership import Sweep

SHOWN = 3  # names shown per reason


def print_sweep(sweep: Sweep, console: Console) -> None:
    """One line for what was removed, then one per reason something was left."""
    console.print(
        f"removed {len(sweep.containers)} container(s) and {len(sweep.volumes)} volume(s)"
        + (" of dead runs" if sweep.left else "")
    )
    by_reason: dict[str, list[str]] = defaultdict(list)
    for left in sweep.left:
        by_reason[left.reason].append(left.name)
    for reason, names in by_reason.items():
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        shown = ", ".join(names[:SHOWN]) + more
        console.print(f"left {len(names)}: {escape(reason)} ({escape(shown)})", soft_wrap=True)
    if sweep.left:
        console.print("`render-sim clean --all` removes these too (a build in progress stops)")

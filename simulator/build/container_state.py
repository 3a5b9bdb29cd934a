"""What a build container says once the build's command has ended: still there, OOM, leftovers.

rustwide's way: the container outlives the command, so its cgroup is read afterwards (OOM kills
from the `oom_kill` counter, peak memory), and whether it is still running tells a build that
ended by itself from one whose container was stopped or removed from outside (`docker rm -f`,
a stopped engine), where the exit code (137, 143) says nothing about the build.
"""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING, Any

import docker
import docker.errors

from simulator.build.engine import ENGINE_ERRORS
from simulator.errors import EngineLostError

if TYPE_CHECKING:
    from simulator.build.container import BuildContainer

# An exec killed by a signal (exit code 128 + N) may be the container going away under it: its
# state is read again for this long, as the engine may not have recorded the stop yet.
SETTLE_S = 2.0
SETTLE_STEP_S = 0.2


def require_running(box: BuildContainer, *, settle: bool = False) -> None:
    """Raise `EngineLostError` when the container stopped under the build (not by OOM).

    A stopped engine stops its containers; so does `docker stop`, `docker kill` or
    `docker rm -f` from outside. With `settle`, the state is read until SETTLE_S have passed.
    """
    until = time.monotonic() + (SETTLE_S if settle else 0.0)
    while True:
        try:
            with box._engine_calls():
                box.container.reload()
        except docker.errors.NotFound:
            found: dict[str, Any] = {"Status": "removed"}
            break
        found = box.container.attrs.get("State") or {}
        if found.get("OOMKilled"):
            return
        if not found.get("Running") or found.get("Status") in ("removing", "exited", "dead"):
            break
        if time.monotonic() >= until:
            return
        time.sleep(SETTLE_STEP_S)
    raise EngineLostError(
        f"the build container {box.name} was stopped from outside render-sim mid-build "
        f"(now {found.get('Status', 'gone')}); the build's result would mean nothing",
        hint="leave render-sim's containers alone while a build runs; simulate again",
    )


def leftover_processes(container: docker.models.containers.Container) -> list[str]:
    """Command lines of the processes still running besides the container's PID 1."""
    try:
        container.reload()
        init_pid = str(container.attrs["State"]["Pid"])
        top = container.top()
    except ENGINE_ERRORS:
        return []
    titles = top.get("Titles") or []
    if "PID" not in titles:
        return []
    pid, cmd = titles.index("PID"), len(titles) - 1
    return [row[cmd] for row in top.get("Processes") or [] if row[pid] != init_pid]


def oom_killed(container: docker.models.containers.Container) -> bool:
    """Whether the engine says the container itself was killed for memory."""
    try:
        container.reload()
    except ENGINE_ERRORS:
        return False
    return bool(container.attrs.get("State", {}).get("OOMKilled"))


def _cgroup_read(box: BuildContainer, *paths: str) -> str:
    script = " || ".join(f"cat {shlex.quote(p)} 2>/dev/null" for p in paths)
    try:
        code, out = box.call(["sh", "-c", script], workdir="/")
    except ENGINE_ERRORS:
        return ""
    return out if code == 0 else ""


def cgroup_oom_kills(box: BuildContainer) -> int:
    """The cgroup's OOM-kill count (v1: memory.oom_control; v2: memory.events)."""
    text = _cgroup_read(
        box, "/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"
    )
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0


def cgroup_peak_memory(box: BuildContainer) -> int | None:
    """The most memory the container's cgroup used (v1: max_usage_in_bytes; v2: peak)."""
    text = _cgroup_read(
        box, "/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"
    ).strip()
    return int(text) if text.isdigit() else None

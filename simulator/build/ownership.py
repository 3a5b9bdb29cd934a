"""Who owns a build container, and removing what dead runs left behind.

Each run labels what it creates (its containers and volumes) with its host and the pid (and the
pid's start time and PID namespace) of its render-sim process. A run whose process is gone (it
was killed with SIGKILL, or the Docker engine went away mid-build and it exited) is *dead*: the
next simulation removes what it left (`reap_orphans`), and so does `render-sim clean`.

`clean` by default removes only dead runs, and says what it left and why: a build in progress
(its render-sim runs), a run kept with --keep, runs of another host or PID namespace (whose
processes render-sim cannot see), and the build caches (kept between builds, as Render's).
`clean(everything=True)` (`--all`) removes all of it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.volumes import Volume

LABEL = "render-sim"
# Only what a BuildContainer creates carries a run id: images carry `render-sim` too, and a
# container a user starts from a render-sim image inherits that label, so clean() must not use it.
RUN_LABEL = "render-sim.run"
CACHE_LABEL = "render-sim.cache"  # build-cache volumes: kept between runs
HOST_LABEL = "render-sim.host"
PID_LABEL = "render-sim.pid"
PID_START_LABEL = "render-sim.pid-start"
PID_NS_LABEL = "render-sim.pid-ns"  # a pid means something only in its PID namespace
KEEP_LABEL = "render-sim.keep"  # --keep: left for inspection on purpose, never reaped


def _process_start(pid: int) -> str:
    """When process `pid` started (clock ticks after boot, from /proc), or "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # field 22; the command name (field 2) may hold spaces and parentheses: split after it
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace() -> str:
    """This process's PID namespace ("pid:[4026531836]"), or "" when unknown."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def owner_labels() -> dict[str, str]:
    """Labels naming this process as the owner of a run (see `reap_orphans`)."""
    pid = os.getpid()
    labels = {HOST_LABEL: socket.gethostname(), PID_LABEL: str(pid)}
    started = _process_start(pid)
    if started:
        labels[PID_START_LABEL] = started
    namespace = _pid_namespace()
    if namespace:
        labels[PID_NS_LABEL] = namespace
    return labels


def _owner_alive(labels: Mapping[str, str]) -> bool:
    """Whether the render-sim process that created a run (per its labels) still runs here."""
    pid = int(labels[PID_LABEL])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    started = labels.get(PID_START_LABEL, "")
    current = _process_start(pid)
    return not (started and current and started != current)  # else: the pid was reused


def why_alive(labels: Mapping[str, str]) -> str | None:
    """None when the run these labels describe is dead (removable); else why it is not removed."""
    if KEEP_LABEL in labels:
        return "kept for inspection (--keep)"
    host = labels.get(HOST_LABEL, "")
    if host != socket.gethostname():
        return (
            f"made on host {host or '(unknown)'}: render-sim cannot tell whether its process "
            "still runs"
        )
    if labels.get(PID_NS_LABEL, "") != _pid_namespace():
        return (
            "made by a render-sim in another PID namespace (another container sharing this "
            "engine): render-sim cannot tell whether it still runs"
        )
    pid = labels.get(PID_LABEL, "")
    if not pid.isdigit() or int(pid) <= 0:
        return "carries no owner (made by an older render-sim)"
    if _owner_alive(labels):
        return f"its render-sim process {pid} still runs (a build in progress)"
    return None


@dataclass(frozen=True)
class Left:
    """Something `clean` did not remove, and why."""

    kind: str  # "container" | "volume" | "cache"
    name: str
    reason: str


@dataclass
class Sweep:
    """What a sweep removed and what it left."""

    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "containers": self.containers,
            "volumes": self.volumes,
            "left": [{"kind": x.kind, "name": x.name, "reason": x.reason} for x in self.left],
        }


def _name(found: Mapping[str, Any]) -> str:
    return str((found.get("Names") or [found["Id"]])[0]).lstrip("/")


def _sweep(
    client: docker.DockerClient,
    selector: Mapping[str, Any],
    keep_reason: Callable[[Mapping[str, str]], str | None],
) -> Sweep:
    """Remove the runs' containers, then volumes, matching `selector` that `keep_reason` frees."""
    sweep = Sweep()
    # The low-level list: the high-level one inspects each container it lists, and fails on
    # one that another run removes in between.
    for found in client.api.containers(all=True, filters=dict(selector)):
        name = _name(found)
        reason = keep_reason(found.get("Labels") or {})
        if reason is not None:
            sweep.left.append(Left("container", name, reason))
            continue
        try:
            client.api.remove_container(found["Id"], force=True, v=True)
            sweep.containers.append(name)
        except docker.errors.NotFound:
            continue  # its run removed it meanwhile
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: its run is removing it right now
                raise
    for volume in client.volumes.list(filters=dict(selector)):
        reason = keep_reason((volume.attrs or {}).get("Labels") or {})
        if reason is not None:
            sweep.left.append(Left("volume", volume.name, reason))
            continue
        _remove_volume(volume, sweep, Left("volume", volume.name, "in use by a container"))
    return sweep


def _remove_volume(volume: Volume, sweep: Sweep, busy: Left) -> None:
    """Remove `volume` into `sweep`; one that is in use is left, as `busy` says."""
    try:
        volume.remove(force=True)
        sweep.volumes.append(volume.name)
    except docker.errors.NotFound:
        pass  # removed meanwhile
    except docker.errors.APIError:
        sweep.left.append(busy)


def reap_orphans(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Remove the containers and volumes of runs whose render-sim process is gone.

    Only runs started on this host (by its hostname) and in this PID namespace whose pid no
    longer runs (or runs another program) are removed; runs kept with --keep, runs of other
    hosts or containers sharing the engine, and build caches are left alone. Returns the names
    removed.
    """
    selector = {"label": [RUN_LABEL, f"{HOST_LABEL}={socket.gethostname()}"]}
    sweep = _sweep(client, selector, why_alive)
    return sweep.containers, sweep.volumes


def dead_runs(client: docker.DockerClient) -> list[str]:
    """Names of the containers and volumes of dead runs (what `reap_orphans` would remove)."""
    selector = {"label": RUN_LABEL}
    found = [
        (_name(c), c.get("Labels") or {}) for c in client.api.containers(all=True, filters=selector)
    ]
    found += [
        (v.name, (v.attrs or {}).get("Labels") or {}) for v in client.volumes.list(filters=selector)
    ]
    return [name for name, labels in found if why_alive(labels) is None]


def leftovers(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Names of render-sim's run containers and volumes that still exist (by label)."""
    containers = [_name(c) for c in client.api.containers(all=True, filters={"label": RUN_LABEL})]
    volumes = [v.name for v in client.volumes.list(filters={"label": RUN_LABEL})]
    return containers, volumes


def clean(client: docker.DockerClient, *, everything: bool = False) -> Sweep:
    """Remove what dead runs left (by label, and only that); with `everything`, all of it.

    By default a build in progress, a run kept with --keep, runs whose owner cannot be judged
    from here and the build caches are left, each with the reason. `everything` (`clean --all`)
    removes every render-sim container and volume, build caches included: a build in progress
    then stops.
    """
    sweep = _sweep(
        client, {"label": RUN_LABEL}, (lambda _labels: None) if everything else why_alive
    )
    for volume in client.volumes.list(filters={"label": CACHE_LABEL}):
        if not everything:
            sweep.left.append(
                Left("cache", volume.name, "a build cache: kept between builds, as Render's")
            )
            continue
        _remove_volume(volume, sweep, Left("cache", volume.name, "in use by a running build"))
    return sweep

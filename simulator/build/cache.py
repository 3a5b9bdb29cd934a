"""Render's build cache, simulated: a named volume per repo, service and Python version.

It is mounted at /opt/render/.cache (where pip and uv keep their caches, HOME being /opt/render)
and outlives the build container; `render-sim clean --all` removes it.
"""

from __future__ import annotations

import hashlib

import docker
import docker.errors

from simulator.build.ownership import CACHE_LABEL, LABEL, PID_LABEL, RUN_LABEL
from simulator.errors import BusyError


def cache_volume_name(key: str) -> str:
    """The build-cache volume of one service and Python (`key` says which; see plan.cache_key)."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"render-sim-cache-{digest}"


def cache_holders(client: docker.DockerClient, name: str) -> list[str]:
    """The containers that mount volume `name`, each as "NAME (render-sim pid N)" when known."""
    holders = []
    for found in client.api.containers(all=True, filters={"volume": name}):
        labels = found.get("Labels") or {}
        who = str((found.get("Names") or [found["Id"][:12]])[0]).lstrip("/")
        if RUN_LABEL in labels and labels.get(PID_LABEL):
            who += f" (render-sim pid {labels[PID_LABEL]})"
        holders.append(who)
    return holders


def prepare_cache(
    client: docker.DockerClient, name: str, key: str, *, clear: bool = False
) -> tuple[str, bool]:
    """Make sure the cache volume `name` exists (emptied first when `clear`).

    Returns the name and whether it already held a cache (Render: `==> Downloading cache...`).
    A cache another build is using cannot be emptied: `BusyError` names that build.
    """
    existed = False
    try:
        volume = client.volumes.get(name)
        existed = True
        if clear:
            volume.remove(force=True)
            existed = False
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if error.status_code != 409:  # 409: "volume is in use"
            raise
        holders = ", ".join(cache_holders(client, name)) or "another container"
        raise BusyError(
            f"--clear-cache cannot empty the build cache {name} now: {holders} is using it "
            "(another simulation of this service with this Python)",
            hint="retry when that build ends, or simulate with --no-cache meanwhile",
        ) from None
    if not existed:
        client.volumes.create(name=name, labels={LABEL: "1", CACHE_LABEL: key})
    return name, existed


def cache_volumes(client: docker.DockerClient) -> list[docker.models.volumes.Volume]:
    """render-sim's build-cache volumes."""
    return list(client.volumes.list(filters={"label": CACHE_LABEL}))

"""What the Docker engine can give a build's limits, asked before anything is built.

A limit the engine cannot give at all is a usage error naming the option (exit 2), not an API
error from deep inside a build: Docker accepts `--cpus` from 0.01 up to the engine's CPU count
(`require_cpus`), and a `--network` must name a network the engine has (`require_network`). What
the engine cannot enforce is said among the plan's differences, with what render-sim does instead
(`engine_differences`): Docker's local volumes have no size limit unless the data root is xfs
with project quotas (moby/moby#41330), so render-sim measures the writable space itself
(build.sandbox.DiskWatch); an engine without the pids cgroup cannot limit processes; and from a
remote engine's client render-sim cannot list that host's addresses to keep the build off them.
"""

from __future__ import annotations

import contextlib
import math
import uuid

import docker
import docker.errors

from simulator.errors import UsageError
from simulator.plan.machine import MAX_MEASURE_S, MIN_MEASURE_S, PIDS_LIMIT, Limits
from simulator.units import DOCKER_MIN_CPUS, size_text

QUOTA_PROBE_LABEL = "render-sim.quota-probe"  # a volume made only to ask about quotas


def engine_cpus(client: docker.DockerClient) -> int:
    """The number of CPUs the engine's host has (Docker's upper bound for `--cpus`)."""
    return int(client.info().get("NCPU") or 1)


def require_cpus(client: docker.DockerClient, cpus: float, option: str = "--cpus") -> None:
    """Raise `UsageError` unless the engine can give a container `cpus` CPUs (0.01 to its count).

    A value below 0.01 would round to NanoCPUs 0, which Docker reads as "no limit at all".
    """
    available = engine_cpus(client)
    if not math.isfinite(cpus) or not DOCKER_MIN_CPUS <= cpus <= available:
        raise UsageError(
            f"{option} {cpus:g} is outside what this Docker engine accepts: "
            f"{DOCKER_MIN_CPUS:g} to {available} (its host has {available} CPU(s))",
            hint=f"give {option} between {DOCKER_MIN_CPUS:g} and {available} (Render's: 2)",
        )


class NetworkNotFoundError(UsageError):
    """`--network NAME` names a network the Docker engine does not have."""


def require_network(client: docker.DockerClient, network: str) -> None:
    """Raise `NetworkNotFoundError` when `network` (other than ""/"none") does not exist."""
    if network in ("", "none"):
        return
    try:
        client.networks.get(network)
    except docker.errors.NotFound:
        raise NetworkNotFoundError(
            f"--network {network!r}: the Docker engine has no network of that name",
            hint="`docker network ls` lists the networks; create one with "
            "`docker network create NAME`, or leave out --network to use the internet",
        ) from None


_QUOTA_SUPPORT: dict[str, bool] = {}  # engine ID -> whether its local volumes take a size


def volume_quota_supported(client: docker.DockerClient) -> bool:
    """Whether the engine's local volumes take a `size` (xfs with pquota); asked once per engine.

    An engine whose storage sits on another filesystem cannot (its `docker info` says which);
    on xfs, whether it was mounted with project quotas is asked by creating a tiny volume with
    a size, which an engine without them refuses ("quota size requested but no quota support").
    """
    info = client.info()
    engine_id = str(info.get("ID", ""))
    if engine_id not in _QUOTA_SUPPORT:
        status = {str(k): str(v) for k, v in info.get("DriverStatus") or []}
        backing = status.get("Backing Filesystem", "")
        _QUOTA_SUPPORT[engine_id] = backing in ("", "xfs") and _quota_probe(client)
    return _QUOTA_SUPPORT[engine_id]


def _quota_probe(client: docker.DockerClient) -> bool:
    name = f"render-sim-quota-probe-{uuid.uuid4().hex[:12]}"
    try:
        volume = client.volumes.create(
            name=name,
            labels={"render-sim": "1", QUOTA_PROBE_LABEL: "1"},
            driver_opts={"size": "1m"},
        )
    except docker.errors.APIError:
        return False
    with contextlib.suppress(docker.errors.DockerException):
        volume.remove(force=True)
    return True


def engine_differences(client: docker.DockerClient, limits: Limits, network: str) -> list[str]:
    """What this engine cannot enforce of the sandbox, and what render-sim does instead.

    Raises `UsageError` for limits the engine cannot give at all (`--cpus` above its CPU count,
    a `--network` it does not have): better now than after the image is built.
    """
    require_cpus(client, limits.cpus)
    require_network(client, network)
    out = []
    if not volume_quota_supported(client):
        out.append(
            f"disk: this Docker engine cannot bound a volume's size (its data root is not xfs "
            f"with project quotas): render-sim measures the writable space (/opt/render, /tmp, "
            f"the build cache) while the build runs, every {MIN_MEASURE_S:g} to "
            f"{MAX_MEASURE_S:g} s, and stops the build past {size_text(limits.disk_bytes)} "
            "as Render cancels it; a burst of writes between two measures can pass the limit "
            "for a moment"
        )
    if not client.info().get("PidsLimit", True):
        out.append(
            f"processes: this Docker engine cannot limit them (its kernel has no pids cgroup), "
            f"so the build's {PIDS_LIMIT}-process limit is not set and a fork bomb in the build "
            "reaches the host; render-sim cannot stop it instead"
        )
    if network == "" and not engine_is_local(client):
        out.append(
            "the host: render-sim runs away from the Docker engine's host (a TCP or SSH engine), so it "
            "cannot list that host's own addresses; the build is kept off its bridge gateway, "
            "other containers and the private ranges, but not off its public addresses"
        )
    return out


def engine_is_local(client: docker.DockerClient) -> bool:
    """Whether the engine runs on this machine, as far as render-sim can tell: the client talks
    to it over a local socket or named pipe (docker-py's base URL for those), not TCP or SSH,
    whichever way it was chosen (DOCKER_HOST, a Docker context, --context)."""
    return str(client.api.base_url) in ("http+docker://localhost", "http+docker://localnpipe")

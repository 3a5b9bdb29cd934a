"""The Docker engine: connecting to it, and what it can enforce for a build container.

`connect` returns a client or says how to start an engine. The other functions ask the engine
what a build's limits need before anything is created, so that a limit the engine cannot give is
a usage error naming the option (exit 2), not an API error from deep inside a build:

- `require_cpus`: Docker accepts 0.01 up to the engine's CPU count;
- `require_network`: a `--network` must name a network the engine has;
- `volume_quota_supported`: whether the local volume driver can bound a volume's size (only on an
  xfs data root mounted with `pquota`, moby/moby#41330); where it cannot, render-sim measures the
  build's writable space itself (see `sandbox.py`).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import uuid
from collections.abc import Iterator

import docker
import docker.errors
import requests.exceptions

from simulator.build.ownership import LABEL, RUN_LABEL, owner_labels
from simulator.errors import DockerUnavailableError, UsageError

MIN_API_VERSION = (1, 41)  # Docker 20.10
# A client that cannot reach the engine: the socket is gone, the connection was refused or reset.
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
DOCKER_MIN_CPUS = 0.01  # moby's daemon rejects a smaller NanoCPUs ("Range of CPUs is from 0.01")


def connect() -> docker.DockerClient:
    """A client for the local Docker engine, or `DockerUnavailableError` saying how to start one."""
    try:
        client = docker.from_env(timeout=300)
        version = client.version()
    except docker.errors.DockerException as exc:
        raise DockerUnavailableError(
            f"no Docker engine answers: {str(exc).splitlines()[0][:200]}",
            hint=(
                "start one: `make engine` (installs Debian's docker.io and starts dockerd), "
                "or `sudo systemctl start docker`; set DOCKER_HOST for a remote engine"
            ),
        ) from None
    api = tuple(int(p) for p in str(version.get("ApiVersion", "0.0")).split(".")[:2])
    if api < MIN_API_VERSION:
        raise DockerUnavailableError(
            f"Docker engine API {version.get('ApiVersion')} is too old "
            f"(found {version.get('Version')}, render-sim needs API >= 1.41, Docker 20.10)",
            hint="upgrade the Docker engine",
        )
    return client


def engine_answers(client: docker.DockerClient) -> bool:
    """Whether the engine behind `client` still answers a ping."""
    try:
        return bool(client.ping())
    except ENGINE_ERRORS:
        return False


def first_line(error: BaseException) -> str:
    """The first line of an error's text (its type's name when it has none), at most 200 chars."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


# -- what the engine can give a build --------------------------------------------------------------


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

    Asked by creating a tiny volume with a size: an engine that cannot answers "quota size
    requested but no quota support" (an ext4 or overlay data root, Docker Desktop, ...).
    """
    engine_id = str(client.info().get("ID", ""))
    if engine_id not in _QUOTA_SUPPORT:
        run = f"quota-probe-{uuid.uuid4().hex[:12]}"
        labels = {LABEL: "1", RUN_LABEL: run, **owner_labels()}  # reaped if left behind
        try:
            volume = client.volumes.create(
                name=f"render-sim-{run}", labels=labels, driver_opts={"size": "1m"}
            )
        except docker.errors.APIError:
            _QUOTA_SUPPORT[engine_id] = False
        else:
            with contextlib.suppress(*ENGINE_ERRORS):
                volume.remove(force=True)
            _QUOTA_SUPPORT[engine_id] = True
    return _QUOTA_SUPPORT[engine_id]


@contextlib.contextmanager
def signals_held() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM (in the main thread) for a block; yields those that came.

    Around engine calls that create or remove a run's things: a Ctrl-C in the middle of one
    would leave what the engine finishes after render-sim gave up waiting for it (a container,
    a volume, an image layer).
    """
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: held.append(signum))
    try:
        yield held
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

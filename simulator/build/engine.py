"""The Docker engine: connecting to it, telling a lost engine from an error of its own, and
engine calls that a Ctrl-C must not cut short (`signals_held`).

What the engine can give a build's limits is asked at planning time (plan/engine_limits.py).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import docker
import docker.errors
import requests.exceptions

from simulator.errors import DockerUnavailableError

MIN_API_VERSION = (1, 41)  # Docker 20.10
# A client that cannot reach the engine: the socket is gone, the connection was refused or reset.
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


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

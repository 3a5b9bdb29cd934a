"""The Docker engine: telling a lost engine from an error of its own (`build.endpoints` connects
to it), and engine calls that a Ctrl-C must not cut short (`signals_held`).

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

MIN_API_VERSION = (1, 41)  # Docker 20.10
# A client that cannot reach the engine: the socket is gone, the connection was refused or reset.
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


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

"""The build's memory over time, read from the container's cgroup while the build runs.

`MemorySampler` follows two streams of the Docker engine for one container, each in its own
thread: the stats stream (`GET /containers/{id}/stats`, one sample a second: the engine's own
cadence, which a one-shot poll cannot beat), and the event stream filtered to the container's
`oom` events, which the engine sends when the kernel OOM-kills a process in the container's
cgroup, at the moment it happens (the build's shell may live on: the kill is not the end of the
build). Both are read through the Docker SDK, over whatever engine the client talks to.

Memory is counted as `docker stats` counts it: the cgroup's usage minus its inactive page cache,
which the kernel reclaims before it kills anything. A one-second sample can miss a short peak:
the cgroup's own peak (read after the run) is kept beside the samples, and an OOM kill means
the build reached the limit at that moment.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.types import CancellableStream
from docker.utils.json_stream import json_stream

# A stream that ends under us: the container was removed, the engine went away, the stream was
# closed from the other thread (urllib3 then raises on a closed file: OSError, ValueError).
STREAM_ERRORS = (
    docker.errors.DockerException,
    requests.exceptions.RequestException,
    OSError,
    ValueError,
    AttributeError,
)
JOIN_S = 2.0  # how long `__exit__` waits for a reader thread once its stream is closed


@dataclass(frozen=True)
class MemorySample:
    """Memory in use at `t_s` (seconds since the simulation started).

    `peak_bytes` is the cgroup's highest usage so far when the engine reports it (cgroup v1's
    `max_usage`), else None.
    """

    t_s: float
    used_bytes: int
    peak_bytes: int | None = None


@dataclass
class MemoryTrace:
    """The memory samples of one build, its limit, its peak and when OOM kills happened."""

    limit_bytes: int
    samples: list[MemorySample] = field(default_factory=list)
    oom_kills_s: list[float] = field(default_factory=list)  # as the engine reported them
    start_s: float = 0.0  # the sampled window (seconds since the simulation started)
    end_s: float = 0.0
    peak_bytes: int | None = None  # the cgroup's peak, read after the run
    oom_killed: bool = False  # the cgroup's oom_kill counter moved (the authority on OOM)
    error: str = ""  # why sampling stopped early, if it did

    def kill_times(self) -> list[tuple[float, bool]]:
        """When the build was OOM-killed: (seconds, exact) pairs, in order.

        Exact when the engine sent its `oom` event. When the cgroup says a kill happened and no
        event arrived (an engine that does not send them), the kill is placed at the first
        sample whose recorded peak reached the final peak (the kill came in the second before
        it), else at the end of the sampled window: approximate.
        """
        if self.oom_kills_s:
            return [(t, True) for t in sorted(self.oom_kills_s)]
        if not self.oom_killed:
            return []
        final = self.peak_bytes
        for sample in self.samples:
            if final is not None and sample.peak_bytes is not None and sample.peak_bytes >= final:
                return [(sample.t_s, False)]
        return [(self.end_s, False)]

    def highest(self) -> int | None:
        """The highest memory seen: the cgroup's peak, or the highest sample without one."""
        seen = max((s.used_bytes for s in self.samples), default=None)
        if self.peak_bytes is None:
            return seen
        return max(self.peak_bytes, seen or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit_bytes": self.limit_bytes,
            "peak_bytes": self.peak_bytes,
            "highest_bytes": self.highest(),
            "samples": len(self.samples),
            "oom_kills_s": [round(t, 2) for t, _ in self.kill_times()],
            "error": self.error or None,
        }


def sample_from_stats(stats: Mapping[str, Any], t_s: float) -> MemorySample | None:
    """A sample from one stats message of the engine, or None when it holds no memory figures.

    Usage minus inactive page cache, as `docker stats` shows it (cgroup v1 names it
    `total_inactive_file`, v2 `inactive_file`). A stopped container's message has no usage.
    """
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if not isinstance(usage, int) or isinstance(usage, bool):
        return None
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    if isinstance(inactive, int) and 0 < inactive <= usage:
        usage -= inactive
    peak = memory.get("max_usage")
    return MemorySample(t_s, usage, peak if isinstance(peak, int) and peak > 0 else None)


class MemorySampler:
    """Samples one container's memory while a block runs (a context manager).

    `clock` gives seconds since the simulation started (`Timeline.now`), so the samples line up
    with the phases. Sampling never fails the build: an engine that refuses the streams leaves
    an empty trace with `error` saying why.
    """

    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        limit_bytes: int,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._container_id = container_id
        self._clock = clock
        self.trace = MemoryTrace(limit_bytes=limit_bytes)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._streams: list[CancellableStream] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> MemorySampler:
        self.trace.start_s = self._clock()
        # The event stream is opened here, before the build starts: a kill in its first second
        # must not happen before anyone listens. The stats stream opens in its thread.
        try:
            events = self._client.events(
                decode=True, filters={"container": self._container_id, "event": "oom"}
            )
        except STREAM_ERRORS as error:
            self.trace.error = f"no OOM events from the engine: {_first_line(error)}"
        else:
            self._streams.append(events)
            self._start(self._watch_ooms, events)
        self._start(self._sample, None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.trace.end_s = self._clock()
        self._stop.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            with contextlib.suppress(*STREAM_ERRORS):
                stream.close()
        for thread in self._threads:
            thread.join(JOIN_S)

    def _start(self, target: Callable[[Any], None], argument: Any) -> None:
        thread = threading.Thread(
            target=target, args=(argument,), name=f"memory-{self._container_id[:12]}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _open_stats(self) -> CancellableStream:
        """The engine's stats stream for the container, closable from another thread.

        The SDK's `stats(stream=True)` gives a generator that cannot be stopped while it waits
        for the next second's message; the same request made with the SDK's session, wrapped
        in its `CancellableStream`, can (its `close` shuts the socket).
        """
        api = self._client.api
        url = f"{api.base_url}/v{api.api_version}/containers/{self._container_id}/stats"
        response = api.get(url, params={"stream": "1"}, stream=True, timeout=None)
        if response.status_code != 200:
            response.close()
            raise docker.errors.APIError(f"stats answered {response.status_code}")
        return CancellableStream(json_stream(response.iter_content(chunk_size=None)), response)

    def _sample(self, _: None) -> None:
        try:
            stream = self._open_stats()
        except STREAM_ERRORS as error:
            self.trace.error = f"no memory stats from the engine: {_first_line(error)}"
            return
        with self._lock:
            self._streams.append(stream)
        if self._stop.is_set():  # stopped while the stream opened
            with contextlib.suppress(*STREAM_ERRORS):
                stream.close()
            return
        for message in _until_closed(stream):
            if self._stop.is_set():
                return
            if isinstance(message, Mapping):
                sample = sample_from_stats(message, self._clock())
                if sample is not None:
                    self.trace.samples.append(sample)

    def _watch_ooms(self, events: CancellableStream) -> None:
        for event in _until_closed(events):
            if isinstance(event, Mapping) and "oom" in (event.get("Action"), event.get("status")):
                self.trace.oom_kills_s.append(self._clock())


def _until_closed(stream: CancellableStream) -> Iterator[Any]:
    """The stream's messages until it ends or is closed (which raises inside the SDK)."""
    with contextlib.suppress(*STREAM_ERRORS):
        yield from stream


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__

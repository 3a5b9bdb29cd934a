"""One object owns a build container's whole life: `BuildContainer`.

Shaped like Render's build machine and like cibuildwheel's `OCIContainer`: it creates a uniquely
named container whose PID 1 idles, runs each command by exec (so the container outlives the
command and its cgroup can be read afterwards: OOM is read from the cgroup's `oom_kill` counter,
not guessed from exit code 137), and in `__exit__` always removes the container and its volumes,
whatever happened (success, failure, timeout, Ctrl-C). A Ctrl-C or SIGTERM that comes while
they are being created is held until the engine has answered, then they are removed: a create
the engine finishes after render-sim gave up on it cannot leave anything behind.

A build ends when its command exits, as on Render: a background process the command left behind
(a server started with `&`, a child that ignores SIGTERM and holds stdout open) neither keeps the
build waiting nor survives it. Its limits hold without render-sim: PID 1 ends the container at
the time limit (plus a grace) and the command's exec is bounded by `timeout`, so a build whose
render-sim was killed (SIGKILL) stops by itself; what such a run leaves carries its owner's
host and pid, and the next run removes it (ownership.py).

The sandbox (sandbox.py): no capabilities, no-new-privileges, a PID limit, the host's own
services out of reach, and the writable space measured against Render's 16 GB.

Filesystem, as on Render: the root filesystem is read-only; `/opt/render` (HOME and
`/opt/render/project`) and `/tmp` are writable volumes on disk (not tmpfs: tmpfs counts against
the memory limit and would turn a big download into a false out-of-memory).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import docker
import docker.errors
from docker.types import Mount

from simulator.build import container_state as state
from simulator.build.engine import ENGINE_ERRORS, engine_answers, first_line, signals_held
from simulator.build.exec_stream import Chunk, LineDecoder, OnOutput, drain
from simulator.build.ownership import KEEP_LABEL, LABEL, RUN_LABEL, owner_labels
from simulator.build.sandbox import (
    BUILD_CAPABILITIES,
    DiskWatch,
    Isolation,
    SandboxError,
    Watcher,
    host_addresses,
    init_command,
)
from simulator.errors import EngineLostError, SandboxUnavailableError
from simulator.plan.engine_limits import require_cpus, require_network, volume_quota_supported
from simulator.plan.machine import CACHE_DIR, PIDS_LIMIT, RENDER_HOME, SRC_DIR, Limits

EXEC_POLL_S = 0.5
# The container's own deadline comes this long after the time limit, and the exec's `timeout`
# half as long: render-sim, when it runs, stops the build at the limit itself and says so.
DEADLINE_GRACE_S = 60.0
# What Docker adds to an exec's environment unless given: moby's CreateDaemonEnvironment sets
# HOSTNAME (and TERM for a tty), and the exec's user gets a HOME
DOCKER_EXEC_ENV = frozenset({"HOSTNAME", "HOME", "TERM"})


@dataclass
class ExecResult:
    """How a command in the container ended."""

    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    idle_out: bool = False
    interrupted: bool = False
    disk_exceeded: bool = False  # stopped by render-sim: the writable space passed its limit
    disk_used_bytes: int | None = None  # the last measure of the writable space
    oom_kills: int = 0
    peak_memory_bytes: int | None = None
    # processes the build command left running when it exited (their command lines); they were
    # stopped with the container, as Render ends the build when its command exits
    leftover_processes: list[str] = field(default_factory=list)

    @property
    def oom_killed(self) -> bool:
        return self.oom_kills > 0


@dataclass
class BuildContainer:
    """A Render-shaped build container (a context manager; see the module docstring)."""

    client: docker.DockerClient
    image: str
    limits: Limits = field(default_factory=Limits)
    labels: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False  # debug switch: leave the container for inspection
    # "" is the engine's default bridge (the internet, as on Render, but not the host's own
    # services); "none" is no network; any other value is the name of a Docker network to join
    # instead (a private index, test fixtures), where nothing is blocked
    network: str = ""
    # A named volume that outlives the container, mounted at CACHE_DIR: Render's build cache
    cache_volume: str | None = None
    # Options of the local volume driver for the volume at a mount point (RENDER_HOME or "/tmp"),
    # e.g. {"/tmp": {"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}}: a small disk
    volume_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        self.name = f"render-sim-{self.run_id}"
        self._container: docker.models.containers.Container | None = None
        self._volumes: list[str] = []
        self._watcher: Watcher | None = None
        self._oom_baseline = 0
        self.isolation: Isolation | None = None  # what keeps the build off the host, if any
        self.disk_quota = False  # the engine bounds each volume's size itself

    # -- life ---------------------------------------------------------------------------------
    def __enter__(self) -> BuildContainer:
        try:
            with signals_held() as held:
                self._create()
            if held:
                raise KeyboardInterrupt  # asked to stop while the engine was creating things
        except BaseException:
            with signals_held():
                self.remove()
            raise
        return self

    def _create(self) -> None:
        require_cpus(self.client, self.limits.cpus, "the CPU limit (--cpus)")
        require_network(self.client, self.network)
        labels = {LABEL: "1", RUN_LABEL: self.run_id, **owner_labels(), **self.labels}
        if self.keep:
            labels[KEEP_LABEL] = "1"
        self.disk_quota = volume_quota_supported(self.client)
        mounts, watched = [], []
        for target, suffix in ((RENDER_HOME, "render"), ("/tmp", "tmp")):
            name = f"{self.name}-{suffix}"
            self._volumes.append(name)  # before creating it: removed by name if cut short
            options = dict(self.volume_options.get(target) or {})
            if not options and self.disk_quota:
                options = {"size": str(self.limits.disk_bytes)}
            self.client.volumes.create(name=name, labels=labels, driver_opts=options or None)
            mounts.append(Mount(target=target, source=name, type="volume"))
            watched.append((name, suffix))
        if self.cache_volume:
            mounts.append(Mount(target=CACHE_DIR, source=self.cache_volume, type="volume"))
            watched.append((self.cache_volume, "cache"))
        network: dict[str, object] = {}
        if self.network == "none":
            network["network_disabled"] = True
        elif self.network:
            network["network"] = self.network
        deadline = 0.0 if self.keep else self.limits.timeout_s + DEADLINE_GRACE_S
        self._container = self.client.containers.create(
            self.image,
            command=init_command(deadline),
            name=self.name,
            labels=labels,
            read_only=True,
            mounts=mounts,
            mem_limit=self.limits.memory_bytes,
            memswap_limit=self.limits.memory_bytes,  # no swap: as on Render
            nano_cpus=int(self.limits.cpus * 1e9),
            init=False,  # PID 1 is render-sim's deadline init (it reaps orphans too)
            cap_drop=["ALL"],
            cap_add=list(BUILD_CAPABILITIES) or None,
            security_opt=["no-new-privileges"],
            pids_limit=PIDS_LIMIT,
            **network,
            working_dir=SRC_DIR,
        )
        self._container.start()
        watcher_labels = {**labels, "render-sim.role": "watcher"}
        self._watcher = Watcher(
            self.client, self.image, f"{self.name}-watch", watcher_labels, watched
        )
        self._watcher.start(self._container.id, deadline)
        if self.network == "":
            try:
                self.isolation = self._watcher.isolate(host_addresses(self.client))
            except SandboxError as error:
                raise SandboxUnavailableError(
                    f"the build container could not be kept off the host's services: {error}",
                    hint="simulate again; to build without that isolation, choose the network "
                    "yourself with --network bridge",
                ) from None
        self._oom_baseline = self._cgroup_oom_kills()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.keep:
            return
        with signals_held() as held:
            self.remove()
        if held and exc is None:
            signal.raise_signal(held[0])  # the user asked to stop: now that nothing is left, stop

    def remove(self) -> None:
        """Remove the containers and volumes; safe to call twice, never raises."""
        targets = [self.name + "-watch", self.name] if self._volumes else []
        if self._container is not None:
            targets[-1:] = [self._container.id]

        def remove_container(target: str) -> None:
            # by name when the create call was cut short before it returned the object
            with contextlib.suppress(*ENGINE_ERRORS):  # already gone, or the engine is down
                self.client.api.remove_container(target, force=True, v=True)

        # both at once: the engine takes about as long to stop and remove each
        removers = [threading.Thread(target=remove_container, args=(t,)) for t in targets]
        for remover in removers:
            remover.start()
        for remover in removers:
            remover.join()
        self._container = self._watcher = None
        for name in self._volumes:
            for _ in range(5):
                try:
                    self.client.volumes.get(name).remove(force=True)
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError:
                    time.sleep(0.2)  # the engine may still be releasing the container
                except ENGINE_ERRORS:
                    self._volumes = []  # the engine is gone: the next run reaps what is left
                    return
        self._volumes = []

    @property
    def container(self) -> docker.models.containers.Container:
        if self._container is None:
            raise RuntimeError("BuildContainer used outside its `with` block")
        return self._container

    # -- verbs --------------------------------------------------------------------------------
    def copy_into(self, tar_bytes: bytes, dest: str) -> None:
        """Unpack a tar archive at `dest` (which must be on a writable volume)."""
        with self._engine_calls():
            if not self.container.put_archive(dest, tar_bytes):
                raise RuntimeError(f"copying files into {dest} failed")

    def call(
        self, argv: list[str], env: Mapping[str, str] | None = None, workdir: str = SRC_DIR
    ) -> tuple[int, str]:
        """Run a short command to completion; returns (exit code, combined output)."""
        with self._engine_calls():
            result = self.container.exec_run(
                argv, environment=dict(env or {}), workdir=workdir, demux=False
            )
        return result.exit_code, (result.output or b"").decode(errors="replace")

    def run(
        self,
        script: str,
        env: Mapping[str, str],
        *,
        workdir: str = SRC_DIR,
        on_output: OnOutput,
    ) -> ExecResult:
        """Run `script` with bash in a clean environment (only `env`), streaming its output.

        The build ends when `script` exits, as on Render: the exec is polled, so a background
        process that holds the output stream open neither keeps render-sim waiting nor outlives
        the build (it is listed in `leftover_processes` and stopped with the container).
        The total time limit, the no-output watchdog and the disk limit are enforced here: past
        any of them, the container is killed (the only way to stop an exec'd process tree,
        including one that ignores SIGTERM). OOM kills and peak memory are read from the cgroup
        afterwards.
        """
        # The values go in the exec's own environment, never on its command line: an exec's argv
        # is public (`docker events` shows it to anything collecting events, `ps` on the host).
        # What else an exec inherits (the image's ENV: python:slim's PYTHON_VERSION, GPG_KEY, ...;
        # Docker's HOSTNAME) is unset by name, so the build sees exactly `env`, as `env -i` did.
        unset = sorted(self._inherited_env_names() - env.keys())
        bound = f"{self.limits.timeout_s + DEADLINE_GRACE_S / 2:.0f}"
        argv = [
            *("timeout", "--signal=KILL", bound),  # holds if render-sim is killed meanwhile
            *("env", *(part for name in unset for part in ("-u", name))),
            *("bash", "-c", script),
        ]
        api = self.client.api
        with self._engine_calls():
            exec_id = api.exec_create(
                self.container.id, argv, environment=dict(env), workdir=workdir, tty=False
            )["Id"]
        chunks: queue.Queue[Chunk | None] = queue.Queue()

        def pump() -> None:
            try:
                for pair in api.exec_start(exec_id, stream=True, demux=True):
                    chunks.put(pair)
            except ENGINE_ERRORS:
                pass  # the container was killed (timeout) or the engine went away
            finally:
                chunks.put(None)

        reader = threading.Thread(target=pump, name=f"{self.name}-output", daemon=True)
        watch = DiskWatch(self._measure_disk, self.limits.disk_bytes, f"{self.name}-disk")
        start = time.monotonic()
        last_output = start
        result = ExecResult(exit_code=None, duration_s=0.0)
        decoders = (LineDecoder(on_output), LineDecoder(on_output))  # stdout, stderr

        def feed(chunk: Chunk) -> None:
            for decoder, data in zip(decoders, chunk, strict=True):
                if data:
                    decoder.feed(data)

        streaming = True
        ended: dict[str, Any] | None = None  # the exec's state once its command has exited
        next_poll = start + EXEC_POLL_S
        reader.start()
        watch.start()
        try:
            while ended is None:
                now = time.monotonic()
                if not streaming or now >= next_poll:
                    next_poll = now + EXEC_POLL_S
                    ended = self._exec_ended(exec_id)
                    if ended is not None:
                        break
                if now - start >= self.limits.timeout_s:
                    result.timed_out = True
                elif self.limits.idle_timeout_s and now - last_output >= self.limits.idle_timeout_s:
                    result.idle_out = True
                elif watch.over:
                    result.disk_exceeded = True
                if result.timed_out or result.idle_out or result.disk_exceeded:
                    self._kill()
                    break
                deadline = min(next_poll, start + self.limits.timeout_s)
                if self.limits.idle_timeout_s:
                    deadline = min(deadline, last_output + self.limits.idle_timeout_s)
                wait = max(0.05, min(1.0, deadline - now))
                if not streaming:  # the output is closed but the command runs on: poll it
                    time.sleep(min(wait, 0.2))
                    continue
                try:
                    chunk = chunks.get(timeout=wait)
                except queue.Empty:
                    continue
                if chunk is None:
                    streaming = False
                    continue
                last_output = time.monotonic()
                feed(chunk)
            result.duration_s = time.monotonic() - start
            if streaming:
                drain(chunks, feed)  # what the command wrote before it ended, every byte of it
        except KeyboardInterrupt:
            result.interrupted = True
            self._kill()
            raise
        finally:
            watch.stop()
            for decoder in decoders:
                decoder.close()
            result.duration_s = result.duration_s or time.monotonic() - start
        result.disk_used_bytes = watch.used
        if ended is not None and not result.disk_exceeded:
            # A burst between two measures (400 MB in a tenth of a second) ends no later than
            # here: the space the build leaves is measured once more, as Render would have seen it.
            final = self._measure_disk()
            if final is not None:
                result.disk_used_bytes = max(final, watch.used or 0)
                result.disk_exceeded = final > self.limits.disk_bytes
        if ended is not None:
            result.exit_code = ended.get("ExitCode")
            state.require_running(self, settle=(result.exit_code or 0) >= 128)
            result.leftover_processes = state.leftover_processes(self.container)
            result.oom_kills = max(0, self._cgroup_oom_kills() - self._oom_baseline)
            result.peak_memory_bytes = state.cgroup_peak_memory(self)
            self._oom_baseline += result.oom_kills
            if state.oom_killed(self.container):
                result.oom_kills = max(result.oom_kills, 1)
        return result

    def _measure_disk(self) -> int | None:
        return self._watcher.measure() if self._watcher is not None else None

    def _inherited_env_names(self) -> set[str]:
        """Names of the variables an exec gets without asking: the container's and Docker's own."""
        config = (self.container.attrs.get("Config") or {}).get("Env") or []
        return {item.partition("=")[0] for item in config} | DOCKER_EXEC_ENV

    def _exec_ended(self, exec_id: str) -> dict[str, Any] | None:
        """The exec's state once its command has exited, else None (still running)."""
        try:
            with self._engine_calls():
                found: dict[str, Any] = self.client.api.exec_inspect(exec_id)
        except docker.errors.NotFound:
            state.require_running(self)  # the container went with its exec: raises
            raise
        if found.get("Running") or found.get("ExitCode") is None:
            return None  # running, or not started yet
        return found

    @contextlib.contextmanager
    def _engine_calls(self) -> Iterator[None]:
        """Engine calls of a build: an engine that stopped answering is an `EngineLostError`."""
        try:
            yield
        except ENGINE_ERRORS as error:
            if engine_answers(self.client):
                raise  # the engine is there: an error of its own, not a lost engine
            where = os.environ.get("DOCKER_HOST") or "/var/run/docker.sock"
            raise EngineLostError(
                f"the Docker engine went away mid-build: nothing answers at {where} any more "
                f"({first_line(error)[:80]}); the build container {self.name} and its volumes "
                "are left behind",
                hint="run `render-sim clean` when the engine is back (or simulate again: each "
                "run removes what a dead run left behind)",
            ) from None

    def _kill(self) -> None:
        with contextlib.suppress(*ENGINE_ERRORS):
            self.container.kill()

    def _cgroup_oom_kills(self) -> int:
        return state.cgroup_oom_kills(self)

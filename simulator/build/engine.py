"""The container engine: one object owns a build container's whole life.

`BuildContainer` is shaped like Render's build machine and like cibuildwheel's `OCIContainer`:
it creates a uniquely named container whose PID 1 idles, runs each command by exec (so the
container outlives the command and its cgroup can be read afterwards: OOM is read from the
cgroup's `oom_kill` counter, not guessed from exit code 137), and in `__exit__` always removes
the container and its volumes, whatever happened (success, failure, timeout, Ctrl-C).

A build ends when its command exits, as on Render: a background process the command left behind
(a server started with `&`, a child that ignores SIGTERM and holds stdout open) neither keeps the
build waiting nor survives it. What a run could not remove itself (render-sim killed with
SIGKILL, the Docker engine stopped mid-build) carries its owner's host and pid, so the next run
removes it (`reap_orphans`).

Filesystem, as on Render: the root filesystem is read-only; `/opt/render` (HOME and
`/opt/render/project`) and `/tmp` are writable volumes on disk (not tmpfs: tmpfs counts against
the memory limit and would turn a big download into a false out-of-memory).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shlex
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.types import Mount

from simulator.errors import DockerUnavailableError, EngineLostError

LABEL = "render-sim"
# Only what a BuildContainer creates carries a run id: images carry `render-sim` too, and a
# container a user starts from a render-sim image inherits that label, so clean() must not use it.
RUN_LABEL = "render-sim.run"
MIN_API_VERSION = (1, 41)  # Docker 20.10
RENDER_HOME = "/opt/render"
PROJECT_DIR = "/opt/render/project"
SRC_DIR = "/opt/render/project/src"
CACHE_DIR = "/opt/render/.cache"  # pip's and uv's caches (HOME is /opt/render)
CACHE_LABEL = "render-sim.cache"  # build-cache volumes: kept between runs, removed by clean()
# Who owns a run: the host and pid (and the pid's start time, so a reused pid is not taken for
# the owner) of the render-sim process. `reap_orphans` removes runs of this host whose owner died.
HOST_LABEL = "render-sim.host"
PID_LABEL = "render-sim.pid"
PID_START_LABEL = "render-sim.pid-start"
PID_NS_LABEL = "render-sim.pid-ns"  # a pid means something only in its PID namespace
KEEP_LABEL = "render-sim.keep"  # --keep: left for inspection on purpose, never reaped
# The build command has exited: everything it wrote is read (see `_drain`), then the stream is
# left once it is quiet for DRAIN_S or still open CLOSE_WAIT_S later. Docker itself closes it
# 2 s after the exec exits when a leftover process holds it open; other engines may never.
EXEC_POLL_S = 0.5
DRAIN_S = 0.5
CLOSE_WAIT_S = 10.0
# What Docker adds to an exec's environment unless given: moby's CreateDaemonEnvironment sets
# HOSTNAME (and TERM for a tty), and the exec's user gets a HOME
DOCKER_EXEC_ENV = frozenset({"HOSTNAME", "HOME", "TERM"})
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


@dataclass(frozen=True)
class Limits:
    """Render's build pipeline: 2 CPU, 8 GB, 120 minutes (Starter tier)."""

    memory_bytes: int = 8 * 1024**3
    cpus: float = 2.0
    timeout_s: float = 120 * 60
    idle_timeout_s: float = 30 * 60  # no output for this long: stopped (0 = never)


@dataclass
class ExecResult:
    """How a command in the container ended."""

    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    idle_out: bool = False
    interrupted: bool = False
    oom_kills: int = 0
    peak_memory_bytes: int | None = None
    # processes the build command left running when it exited (their command lines); they were
    # stopped with the container, as Render ends the build when its command exits
    leftover_processes: list[str] = field(default_factory=list)

    @property
    def oom_killed(self) -> bool:
        return self.oom_kills > 0


OnOutput = Callable[[str], None]


@dataclass
class BuildContainer:
    """A Render-shaped build container (a context manager; see the module docstring)."""

    client: docker.DockerClient
    image: str
    limits: Limits = field(default_factory=Limits)
    labels: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False  # debug switch: leave the container for inspection
    # "" is the engine's default bridge (the internet, as on Render); "none" is no network; any
    # other value is the name of a Docker network to join instead (a private index, test fixtures)
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
        self._oom_baseline = 0

    # -- life ---------------------------------------------------------------------------------
    def __enter__(self) -> BuildContainer:
        labels = {LABEL: "1", RUN_LABEL: self.run_id, **owner_labels(), **self.labels}
        if self.keep:
            labels[KEEP_LABEL] = "1"
        try:
            mounts = []
            for target, suffix in ((RENDER_HOME, "render"), ("/tmp", "tmp")):
                name = f"{self.name}-{suffix}"
                self._volumes.append(name)  # before creating it: an interrupt may come in between
                options = self.volume_options.get(target)
                volume = self.client.volumes.create(
                    name=name, labels=labels, **({"driver_opts": dict(options)} if options else {})
                )
                mounts.append(Mount(target=target, source=volume.name, type="volume"))
            if self.cache_volume:
                mounts.append(Mount(target=CACHE_DIR, source=self.cache_volume, type="volume"))
            network: dict[str, object] = {}
            if self.network == "none":
                network["network_disabled"] = True
            elif self.network:
                network["network"] = self.network
            self._container = self.client.containers.create(
                self.image,
                command=["sleep", "infinity"],
                name=self.name,
                labels=labels,
                read_only=True,
                mounts=mounts,
                mem_limit=self.limits.memory_bytes,
                memswap_limit=self.limits.memory_bytes,  # no swap: as on Render
                nano_cpus=int(self.limits.cpus * 1e9),
                init=True,
                **network,
                working_dir=SRC_DIR,
            )
            self._container.start()
            self._oom_baseline = self._cgroup_oom_kills()
        except BaseException:
            with _signals_held():
                self.remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.keep:
            return
        with _signals_held() as held:
            self.remove()
        if held and exc is None:
            signal.raise_signal(held[0])  # the user asked to stop: now that nothing is left, stop

    def remove(self) -> None:
        """Remove the container and its volumes; safe to call twice, never raises."""
        if self._container is not None or self._volumes:
            # by name when the create call was cut short (Ctrl-C) before it returned the object
            target = self._container.id if self._container is not None else self.name
            with contextlib.suppress(*ENGINE_ERRORS):  # already gone, or the engine is down
                self.client.api.remove_container(target, force=True, v=True)
            self._container = None
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
        The total time limit and the no-output watchdog are enforced here: past either, the
        container is killed (the only way to stop an exec'd process tree, including one that
        ignores SIGTERM). OOM kills and peak memory are read from the cgroup afterwards.
        """
        # The values go in the exec's own environment, never on its command line: an exec's argv
        # is public (`docker events` shows it to anything collecting events, `ps` on the host).
        # What else an exec inherits (the image's ENV: python:slim's PYTHON_VERSION, GPG_KEY, ...;
        # Docker's HOSTNAME) is unset by name, so the build sees exactly `env`, as `env -i` did.
        unset = sorted(self._inherited_env_names() - env.keys())
        argv = ["env", *(part for name in unset for part in ("-u", name)), "bash", "-c", script]
        api = self.client.api
        with self._engine_calls():
            exec_id = api.exec_create(
                self.container.id, argv, environment=dict(env), workdir=workdir, tty=False
            )["Id"]
        # (stdout, stderr) pairs: each stream has its own line decoder, so a line the build
        # writes in pieces is never glued to a line of the other stream (which would split a
        # secret value across two lines, past the masking)
        chunks: queue.Queue[tuple[bytes | None, bytes | None] | None] = queue.Queue()

        def pump() -> None:
            try:
                for pair in api.exec_start(exec_id, stream=True, demux=True):
                    chunks.put(pair)
            except ENGINE_ERRORS:
                pass  # the container was killed (timeout) or the engine went away
            finally:
                chunks.put(None)

        reader = threading.Thread(target=pump, name=f"{self.name}-output", daemon=True)
        start = time.monotonic()
        last_output = start
        result = ExecResult(exit_code=None, duration_s=0.0)
        decoders = (_LineDecoder(on_output), _LineDecoder(on_output))  # stdout, stderr

        def feed(chunk: tuple[bytes | None, bytes | None]) -> None:
            for decoder, data in zip(decoders, chunk, strict=True):
                if data:
                    decoder.feed(data)

        streaming = True
        ended: dict[str, Any] | None = None  # the exec's state once its command has exited
        next_poll = start + EXEC_POLL_S
        reader.start()
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
                if result.timed_out or result.idle_out:
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
                _drain(chunks, feed)  # what the command wrote before it ended, every byte of it
        except KeyboardInterrupt:
            result.interrupted = True
            self._kill()
            raise
        finally:
            for decoder in decoders:
                decoder.close()
            result.duration_s = result.duration_s or time.monotonic() - start
        if ended is not None:
            result.exit_code = ended.get("ExitCode")
            self._require_container()
            result.leftover_processes = self._leftover_processes()
            result.oom_kills = max(0, self._cgroup_oom_kills() - self._oom_baseline)
            result.peak_memory_bytes = self._cgroup_peak_memory()
            self._oom_baseline += result.oom_kills
            if self._container_oom_killed():
                result.oom_kills = max(result.oom_kills, 1)
        return result

    def _inherited_env_names(self) -> set[str]:
        """Names of the variables an exec gets without asking: the container's and Docker's own."""
        config = (self.container.attrs.get("Config") or {}).get("Env") or []
        return {item.partition("=")[0] for item in config} | DOCKER_EXEC_ENV

    def _exec_ended(self, exec_id: str) -> dict[str, Any] | None:
        """The exec's state once its command has exited, else None (still running)."""
        try:
            with self._engine_calls():
                state: dict[str, Any] = self.client.api.exec_inspect(exec_id)
        except docker.errors.NotFound:
            self._require_container()  # the container went with its exec: raises
            raise
        if state.get("Running") or state.get("ExitCode") is None:
            return None  # running, or not started yet
        return state

    def _require_container(self) -> None:
        """Raise `EngineLostError` when the container stopped under the build (not by OOM).

        A stopped engine stops its containers; so does `docker stop` or `docker rm -f` from
        outside. The build's exit code (137, 143) then says nothing about the build itself.
        """
        try:
            with self._engine_calls():
                self.container.reload()
        except docker.errors.NotFound:
            state: dict[str, Any] = {"Status": "removed"}
        else:
            state = self.container.attrs.get("State") or {}
            if state.get("Running") or state.get("OOMKilled"):
                return
        raise EngineLostError(
            f"the build container {self.name} was stopped from outside render-sim mid-build "
            f"(now {state.get('Status', 'gone')}); the build's result would mean nothing",
            hint="leave render-sim's containers alone while a build runs; simulate again",
        )

    def _leftover_processes(self) -> list[str]:
        """Command lines of the processes still running besides the container's idle PID 1."""
        try:
            self.container.reload()
            init_pid = str(self.container.attrs["State"]["Pid"])
            top = self.container.top()
        except ENGINE_ERRORS:
            return []
        titles = top.get("Titles") or []
        if not {"PID", "PPID"} <= set(titles):
            return []
        pid, ppid, cmd = titles.index("PID"), titles.index("PPID"), len(titles) - 1
        found, idle_seen = [], False
        for row in top.get("Processes") or []:
            if row[pid] == init_pid:
                continue  # docker-init
            if not idle_seen and row[ppid] == init_pid and row[cmd] == "sleep infinity":
                idle_seen = True  # the container's own idle command
                continue
            found.append(row[cmd])
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
                f"({_first_line(error)[:80]}); the build container {self.name} and its volumes "
                "are left behind",
                hint="run `render-sim clean` when the engine is back (or simulate again: each "
                "run removes what a dead run left behind)",
            ) from None

    # -- cgroup -------------------------------------------------------------------------------
    def _kill(self) -> None:
        with contextlib.suppress(*ENGINE_ERRORS):
            self.container.kill()

    def _container_oom_killed(self) -> bool:
        try:
            self.container.reload()
        except ENGINE_ERRORS:
            return False
        return bool(self.container.attrs.get("State", {}).get("OOMKilled"))

    def _cgroup_read(self, *paths: str) -> str:
        script = " || ".join(f"cat {shlex.quote(p)} 2>/dev/null" for p in paths)
        try:
            code, out = self.call(["sh", "-c", script], workdir="/")
        except ENGINE_ERRORS:
            return ""
        return out if code == 0 else ""

    def _cgroup_oom_kills(self) -> int:
        # cgroup v1: memory.oom_control has "oom_kill N"; v2: memory.events has "oom_kill N".
        text = self._cgroup_read(
            "/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"
        )
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def _cgroup_peak_memory(self) -> int | None:
        text = self._cgroup_read(
            "/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"
        ).strip()
        return int(text) if text.isdigit() else None


def _drain(
    chunks: queue.Queue[tuple[bytes | None, bytes | None] | None],
    feed: Callable[[tuple[bytes | None, bytes | None]], None],
) -> None:
    """Read the build's output to its end once its command has exited (or was killed).

    Everything already received is kept, however far the reader is behind: the record is never
    cut short. The stream's end is awaited while output still arrives: Docker closes it once
    the command's output is copied, or 2 s after the command exits when a leftover process holds
    it open (moby daemon/monitor.go); a stream quiet for DRAIN_S, or one still open CLOSE_WAIT_S
    later (an engine that never closes it), is read no further than what has arrived.
    """
    give_up = time.monotonic() + CLOSE_WAIT_S
    while (left := give_up - time.monotonic()) > 0:
        try:
            chunk = chunks.get(timeout=min(DRAIN_S, left))
        except queue.Empty:
            return  # quiet: the command's output has all arrived
        if chunk is None:
            return  # closed
        feed(chunk)
    for _ in range(chunks.qsize()):  # received before the give-up: kept
        chunk = chunks.get_nowait()
        if chunk is None:
            return
        feed(chunk)


class _LineDecoder:
    """Turns a byte stream into whole lines of text (a partial last line is flushed on close)."""

    def __init__(self, on_line: OnOutput) -> None:
        self._on_line = on_line
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        for line in lines:
            self._on_line(line.rstrip(b"\r").decode(errors="replace"))

    def close(self) -> None:
        if self._pending:
            self._on_line(self._pending.rstrip(b"\r").decode(errors="replace"))
            self._pending = b""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def engine_answers(client: docker.DockerClient) -> bool:
    """Whether the engine behind `client` still answers a ping."""
    try:
        return bool(client.ping())
    except ENGINE_ERRORS:
        return False


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM (in the main thread) while a run is removed; yields those held.

    A second Ctrl-C during the cleanup that the first one started would otherwise leave the
    container or a volume behind.
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


# -- who owns a run ----------------------------------------------------------------------------


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
    try:
        pid = int(labels.get(PID_LABEL, ""))
    except ValueError:
        return True  # not ours to judge
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    started = labels.get(PID_START_LABEL, "")
    current = _process_start(pid)
    return not (started and current and started != current)  # else: the pid was reused


def reap_orphans(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Remove the containers and volumes of runs whose render-sim process is gone.

    Only runs started on this host (by its hostname) and in this PID namespace whose pid no
    longer runs (or runs another program) are removed; runs kept with --keep, runs of other
    hosts or containers sharing the engine, and build caches are left alone. Returns the names
    removed.
    """
    selector = {"label": [RUN_LABEL, f"{HOST_LABEL}={socket.gethostname()}"]}
    namespace = _pid_namespace()

    def orphaned(labels: Mapping[str, str]) -> bool:
        if KEEP_LABEL in labels or labels.get(PID_NS_LABEL, "") != namespace:
            return False
        return not _owner_alive(labels)

    containers: list[str] = []
    volumes: list[str] = []
    # The low-level list: the high-level one inspects each container it lists, and fails on
    # one that another run removes in between.
    for found in client.api.containers(all=True, filters=selector):
        if not orphaned(found.get("Labels") or {}):
            continue
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(found["Id"], force=True, v=True)
            containers.append((found.get("Names") or [found["Id"]])[0].lstrip("/"))
    for volume in client.volumes.list(filters=selector):
        if not orphaned((volume.attrs or {}).get("Labels") or {}):
            continue
        try:
            volume.remove(force=True)
            volumes.append(volume.name)
        except docker.errors.APIError:
            continue  # in use (a kept container) or already gone
    return containers, volumes


def _containers(client: docker.DockerClient, label: str) -> list[tuple[str, str]]:
    """(id, name) of the containers carrying `label`, from the engine's list alone.

    The SDK's `containers.list` inspects each container it lists, and fails on one another
    process removes meanwhile, or on one being created (listed before it can be inspected).
    """
    return [
        (found["Id"], (found.get("Names") or [found["Id"]])[0].lstrip("/"))
        for found in client.api.containers(all=True, filters={"label": label})
    ]


def leftovers(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Names of render-sim's containers and volumes that still exist (by label)."""
    containers = [name for _, name in _containers(client, RUN_LABEL)]
    volumes = [v.name for v in client.volumes.list(filters={"label": RUN_LABEL})]
    return containers, volumes


def clean(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Remove every render-sim container and volume (build caches too, by label), and only those."""
    containers, volumes = [], []
    for container_id, name in _containers(client, RUN_LABEL):
        try:
            client.api.remove_container(container_id, force=True, v=True)
            containers.append(name)
        except docker.errors.NotFound:
            continue  # its run removed it meanwhile
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: its run is removing it right now
                raise
    for label in (RUN_LABEL, CACHE_LABEL):
        for volume in client.volumes.list(filters={"label": label}):
            try:
                volume.remove(force=True)
                volumes.append(volume.name)
            except docker.errors.APIError:
                continue
    return containers, volumes


# -- Render's build cache -----------------------------------------------------------------------


def cache_volume_name(key: str) -> str:
    """The build-cache volume of one service and Python (`key` says which; see plan.cache_key)."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"render-sim-cache-{digest}"


def prepare_cache(
    client: docker.DockerClient, name: str, key: str, *, clear: bool = False
) -> tuple[str, bool]:
    """Make sure the cache volume `name` exists (emptied first when `clear`).

    Returns the name and whether it already held a cache (Render: `==> Downloading cache...`).
    """
    existed = False
    try:
        volume = client.volumes.get(name)
        existed = True
        if clear:
            volume.remove(force=True)  # fails while another build uses it: DockerException
            existed = False
    except docker.errors.NotFound:
        pass
    if not existed:
        client.volumes.create(name=name, labels={LABEL: "1", CACHE_LABEL: key})
    return name, existed


def cache_volumes(client: docker.DockerClient) -> list[docker.models.volumes.Volume]:
    """render-sim's build-cache volumes."""
    return list(client.volumes.list(filters={"label": CACHE_LABEL}))

"""The container engine: one object owns a build container's whole life.

`BuildContainer` is shaped like Render's build machine and like cibuildwheel's `OCIContainer`:
it creates a uniquely named container whose PID 1 idles, runs each command by exec (so the
container outlives the command and its cgroup can be read afterwards: OOM is read from the
cgroup's `oom_kill` counter, not guessed from exit code 137), and in `__exit__` always removes
the container and its volumes, whatever happened (success, failure, timeout, Ctrl-C).

Filesystem, as on Render: the root filesystem is read-only; `/opt/render` (HOME and
`/opt/render/project`) and `/tmp` are writable volumes on disk (not tmpfs: tmpfs counts against
the memory limit and would turn a big download into a false out-of-memory).
"""

from __future__ import annotations

import contextlib
import queue
import shlex
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import docker
import docker.errors
from docker.types import Mount

from simulator.errors import DockerUnavailableError

LABEL = "render-sim"
# Only what a BuildContainer creates carries a run id: images carry `render-sim` too, and a
# container a user starts from a render-sim image inherits that label, so clean() must not use it.
RUN_LABEL = "render-sim.run"
MIN_API_VERSION = (1, 41)  # Docker 20.10
RENDER_HOME = "/opt/render"
PROJECT_DIR = "/opt/render/project"
SRC_DIR = "/opt/render/project/src"


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
    network: bool = True
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        self.name = f"render-sim-{self.run_id}"
        self._container: docker.models.containers.Container | None = None
        self._volumes: list[str] = []
        self._oom_baseline = 0

    # -- life ---------------------------------------------------------------------------------
    def __enter__(self) -> BuildContainer:
        labels = {LABEL: "1", RUN_LABEL: self.run_id, **self.labels}
        try:
            mounts = []
            for target, suffix in ((RENDER_HOME, "render"), ("/tmp", "tmp")):
                volume = self.client.volumes.create(name=f"{self.name}-{suffix}", labels=labels)
                self._volumes.append(volume.name)
                mounts.append(Mount(target=target, source=volume.name, type="volume"))
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
                network_disabled=not self.network,
                working_dir=SRC_DIR,
            )
            self._container.start()
            self._oom_baseline = self._cgroup_oom_kills()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.keep:
            self.remove()

    def remove(self) -> None:
        """Remove the container and its volumes; safe to call twice, never raises."""
        if self._container is not None:
            with contextlib.suppress(docker.errors.DockerException):  # already gone, or engine down
                self._container.remove(force=True, v=True)
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
        self._volumes = []

    @property
    def container(self) -> docker.models.containers.Container:
        if self._container is None:
            raise RuntimeError("BuildContainer used outside its `with` block")
        return self._container

    # -- verbs --------------------------------------------------------------------------------
    def copy_into(self, tar_bytes: bytes, dest: str) -> None:
        """Unpack a tar archive at `dest` (which must be on a writable volume)."""
        if not self.container.put_archive(dest, tar_bytes):
            raise RuntimeError(f"copying files into {dest} failed")

    def call(
        self, argv: list[str], env: Mapping[str, str] | None = None, workdir: str = SRC_DIR
    ) -> tuple[int, str]:
        """Run a short command to completion; returns (exit code, combined output)."""
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

        The total time limit and the no-output watchdog are enforced here: past either, the
        container is killed (the only way to stop an exec'd process tree, including one that
        ignores SIGTERM). OOM kills and peak memory are read from the cgroup afterwards.
        """
        # env -i: the image's own ENV (python:slim's PYTHON_VERSION, GPG_KEY, ...) must not leak in.
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", script]
        api = self.client.api
        exec_id = api.exec_create(self.container.id, argv, workdir=workdir, tty=False)["Id"]
        chunks: queue.Queue[bytes | None] = queue.Queue()

        def pump() -> None:
            try:
                for chunk in api.exec_start(exec_id, stream=True, demux=False):
                    chunks.put(chunk)
            except (docker.errors.DockerException, OSError):
                pass  # the container was killed (timeout) or the engine went away
            finally:
                chunks.put(None)

        reader = threading.Thread(target=pump, name=f"{self.name}-output", daemon=True)
        start = time.monotonic()
        last_output = start
        result = ExecResult(exit_code=None, duration_s=0.0)
        decoder = _LineDecoder(on_output)
        reader.start()
        try:
            while True:
                now = time.monotonic()
                deadline = start + self.limits.timeout_s
                if self.limits.idle_timeout_s:
                    deadline = min(deadline, last_output + self.limits.idle_timeout_s)
                try:
                    chunk = chunks.get(timeout=max(0.05, min(1.0, deadline - now)))
                except queue.Empty:
                    now = time.monotonic()
                    if now - start >= self.limits.timeout_s:
                        result.timed_out = True
                    elif (
                        self.limits.idle_timeout_s
                        and now - last_output >= self.limits.idle_timeout_s
                    ):
                        result.idle_out = True
                    if result.timed_out or result.idle_out:
                        self._kill()
                        break
                    continue
                if chunk is None:
                    break
                last_output = time.monotonic()
                decoder.feed(chunk)
        except KeyboardInterrupt:
            result.interrupted = True
            self._kill()
            raise
        finally:
            decoder.close()
            result.duration_s = time.monotonic() - start
        if not (result.timed_out or result.idle_out):
            result.exit_code = api.exec_inspect(exec_id).get("ExitCode")
            result.oom_kills = max(0, self._cgroup_oom_kills() - self._oom_baseline)
            result.peak_memory_bytes = self._cgroup_peak_memory()
            self._oom_baseline += result.oom_kills
            if self._container_oom_killed():
                result.oom_kills = max(result.oom_kills, 1)
        return result

    # -- cgroup -------------------------------------------------------------------------------
    def _kill(self) -> None:
        with contextlib.suppress(docker.errors.DockerException):
            self.container.kill()

    def _container_oom_killed(self) -> bool:
        try:
            self.container.reload()
        except docker.errors.DockerException:
            return False
        return bool(self.container.attrs.get("State", {}).get("OOMKilled"))

    def _cgroup_read(self, *paths: str) -> str:
        script = " || ".join(f"cat {shlex.quote(p)} 2>/dev/null" for p in paths)
        try:
            code, out = self.call(["sh", "-c", script], workdir="/")
        except docker.errors.DockerException:
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


def leftovers(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Names of render-sim's containers and volumes that still exist (by label)."""
    containers = [c.name for c in client.containers.list(all=True, filters={"label": RUN_LABEL})]
    volumes = [v.name for v in client.volumes.list(filters={"label": RUN_LABEL})]
    return containers, volumes


def clean(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Remove every render-sim container and volume (by label), and only those."""
    containers, volumes = [], []
    for container in client.containers.list(all=True, filters={"label": RUN_LABEL}):
        container.remove(force=True, v=True)
        containers.append(container.name)
    for volume in client.volumes.list(filters={"label": RUN_LABEL}):
        try:
            volume.remove(force=True)
            volumes.append(volume.name)
        except docker.errors.APIError:
            continue
    return containers, volumes

"""The build container's sandbox: what the build may do, and render-sim's watcher beside it.

The build container holds only what a build needs (see `BuildContainer`): no capabilities
beyond `BUILD_CAPABILITIES`, `no-new-privileges`, at most `PIDS_LIMIT` processes, PID 1 ending it
at its deadline (deadline_init.py). What must hold *against* the build runs in a second
container of render-sim's own, the *watcher*, which the build cannot reach (its own PID and
mount namespaces):

- it shares the build's network namespace and holds CAP_NET_ADMIN there, to install the reject
  routes that keep the build off the host's own services (host_routes.py) before the build's
  command starts; the build, without CAP_NET_ADMIN, cannot remove them;
- it mounts the build's writable volumes read-only, with CAP_DAC_READ_SEARCH, to measure the
  writable space (`du`), which a build cannot hide from it by removing a directory's
  permissions. Docker's local volumes have no size limit unless the engine's data root is xfs
  with project quotas (plan/engine_limits.py); so `DiskWatch` measures them while
  the build runs and the build is stopped past the limit, as Render cancels a build whose disk
  usage exceeds 16 GB.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.types import Mount

from simulator.build.engine import ENGINE_ERRORS
from simulator.plan.engine_limits import engine_is_local
from simulator.plan.machine import MAX_MEASURE_S, MIN_MEASURE_S
from simulator.units import size_text

# What a build needs as root in its container: none. pip, uv, Poetry, cargo, gcc and make only
# create and change files the build itself owns (the checkout is copied in owned by root, the
# volumes are root's), which needs no capability; the hermetic scenarios (pip, uv, Poetry,
# maturin and cargo, a C extension) pass with all of them dropped.
BUILD_CAPABILITIES: tuple[str, ...] = ()
WATCHER_CAPABILITIES = ("NET_ADMIN", "DAC_READ_SEARCH")
WATCHER_PIDS_LIMIT = 64
WATCHER_MEMORY = 256 * 1024**2
WATCH_DIR = "/watch"  # where the watcher mounts the build's volumes (read-only)
# Disk measuring: a build writes at most this fast (a fast local SSD); measures come sooner as
# the writable space nears its limit (within plan.machine's MIN_MEASURE_S to MAX_MEASURE_S), and
# never more often than five times as long as a measure takes, so `du` on a big tree costs the
# build little.
WRITE_RATE = 500 * 1000**2


def _in_container_program(name: str) -> str:
    return (Path(__file__).resolve().parent / name).read_text(encoding="utf-8")


def init_command(deadline_s: float) -> list[str]:
    """PID 1 for a container of render-sim: idles, reaps, exits after `deadline_s` (0: never).

    The image's `python3`, else the Python at Render's path (every build image has one).
    """
    finder = (
        "for p in python3 /opt/render/project/python/*/bin/python3; do "
        'command -v "$p" >/dev/null && exec "$p" -c "$0" "$@"; done; exit 127'
    )
    return ["/bin/sh", "-c", finder, _in_container_program("deadline_init.py"), f"{deadline_s:.0f}"]


def host_addresses(client: docker.DockerClient) -> list[str]:
    """IPv4 addresses that are the engine's host: every Docker network's gateway, and this
    machine's own addresses when render-sim runs where the engine does (a local socket)."""
    found: set[str] = set()
    for network in client.api.networks():
        for config in (network.get("IPAM") or {}).get("Config") or []:
            gateway = str(config.get("Gateway") or "")
            if gateway and ":" not in gateway:
                found.add(gateway.split("/")[0])
    if engine_is_local(client):
        found.update(_local_addresses())
    return sorted(a for a in found if not ipaddress.IPv4Address(a).is_loopback)[:64]


def _local_addresses() -> set[str]:
    """This machine's IPv4 addresses, from the kernel's local routing table (Linux)."""
    try:
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
    except OSError:
        return set()
    found, last = set(), ""
    for line in lines:
        text = line.strip()
        if text.startswith(("|--", "+--")):
            last = text.split()[1]
        elif text == "/32 host LOCAL" and last:
            found.add(last)
    return found


@dataclass
class Isolation:
    """What the watcher did to the build's network (host_routes.py's report)."""

    rejected: list[str] = field(default_factory=list)
    exempt: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, output: str) -> Isolation:
        data = json.loads(output.strip().splitlines()[-1])
        return cls(list(data["rejected"]), list(data["exempt"]), list(data["gaps"]))


class SandboxError(RuntimeError):
    """The watcher could not set up what the build must not undo (reported by BuildContainer)."""


def disk_event(limit: int, used: int | None) -> str:
    """The event of a build stopped for its disk, in the words of Render's other events.

    Render's exact words for this cancel are not published; the verdict signal of the
    `disk-full` rule (data/rules.yaml) matches this line.
    """
    measured = f"{size_text(used)} measured" if used is not None else "measured over the limit"
    return (
        f"Disk space usage exceeded {size_text(limit)} while building your code "
        f"({measured} in /opt/render, /tmp and the build cache): render-sim stopped the "
        "build, as Render cancels a build whose disk space usage exceeds its limit."
    )


class DiskWatch(threading.Thread):
    """Measures the build's writable space while it runs; `over` once it passes `limit` bytes."""

    def __init__(self, measure: Callable[[], int | None], limit: int, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._measure = measure
        self.limit = limit
        self.used: int | None = None
        self.over = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.monotonic()
            try:
                used = self._measure()
            except ENGINE_ERRORS:
                return  # the container is gone (killed, removed): nothing left to measure
            took = time.monotonic() - started
            if used is not None:
                self.used = used
                if used > self.limit:
                    self.over = True
                    return
                room = (self.limit - used) / WRITE_RATE
                wait = max(MIN_MEASURE_S, 5 * took, min(MAX_MEASURE_S, room))
            else:
                wait = MAX_MEASURE_S
            self._stop_event.wait(wait)

    def stop(self) -> None:
        self._stop_event.set()


class Watcher:
    """render-sim's watcher container beside one build container (see the module docstring)."""

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        name: str,
        labels: dict[str, str],
        volumes: list[tuple[str, str]],
    ) -> None:
        self.client = client
        self.image = image
        self.name = name  # known before it exists: an interrupted create is removed by name
        self.labels = labels
        self.volumes = volumes  # (volume name, its directory under WATCH_DIR)
        self.container: docker.models.containers.Container | None = None

    def start(self, build_id: str, deadline_s: float) -> None:
        """Create and start it in the network namespace of container `build_id`."""
        mounts = [
            Mount(target=f"{WATCH_DIR}/{where}", source=volume, type="volume", read_only=True)
            for volume, where in self.volumes
        ]
        self.container = self.client.containers.create(
            self.image,
            command=init_command(deadline_s),
            name=self.name,
            labels=self.labels,
            read_only=True,
            mounts=mounts,
            network_mode=f"container:{build_id}",
            cap_drop=["ALL"],
            cap_add=list(WATCHER_CAPABILITIES),
            security_opt=["no-new-privileges"],
            pids_limit=WATCHER_PIDS_LIMIT,
            mem_limit=WATCHER_MEMORY,
            memswap_limit=WATCHER_MEMORY,
            init=False,
            working_dir="/",
        )
        self.container.start()

    def _exec(self, argv: list[str]) -> tuple[int, str]:
        if self.container is None:
            raise SandboxError("the watcher container is not running")
        result = self.container.exec_run(argv, workdir="/", demux=False)
        return result.exit_code, (result.output or b"").decode(errors="replace")

    def isolate(self, addresses: list[str]) -> Isolation:
        """Install the reject routes in the build's network namespace (host_routes.py)."""
        code, output = self._exec(
            ["python3", "-c", _in_container_program("host_routes.py"), *addresses]
        )
        try:
            if code != 0:
                raise ValueError(output.strip()[-300:])
            return Isolation.parse(output)
        except (ValueError, KeyError, IndexError) as error:
            raise SandboxError(
                f"the routes that keep the build off the host could not be installed "
                f"(exit {code}): {error}"
            ) from None

    def measure(self) -> int | None:
        """Bytes the build's writable volumes take on disk (allocated blocks, hard links once)."""
        dirs = [f"{WATCH_DIR}/{where}" for _, where in self.volumes]
        _, output = self._exec(["du", "-s", "-x", "-B1", *dirs])
        # "SIZE<tab>DIR" per directory; du also complains (exit 1) about a file the build
        # removed while it counted, and still prints the totals
        sizes = [
            int(parts[0])
            for parts in (line.split("\t") for line in output.splitlines())
            if len(parts) == 2 and parts[0].isdigit() and parts[1] in dirs
        ]
        return sum(sizes) if len(sizes) == len(dirs) else None

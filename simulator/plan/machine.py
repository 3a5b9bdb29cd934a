"""Render's build machine as the plan describes it: its paths and its limits.

The plan decides them; the build stage (`build.container.BuildContainer`) enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.render import facts

_RENDER = facts.platform()  # data/render_platform.yaml, with its sources

RENDER_HOME = "/opt/render"
PROJECT_DIR = "/opt/render/project"
SRC_DIR = "/opt/render/project/src"
CACHE_DIR = "/opt/render/.cache"  # pip's and uv's caches (HOME is /opt/render)

# Processes and threads (the pids cgroup counts both) of one build. A fork bomb otherwise takes
# the host's whole PID space (kernel.pid_max is 32768 on many hosts) and every process on it
# stalls. The hermetic scenarios (pip, uv, Poetry, maturin with cargo and rustc on 2 CPUs) peak
# at 20 (sampled every 50 ms); a tool's thread pool can be far larger (uv's blocking pool may
# reach 512 threads), so the limit leaves room for that and more: 4096, twice Podman's default
# container limit (2048), an eighth of a 32768 PID space.
PIDS_LIMIT = 4096
# Where the engine cannot bound the writable space, render-sim measures it this often (sooner
# as it nears the limit; build.sandbox.DiskWatch).
MIN_MEASURE_S = 1.0
MAX_MEASURE_S = 15.0


@dataclass(frozen=True)
class Limits:
    """Render's build pipeline by default: 2 CPU, 8 GB, 120 minutes (Starter tier), 16 GB of
    disk (`data/render_platform.yaml`)."""

    memory_bytes: int = _RENDER.memory_bytes
    cpus: float = _RENDER.cpus
    timeout_s: float = _RENDER.timeout_s
    idle_timeout_s: float = 30 * 60  # no output for this long: stopped (0 = never)
    disk_bytes: int = _RENDER.disk_bytes  # the writable space: /opt/render, /tmp, the cache

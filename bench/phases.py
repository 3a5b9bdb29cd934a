"""Where a simulation's time goes: self time per phase, measured on render-sim's real code path.

`PhaseProfiler` wraps the functions each phase runs (render-sim's own and the Docker SDK's) for
the length of a `with` block, and records each call's *self* time: a wrapped call inside another
(the cgroup reads inside the build command's run) is charged to its own phase, not twice. What no
wrapped function covers (log writing, the result) is the rest: total minus the phases.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from docker.models.containers import Container, ContainerCollection
from docker.models.volumes import VolumeCollection

from simulator.build import container, container_state, sandbox, simulation
from simulator.config import source
from simulator.plan import build_plan as plan

# (owner, attribute, phase): the order is the order a simulation runs them in.
PHASES: tuple[tuple[Any, str, str], ...] = (
    (plan, "crates_io_reachable", "plan: crates.io probe"),
    (simulation, "reap_orphans", "orphans of dead runs: look up"),
    (simulation, "_prepare_cache", "build-cache volume"),
    (VolumeCollection, "create", "volumes: create"),
    (ContainerCollection, "create", "container: create (fills /opt/render from the image)"),
    (Container, "start", "container: start"),
    (source, "archive", "source: archive"),
    (container.BuildContainer, "copy_into", "source: copy into the container"),
    (simulation, "_create_venv", "venv"),
    (sandbox.Watcher, "start", "watcher: create and start"),
    (sandbox.Watcher, "isolate", "watcher: routes that keep the build off the host"),
    (container.BuildContainer, "run", "build command: exec and stream"),
    (sandbox.Watcher, "measure", "watcher: disk measures"),
    (container_state, "_cgroup_read", "cgroup reads (OOM baseline, OOM, peak)"),
    (container_state, "oom_killed", "container: inspect (OOMKilled)"),
    (container.BuildContainer, "remove", "removal: containers and volumes"),
)


class PhaseProfiler:
    """Self time per phase of everything run inside `with profiler.active():`."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self._children: list[float] = []  # a stack: time spent in wrapped callees
        self.missing: list[str] = []  # phases whose function was not found

    def wrap(self, function: Callable[..., Any], phase: str) -> Callable[..., Any]:
        """`function`, its calls timed as `phase`."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._children.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = self._children.pop()
                self.calls[phase].append(elapsed - inner)
                if self._children:
                    self._children[-1] += elapsed

        return timed

    @contextmanager
    def active(self) -> Iterator[PhaseProfiler]:
        """Wrap every phase's function for the block; the originals come back afterwards."""
        saved = []
        try:
            for owner, name, phase in PHASES:
                original = owner.__dict__.get(name)
                if original is None:  # renamed or gone: the profile says so, and goes on
                    self.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
                    continue
                saved.append((owner, name, original))
                setattr(owner, name, self.wrap(original, phase))
            yield self
        finally:
            for owner, name, original in reversed(saved):
                setattr(owner, name, original)

    def totals(self) -> dict[str, float]:
        """Seconds per phase (all its calls): PHASES in their order, then any other wrapped."""
        order = [phase for _, _, phase in PHASES] + list(self.calls)
        return {
            phase: sum(self.calls[phase]) for phase in dict.fromkeys(order) if phase in self.calls
        }

    def reset(self) -> None:
        self.calls.clear()
        self.missing.clear()


def median_profile(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each phase over several runs (a phase missing from a run counts 0)."""
    phases = list(dict.fromkeys(p for run in runs for p in run))
    return {p: round(statistics.median(run.get(p, 0.0) for run in runs), 3) for p in phases}

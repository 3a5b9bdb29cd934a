"""The build images of a scenario run, on each engine it spreads over.

Each distinct build image is made once per run: the first scenario that needs it finds it on an
engine that already has it (its own first), or builds it on its own engine; the scenarios
needing it meanwhile wait. Every other engine that needs it then gets a copy through the SDK
(`simulator.build.shared_images`), never a build of its own, so all engines build with the very
same image and report the same results.

A failure is remembered too, so ten scenarios on a Python without an image fail at once with the
same error instead of trying ten times. Bases of one Python are resolved one at a time
(bootstrapping one stand-in twice at once would only waste minutes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simulator.build.endpoints import Engine
from simulator.build.shared_images import copy_images, find_build_image
from simulator.build.simulation import build_image
from simulator.errors import RenderSimError
from simulator.plan import base_images
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, ServicePlan
from simulator.scenarios.manifest import Scenario

Image = tuple[str, base_images.BaseImage]  # (build image tag, its base)


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    value: Image | None = None
    origin: Engine | None = None  # the engine that had or built it
    error: RenderSimError | None = None
    present: set[str] = field(default_factory=set)  # names of the engines that have it
    copying: dict[str, threading.Lock] = field(default_factory=dict)


class EngineImages:
    """Build images for the scenarios of one run, on each of its engines (module docstring)."""

    def __init__(
        self,
        engines: Sequence[Engine],
        *,
        base_image: str | None,
        pull: bool,
        progress: Callable[[str], None],
    ) -> None:
        self._engines = list(engines)
        self._base_image = base_image
        self._pull = pull
        self._progress = progress
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._bases: dict[str, threading.Lock] = {}

    def get(self, engine: Engine, plan: BuildPlan, service: ServicePlan) -> Image:
        """The build image of `service` on `engine`, made or copied there if need be."""
        python = service.python.version
        key = (python, self._base_image, service.poetry_version, service.uv_version, plan.ca_cert)
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            base_lock = self._bases.setdefault(python, threading.Lock())
            copy_lock = entry.copying.setdefault(engine.name, threading.Lock())
        with entry.lock:
            if entry.value is None and entry.error is None:
                with base_lock:
                    try:
                        self._first(entry, engine, plan, service)
                    except RenderSimError as error:
                        entry.error = error
            if entry.error is not None:
                raise entry.error
            value, origin = entry.value, entry.origin
            assert value is not None and origin is not None
        if engine.name in entry.present:
            return value
        with copy_lock:  # one copy per engine; copies to different engines run side by side
            if engine.name not in entry.present:
                tag, base = value
                copy_images(
                    origin.client,
                    engine.client,
                    [base.ref, tag],
                    progress=lambda m: self._progress(f"{engine.name}: {m}"),
                )
                entry.present.add(engine.name)
        return value

    def _first(self, entry: _Entry, engine: Engine, plan: BuildPlan, service: ServicePlan) -> None:
        """Find the image on an engine that has it (the asking one first), else build it on the
        asking engine."""
        others = [e for e in self._engines if e.name != engine.name]
        if others:  # with one engine, build_image below finds it the same way
            for candidate in [engine, *others]:
                found = find_build_image(
                    candidate.client, plan, service, base_image=self._base_image
                )
                if found is not None:
                    entry.value, entry.origin = found, candidate
                    entry.present.add(candidate.name)
                    return
        python = service.python.version
        prefix = f"{engine.name}: " if others else ""
        entry.value = build_image(
            engine.client,
            plan,
            service,
            base_image=self._base_image,
            pull=self._pull,
            progress=lambda m: self._progress(f"{prefix}image for Python {python}: {m}"),
        )
        entry.origin = engine
        entry.present.add(engine.name)


def prepare_images(
    engines: Sequence[Engine],
    scenarios: Sequence[Scenario],
    *,
    base_image: str | None = None,
    pull: bool = True,
    progress: Callable[[str], None] = lambda _message: None,
) -> list[Image]:
    """Make the build image of every scenario on every engine, running nothing: each distinct
    image once (`scenarios images`, before `docker save` shares them with other runners)."""
    made = EngineImages(engines, base_image=base_image, pull=pull, progress=progress)
    found: dict[str, Image] = {}
    for scenario in scenarios:
        options = replace(scenario.options, base_image=base_image or scenario.options.base_image)
        plan = make_plan(scenario.path, options, client=engines[0].client)
        for service in plan.services:
            for engine in engines:
                tag, base = made.get(engine, plan, service)
                found[tag] = (tag, base)
    return [found[tag] for tag in sorted(found)]

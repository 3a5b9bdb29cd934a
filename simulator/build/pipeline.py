"""The one pipeline of a build: image -> container run -> build log -> diagnosis.

`run_build` is what `render-sim simulate`, `render-sim scenarios run` and `--verify-fix` (for
each fix it builds) all call with a plan's service, so a change to what a build run is is made
here once. The callers differ only in what they pass: where the output goes (`echo`), how the
image is found (`images`: the scenario runner shares one per Python between its workers), what
the user sees while it waits (`spinner`), and the index the diagnosis checks its fixes with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import docker

from simulator.build import images as images_mod
from simulator.build.buildlog import Echo
from simulator.build.simulation import BuildResult, build_image, diagnose, simulate_service
from simulator.build.timeline import Timeline
from simulator.index.client import PackageIndex
from simulator.plan.models import BuildPlan, ServicePlan

Progress = Callable[[str], None]
#: A spinner while the user waits: entered with a message, it yields a function that updates it.
Spinner = Callable[[str], AbstractContextManager[Progress]]
#: Finds the build image of a service: (image tag, the base it was built on).
ImageFinder = Callable[[BuildPlan, ServicePlan, Progress], tuple[str, images_mod.BaseImage]]


def _ignore(_message: str) -> None:
    return None


def _no_echo(_kind: str, _line: str) -> None:
    return None


@contextlib.contextmanager
def no_spinner(_message: str) -> Iterator[Progress]:
    """The spinner of callers with nobody watching (scenario workers, tests)."""
    yield _ignore


@dataclass(frozen=True)
class RunOptions:
    """How a build runs, beyond what its plan says."""

    base_image: str | None = None  # --base-image
    pull: bool = True  # False: --no-pull
    keep: bool = False  # --keep: leave the container for inspection
    # local volume driver options per mount point (a small /tmp, ...), see `BuildContainer`
    volume_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


#: The options of a plain `render-sim simulate`.
DEFAULT_RUN = RunOptions()


def default_images(client: docker.DockerClient, options: RunOptions) -> ImageFinder:
    """Build (or find) the image of each service as `simulate` does."""

    def find(
        plan: BuildPlan, service: ServicePlan, progress: Progress
    ) -> tuple[str, images_mod.BaseImage]:
        return build_image(
            client,
            plan,
            service,
            base_image=options.base_image,
            pull=options.pull,
            progress=progress,
        )

    return find


def run_build(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    *,
    index: PackageIndex | None,
    options: RunOptions = DEFAULT_RUN,
    echo: Echo = _no_echo,
    images: ImageFinder | None = None,
    spinner: Spinner = no_spinner,
    before_run: Callable[[], None] | None = None,
) -> BuildResult:
    """Build `service` of `plan` as Render would and, when it fails, diagnose it (its fixes
    checked with `index`; None: not checked).

    `before_run` is called once the image is ready, just before the build starts (the verify
    loop announces each attempt there). Raises `ImageUnavailableError` when no image can be had
    for the service's Python, and the engine's errors as `BuildContainer` does.
    """
    find = images or default_images(client, options)
    timeline = Timeline()  # the phases, from the image to the diagnosis (the HTML report's)
    with spinner("preparing the build image…") as update, timeline.phase("image"):
        image, base = find(plan, service, lambda message: update(f"image: {message}"))
    if before_run is not None:
        before_run()
    result = simulate_service(
        client,
        plan,
        service,
        image=image,
        base=base,
        echo=echo,
        keep=options.keep,
        volume_options=options.volume_options,
        timeline=timeline,
    )
    if not result.succeeded:
        with spinner("diagnosing…"):
            result.diagnosis = diagnose(plan, service, result, index)
    return result

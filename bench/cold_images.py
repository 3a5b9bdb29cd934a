"""Cold vs warm image time per Python: what the first simulation of a Python costs.

- warm: the images are present (the shared `render-sim/...` ones): the time to find them;
- cold: no image at all. Measured under a namespace of the bench's own
  (`RENDER_SIM_IMAGE_NAMESPACE=render-sim-bench-<id>`), so the stand-in base is bootstrapped
  from Debian and the build layer built from scratch without touching anyone's images; the
  bench's images are removed afterwards, whatever happens.

Bases are offline stand-ins (`pull=False`), as on a machine without a container registry.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors

from bench.common import PYTHONS, no_progress, summary, write_repo
from bench.phases import PhaseProfiler
from simulator.build import endpoints, image_build, images
from simulator.build.simulation import build_image
from simulator.plan import base_images
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options

WARM_RUNS = 3


@contextmanager
def image_namespace(name: str) -> Iterator[None]:
    """Tag render-sim's images under `name` for the block (RENDER_SIM_IMAGE_NAMESPACE)."""
    before = os.environ.get(base_images.NAMESPACE_VAR)
    os.environ[base_images.NAMESPACE_VAR] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ[base_images.NAMESPACE_VAR]
        else:
            os.environ[base_images.NAMESPACE_VAR] = before


def _remove_namespace_images(client: docker.DockerClient, namespace: str) -> list[str]:
    """Remove every image tagged under `namespace` (the bench's own), build images first."""
    tags = [
        tag
        for image in client.images.list()
        for tag in image.tags
        if tag.startswith(f"{namespace}/")
    ]
    removed = []
    for tag in sorted(tags, key=lambda t: "/python-standin:" in t):  # a base after its builds
        try:
            client.images.remove(tag)
            removed.append(tag)
        except docker.errors.ImageNotFound:
            continue
    return removed


def _image_time(
    client: docker.DockerClient, repo: Path, version: str
) -> tuple[float, dict[str, float], str]:
    """Seconds to get the build image for `version`, split into base and layer, and its tag."""
    profiler = PhaseProfiler()
    plan = make_plan(repo, Options(python=version, build_command="true"), client=client)
    started = time.perf_counter()
    with _timing(profiler):
        tag, _ = build_image(client, plan, plan.services[0], pull=False, progress=no_progress)
    elapsed = time.perf_counter() - started
    split = {phase: round(seconds, 1) for phase, seconds in profiler.totals().items()}
    return elapsed, split, tag


@contextmanager
def _timing(profiler: PhaseProfiler) -> Iterator[None]:
    """Time the base (find/bootstrap) and the layer build apart."""
    saved = images.resolve_base, image_build.ensure_image
    images.resolve_base = profiler.wrap(saved[0], "base: find or bootstrap (mmdebstrap)")
    image_build.ensure_image = profiler.wrap(saved[1], "build layer: find or docker build")
    try:
        yield
    finally:
        images.resolve_base, image_build.ensure_image = saved


def bench_images(workdir: Path) -> dict[str, object]:
    """Per Python: cold (no image: bootstrap + layer) and warm (found) image time."""
    client = endpoints.connect()
    repo = write_repo(workdir / "images", {"main.py": "print('hello')\n"})
    out: dict[str, object] = {}
    for version in PYTHONS:  # warm first: the shared images, built now if this layer is new
        first, split, tag = _image_time(client, repo, version)
        warm = [_image_time(client, repo, version)[0] for _ in range(WARM_RUNS)]
        out[version] = {
            "warm_s": summary(warm, 3),
            "shared_image": tag,
            "shared_image_first_call_s": round(first, 1),
        }
    namespace = f"render-sim-bench-{uuid.uuid4().hex[:8]}"
    try:
        with image_namespace(namespace):
            for version in PYTHONS:
                seconds, split, tag = _image_time(client, repo, version)
                entry = out[version]
                assert isinstance(entry, dict)
                entry.update({"cold_s": round(seconds, 1), "cold_split_s": split})
    finally:
        removed = _remove_namespace_images(client, namespace)
    return {"namespace": namespace, "removed_afterwards": removed, "pythons": out}

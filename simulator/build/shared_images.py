"""Build images on several engines: found without building, copied from engine to engine.

A run spread over several Docker engines needs each build image on each of them. An engine that
lacks one gets a copy, through the SDK, from an engine that has it (`docker save` streamed into
`docker load`: the same image ID, so the same content-hashed tag), rather than a second build:
no shared filesystem, no registry, and every engine of the run builds with the very same
image (a stand-in bootstrapped twice can differ, Debian's archive moving on in between).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import docker
import docker.errors

from simulator.build import image_build
from simulator.errors import ImageUnavailableError
from simulator.plan import base_images
from simulator.plan.models import BuildPlan, ServicePlan

Progress = Callable[[str], None]
CHUNK = 1 << 20


def _quiet(_: str) -> None:
    """The default progress callback: say nothing."""


def find_build_image(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    *,
    base_image: str | None = None,
) -> tuple[str, base_images.BaseImage] | None:
    """The build image `build_image` would give `service` on this engine, if the engine already
    has it (and its base); None when it would have to pull, bootstrap or build."""
    base = base_images.find_base(client, service.python.version, base_image)
    if base is None:
        return None
    spec = image_build.ImageSpec(
        render_python=service.python.version,
        base=base,
        poetry_version=service.poetry_version,
        uv_version=service.uv_version,
        ca_bundle=plan.ca_cert.read_bytes() if plan.ca_cert else b"",
    )
    try:
        client.images.get(spec.tag)
    except docker.errors.ImageNotFound:
        return None
    return spec.tag, base


def copy_images(
    source: docker.DockerClient,
    target: docker.DockerClient,
    refs: Sequence[str],
    *,
    progress: Progress = _quiet,
) -> list[str]:
    """Copy the images `refs` from engine `source` to engine `target`, the refs `target` lacks
    (or holds as another image); returns those copied. Each keeps its ID and tag."""
    copied = []
    for ref in dict.fromkeys(refs):
        image = source.images.get(ref)
        try:
            if target.images.get(ref).id == image.id:
                continue
        except docker.errors.ImageNotFound:
            pass
        size_mb = int(image.attrs.get("Size", 0)) // 1_000_000
        progress(f"copying {ref} ({size_mb} MB) from another engine of the run")
        try:
            target.images.load(image.save(chunk_size=CHUNK, named=ref))
            same = target.images.get(ref).id == image.id
        except docker.errors.DockerException as error:
            raise ImageUnavailableError(
                f"copying {ref} to another Docker engine failed: {str(error).splitlines()[0][:200]}",
                hint="make the image on that engine first (render-sim images build, run there), "
                "or check its free disk space",
            ) from None
        if not same:
            raise ImageUnavailableError(
                f"{ref} was copied to another Docker engine but arrived as a different image",
                hint="remove the image there and run again",
            )
        copied.append(ref)
    return copied

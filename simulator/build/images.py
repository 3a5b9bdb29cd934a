"""Build images: a Render-shaped layer on python:X.Y.Z-slim-bookworm, or on an offline stand-in.

The base is chosen in this order (the first that works wins; `plan.base_images` says which
without building anything):
1. `--base-image` when the user gives one;
2. `python:X.Y.Z-slim-bookworm` already present locally (a local image is used as is: this is
   what makes offline and air-gapped use work);
3. the same pulled from the registry;
4. a stand-in bootstrapped from Debian's packages with mmdebstrap (see data/standin_suites.yaml),
   tagged `render-sim/python-standin:...` (see the namespace below);
otherwise `ImageUnavailableError` naming the ways out.

The build image itself (Render's layer on the base) is made by image_build.py.

Image names and tags come from `plan.base_images` (`RENDER_SIM_IMAGE_NAMESPACE`).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import as_file
from pathlib import Path

import docker
import docker.errors

from simulator import locations
from simulator.errors import ImageUnavailableError
from simulator.plan.base_images import (
    LABEL,
    RENDER_DEBIAN,
    RENDER_GLIBC,
    BaseImage,
    Progress,
    find_base,
    minor_of,
    no_offline_python,
    official_base,
    parse_facts,
    quiet,
    standin_suites,
    standin_tag,
)


def resolve_base(
    client: docker.DockerClient,
    render_python: str,
    *,
    base_image: str | None = None,
    pull: bool = True,
    progress: Progress = quiet,
) -> BaseImage:
    """Find, pull or bootstrap the base for `render_python` (see the module docstring)."""
    found = find_base(client, render_python, base_image)
    if found:
        return found
    ref = base_image or official_base(render_python)
    if pull:
        progress(f"pulling {ref}")
        try:
            client.images.pull(ref)
            image_id = client.images.get(ref).id
        except docker.errors.DockerException as exc:
            progress(f"could not pull {ref}: {str(exc).splitlines()[0][:160]}")
        else:
            if base_image:
                return BaseImage(ref, "custom", image_id)
            return BaseImage(ref, "official", image_id, render_python, RENDER_GLIBC, RENDER_DEBIAN)
    if base_image:
        raise ImageUnavailableError(
            f"base image {base_image} is not on this machine and could not be pulled",
            hint="load it first (docker load / docker pull), or leave out --base-image",
        )
    minor = minor_of(render_python)
    if minor not in standin_suites().pythons:
        raise no_offline_python(render_python)
    return bootstrap_standin(client, minor, progress=progress)


def bootstrap_standin(
    client: docker.DockerClient, minor: str, *, progress: Progress = quiet
) -> BaseImage:
    """Bootstrap a stand-in base for Python `minor` from Debian with mmdebstrap, and import it."""
    if shutil.which("mmdebstrap") is None:
        raise ImageUnavailableError(
            f"no registry answered and mmdebstrap is not installed to bootstrap Python {minor}",
            hint="apt-get install mmdebstrap (Debian/Ubuntu), or give Docker registry access",
        )
    suites = standin_suites()
    suite = suites.pythons[minor]
    tag = standin_tag(minor)
    packages = [f"python{minor}", f"python{minor}-venv", f"libpython{minor}-dev", "ca-certificates"]
    log_path = locations.subdir("image-builds") / f"{tag.replace('/', '_').replace(':', '_')}.log"
    with (
        tempfile.TemporaryDirectory(prefix="render-sim-standin-") as tmp,
        as_file(locations.image_file("standin-hook.sh")) as hook,
    ):
        rootfs_tar = Path(tmp) / "rootfs.tar"
        facts_file = Path(tmp) / "facts"
        command = [
            "mmdebstrap",
            "--variant=minbase",
            f"--include={','.join(packages)}",
            f'--customize-hook=bash {shlex.quote(str(hook))} "$1" {minor} {shlex.quote(str(facts_file))}',
        ]
        if not suites.check_valid_until[suite]:
            command.append('--aptopt=Acquire::Check-Valid-Until "false"')
        command += [suite, str(rootfs_tar), suites.mirror]
        progress(f"bootstrapping a Python {minor} stand-in from Debian {suite} (mmdebstrap)")
        _run_logged(command, log_path, progress)
        facts = parse_facts(facts_file.read_text())
        labels = {
            LABEL: "1",
            "render-sim.kind": "standin",
            "render-sim.suite": suite,
            "render-sim.python": facts.get("python", ""),
            "render-sim.glibc": facts.get("glibc", ""),
        }
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["python3"]',
            *(f'LABEL "{k}"="{v}"' for k, v in labels.items()),
        ]
        progress(f"importing the stand-in as {tag}")
        repo, _, version = tag.partition(":")
        client.api.import_image_from_file(
            str(rootfs_tar), repository=repo, tag=version, changes=changes
        )
    image_id = client.images.get(tag).id
    return BaseImage(
        tag, "standin", image_id, labels["render-sim.python"], labels["render-sim.glibc"], suite
    )


def _run_logged(command: list[str], log_path: Path, progress: Progress) -> None:
    """Run a host command, its output to `log_path`, the last line of progress to `progress`."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            log.write(line)
            tail = (tail + [line.rstrip()])[-20:]
            if line.startswith("I: "):
                progress(line[3:].strip()[:120])
        if proc.wait() != 0:
            raise ImageUnavailableError(
                f"bootstrapping the stand-in failed (exit {proc.returncode}): "
                + " | ".join(tail[-3:]),
                hint=f"full log: {log_path}",
            )


@dataclass(frozen=True)
class ImageInfo:
    tag: str
    kind: str
    render_python: str
    python: str
    size_mb: int
    created: str


def list_images(client: docker.DockerClient) -> list[ImageInfo]:
    """Every image render-sim made (by label, tagged), newest first.

    Untagged ones are not render-sim's images: layers an unfinished build left (see
    `image_build`), which inherit the labels of the stand-in they were built on.
    """
    out = []
    for image in client.images.list(filters={"label": LABEL, "dangling": False}):
        labels = image.labels or {}
        if not image.tags:
            continue
        out.append(
            ImageInfo(
                tag=image.tags[0],
                kind=labels.get("render-sim.kind", "?"),
                render_python=labels.get("render-sim.render-python", ""),
                python=labels.get("render-sim.python", ""),
                size_mb=int(image.attrs.get("Size", 0)) // 1_000_000,
                created=str(image.attrs.get("Created", ""))[:19],
            )
        )
    return sorted(out, key=lambda i: i.created, reverse=True)


def prune_images(client: docker.DockerClient, *, keep_current: Iterable[str] = ()) -> list[str]:
    """Remove render-sim's build images (and stand-ins) except the tags in `keep_current`, and the
    untagged layers unfinished builds left (by their short id)."""
    keep = set(keep_current)
    removed = []
    for image in client.images.list(filters={"label": LABEL, "dangling": True}):
        try:
            client.images.remove(image.id)  # and its untagged parents no other image uses
            removed.append(image.short_id)
        except docker.errors.APIError:
            continue  # a build is using it right now
    for info in list_images(client):
        if info.tag in keep:
            continue
        try:
            client.images.remove(info.tag, force=True)
            removed.append(info.tag)
        except docker.errors.APIError:
            continue  # in use by a running simulation: leave it
    return removed

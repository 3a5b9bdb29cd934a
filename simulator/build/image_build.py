"""The build image: Render's layer (images/render-layer.*) built on a base image.

Every image is tagged by a hash of what built it (Dockerfile, scripts, tool list, base image ID,
build arguments, CA bundle), so it is rebuilt only when one of those changes.

A build that fails or is interrupted (Ctrl-C, SIGTERM) leaves no image behind: the layers it
committed (untagged images that inherit the base's labels, so they would look like render-sim's
own) are removed, newest first; layers it reused from Docker's build cache are left to the
builds they belong to.
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from simulator import locations
from simulator.build.engine import ENGINE_ERRORS, signals_held
from simulator.errors import ImageUnavailableError
from simulator.plan.base_images import (
    LABEL,
    BaseImage,
    Progress,
    build_repo,
    image_hash,
    labels_of,
    quiet,
    tool_packages,
)

LAYER_FILES = ("render-layer.Dockerfile", "render-layer.sh")


@dataclass(frozen=True)
class ImageSpec:
    """Everything that determines a build image; its hash is the image's tag."""

    render_python: str
    base: BaseImage
    poetry_version: str
    uv_version: str = ""
    ca_bundle: bytes = b""
    packages: tuple[str, ...] = field(default_factory=tool_packages)

    def build_args(self) -> dict[str, str]:
        return {
            "BASE_IMAGE": self.base.ref,
            "RENDER_PYTHON_VERSION": self.render_python,
            "TOOL_PACKAGES": " ".join(self.packages),
            "POETRY_VERSION": self.poetry_version,
            "UV_VERSION": self.uv_version,
        }

    @property
    def key(self) -> str:
        files = [locations.image_file(name).read_bytes() for name in LAYER_FILES]
        args = sorted(self.build_args().items())
        return image_hash([*files, self.base.image_id, repr(args), self.ca_bundle])

    @property
    def tag(self) -> str:
        return f"{build_repo()}:{self.render_python}-{self.key}"


def _context(spec: ImageSpec) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in LAYER_FILES:
            data = locations.image_file(name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("ca-bundle.crt")
        info.size = len(spec.ca_bundle)
        tar.addfile(info, io.BytesIO(spec.ca_bundle))
    buffer.seek(0)
    return buffer


_STEP = re.compile(r"^Step \d+/\d+ : (.*)")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})$")  # the image a step committed (classic builder)
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")  # a RUN step's container
STOP_WAIT_S = 30.0  # how long an interrupted build is given to stop its RUN step's container


@dataclass
class _Follow:
    """What the build's stream said so far: the last lines, and the layers it committed."""

    progress: Progress
    tail: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)  # image ids, oldest first
    reused: bool = False  # the current step's image is not new (the base, the build cache)
    running: str = ""  # the container of the RUN step in progress

    def line(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        self.tail.append(text)
        del self.tail[:-20]
        step = _STEP.match(line)
        layer = _LAYER.match(line.rstrip())
        running = _RUNNING.match(line.rstrip())
        if running:
            self.running = running.group(1)
        elif step:
            # a FROM step names the base image: not the build's, never removed
            self.reused = step.group(1).upper().startswith("FROM ")
            self.progress(step.group(1)[:120])
        elif text == "---> Using cache":
            self.reused = True
        elif layer and not self.reused:
            self.committed.append(layer.group(1))
        elif text.startswith(("Setting up ", "Collecting ", "Successfully installed")):
            self.progress(text[:120])


def ensure_image(
    client: docker.DockerClient, spec: ImageSpec, *, progress: Progress = quiet
) -> str:
    """The build image for `spec`, built only when no image carries its tag yet."""
    if labels_of(client, spec.tag):
        return spec.tag
    labels = {
        LABEL: "1",
        "render-sim.kind": "build",
        "render-sim.render-python": spec.render_python,
        "render-sim.base": spec.base.ref,
        "render-sim.base-kind": spec.base.kind,
        "render-sim.python": spec.base.python,
        "render-sim.glibc": spec.base.glibc,
        "render-sim.suite": spec.base.suite,
        "render-sim.poetry": spec.poetry_version,
        "render-sim.uv": spec.uv_version,
    }
    log_path = (
        locations.subdir("image-builds") / f"{spec.tag.replace('/', '_').replace(':', '_')}.log"
    )
    progress(f"building {spec.tag} on {spec.base.ref}")
    follow = _Follow(progress)
    response = None
    with log_path.open("w") as log:
        try:
            stream = client.api.build(
                fileobj=_context(spec),
                custom_context=True,
                dockerfile=LAYER_FILES[0],
                tag=spec.tag,
                buildargs=spec.build_args(),
                labels=labels,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
            )
            response = _response_of(stream)
            for chunk in stream:
                text = _chunk_text(chunk)
                if not text:
                    continue
                log.write(text if text.endswith("\n") else text + "\n")
                for line in text.splitlines():
                    follow.line(line)
        except docker.errors.DockerException as exc:
            follow.tail.append(str(exc))
        except BaseException:
            with signals_held():
                _stop(client, response, follow)
            raise
    if not labels_of(client, spec.tag):
        remove_layers(client, follow.committed)
        raise ImageUnavailableError(
            f"building the image for Python {spec.render_python} failed: "
            + " | ".join(follow.tail[-3:]),
            hint=f"full log: {log_path}",
        )
    return spec.tag


def _chunk_text(chunk: dict[str, Any]) -> str:
    return str(chunk.get("stream") or chunk.get("error") or "")


def _response_of(stream: Any) -> Any:
    """The HTTP response docker-py's build stream reads from (None if it cannot be found).

    docker-py gives only a generator; the daemon cancels a build when its client disconnects,
    and only closing this response disconnects at once (else the socket lives as long as the
    generator, which an exception's traceback keeps alive).
    """
    frame = getattr(stream, "gi_frame", None)
    return frame.f_locals.get("response") if frame is not None else None


def _stop(client: docker.DockerClient, response: Any, follow: _Follow) -> None:
    """Stop an interrupted build: disconnect, let the daemon remove its RUN step's container
    (or remove it), then remove the layers the build committed."""
    if response is not None:
        with contextlib.suppress(Exception):  # whatever state the connection is in
            response.close()
    if follow.running:
        until = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < until:
            try:
                client.api.inspect_container(follow.running)
            except docker.errors.NotFound:
                break
            except ENGINE_ERRORS:
                return
            time.sleep(0.2)
        with contextlib.suppress(*ENGINE_ERRORS):
            client.api.remove_container(follow.running, force=True)
    remove_layers(client, follow.committed)


def remove_layers(client: docker.DockerClient, layers: list[str]) -> list[str]:
    """Remove the images an unfinished build committed, newest first; returns those removed.

    Only the given ones (noprune): their parents from the build cache stay. A tagged one is
    never removed (it is no unfinished layer); one that another image now builds on cannot be
    removed and stays too.
    """
    removed = []
    for image_id in reversed(layers):
        with contextlib.suppress(*ENGINE_ERRORS):
            if client.api.inspect_image(image_id).get("RepoTags"):
                continue
            client.images.remove(image_id, noprune=True)
            removed.append(image_id)
    return removed

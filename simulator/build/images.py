"""Build images: a Render-shaped layer on python:X.Y.Z-slim-bookworm, or on an offline stand-in.

The base is chosen in this order (the first that works wins):
1. `--base-image` when the user gives one;
2. `python:X.Y.Z-slim-bookworm` already present locally (a local image is used as is: this is
   what makes offline and air-gapped use work);
3. the same pulled from the registry;
4. a stand-in bootstrapped from Debian's packages with mmdebstrap (see data/standin_suites.yaml),
   tagged `render-sim/python-standin:...` (see the namespace below);
otherwise `ImageUnavailableError` naming the ways out.

The build image itself (Render's layer on the base) is made by image_build.py.

`RENDER_SIM_IMAGE_NAMESPACE` (default `render-sim`) names the repositories the stand-ins and
build images are tagged in: a benchmark measures a cold start under its own namespace without
touching the images everyone else uses.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import as_file
from pathlib import Path

import docker
import docker.errors
import yaml

from simulator import locations
from simulator.errors import ConfigurationError, ImageUnavailableError

Progress = Callable[[str], None]

LABEL = "render-sim"
NAMESPACE_VAR = "RENDER_SIM_IMAGE_NAMESPACE"
DEFAULT_NAMESPACE = "render-sim"
# Docker's rule for the path part of a repository name: lowercase components, / between them.
_NAMESPACE = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
RENDER_GLIBC = "2.36"  # Debian 12 bookworm, Render's build OS
RENDER_DEBIAN = "bookworm"


def quiet(_: str) -> None:
    """The default progress callback: say nothing."""


def namespace() -> str:
    """The repository namespace of render-sim's images (`$RENDER_SIM_IMAGE_NAMESPACE`)."""
    value = os.environ.get(NAMESPACE_VAR) or DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(value):
        raise ConfigurationError(
            f"{NAMESPACE_VAR}={value!r} is not a Docker repository name",
            hint="use lowercase letters, digits, '.', '_', '-' and '/' (e.g. render-sim)",
        )
    return value


def build_repo() -> str:
    """Where build images are tagged: `render-sim/build` by default."""
    return f"{namespace()}/build"


def standin_repo() -> str:
    """Where offline stand-in bases are tagged: `render-sim/python-standin` by default."""
    return f"{namespace()}/python-standin"


@dataclass(frozen=True)
class BuildTool:
    name: str
    packages: tuple[str, ...]
    installed: bool
    why: str = ""


@functools.cache
def build_tools() -> tuple[BuildTool, ...]:
    """Render's build tool list (data/render_build_tools.yaml), validated on load."""
    data = yaml.safe_load((locations.DATA_DIR / "render_build_tools.yaml").read_text())
    tools = []
    for entry in data["tools"]:
        tool = BuildTool(
            name=str(entry["name"]),
            packages=tuple(entry.get("packages") or ()),
            installed=bool(entry["installed"]),
            why=str(entry.get("why", "")),
        )
        if not tool.installed and not tool.why:
            raise ValueError(f"render_build_tools.yaml: {tool.name} is left out without a reason")
        tools.append(tool)
    return tuple(tools)


def tool_packages() -> tuple[str, ...]:
    """The Debian packages the build image installs, in a stable order."""
    return tuple(sorted({p for t in build_tools() if t.installed for p in t.packages}))


@dataclass(frozen=True)
class StandinSuites:
    mirror: str
    check_valid_until: dict[str, bool]
    pythons: dict[str, str]  # "3.14" -> "forky"


@functools.cache
def standin_suites() -> StandinSuites:
    """Which Debian suite offers which Python (data/standin_suites.yaml), validated on load."""
    data = yaml.safe_load((locations.DATA_DIR / "standin_suites.yaml").read_text())
    suites = {name: bool(v.get("check_valid_until", True)) for name, v in data["suites"].items()}
    pythons = {str(k): str(v) for k, v in data["pythons"].items()}
    for minor, suite in pythons.items():
        if suite not in suites:
            raise ValueError(f"standin_suites.yaml: Python {minor} names unknown suite {suite}")
    return StandinSuites(mirror=str(data["mirror"]), check_valid_until=suites, pythons=pythons)


def minor_of(version: str) -> str:
    """'3.14.3' -> '3.14'."""
    return ".".join(version.split(".")[:2])


def official_base(version: str) -> str:
    """The image Render's build corresponds to: python:X.Y.Z-slim-bookworm."""
    return f"python:{version}-slim-{RENDER_DEBIAN}"


@dataclass(frozen=True)
class BaseImage:
    """The image render-sim builds Render's layer on."""

    ref: str
    kind: str  # "official" | "standin" | "custom"
    image_id: str = ""
    python: str = ""  # the interpreter's real version, when known
    glibc: str = ""
    suite: str = ""

    def differences(self, render_python: str) -> list[str]:
        """How this base differs from Render's build machine for a build on `render_python`."""
        out: list[str] = []
        if self.kind == "standin":
            out.append(
                f"offline stand-in base {self.ref}: Debian {self.suite}'s CPython instead of "
                f"{official_base(render_python)} (no container registry reachable)"
            )
        if self.kind == "custom":
            out.append(f"custom base image {self.ref} (--base-image)")
        if self.python and self.python != render_python:
            out.append(f"Python {self.python} runs here; Render would run {render_python}")
        if self.glibc and self.glibc != RENDER_GLIBC:
            out.append(
                f"glibc {self.glibc} here, {RENDER_GLIBC} on Render: pip may accept manylinux "
                f"wheels here that Render rejects (and then builds from source)"
            )
        return out


def _facts(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def labels_of(client: docker.DockerClient, ref: str) -> tuple[str, dict[str, str]] | None:
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None
    return image.id, dict(image.labels or {})


def image_hash(parts: Iterable[bytes | str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:12]


def standin_tag(minor: str) -> str:
    """The stand-in's tag: keyed by the suite, the mirror and the bootstrap hook."""
    suites = standin_suites()
    suite = suites.pythons[minor]
    hook = locations.image_file("standin-hook.sh").read_bytes()
    key = image_hash([minor, suite, suites.mirror, hook, str(suites.check_valid_until[suite])])
    return f"{standin_repo()}:{minor}-{suite}-{key}"


def predict_base(render_python: str, base_image: str | None = None) -> str:
    """What the base will be, said without Docker (for `plan` when no engine answers)."""
    if base_image:
        return base_image
    minor = minor_of(render_python)
    suite = standin_suites().pythons.get(minor)
    fallback = f", else a stand-in from Debian {suite}" if suite else ", else none offline"
    return f"{official_base(render_python)} if present or pullable{fallback}"


def find_base(
    client: docker.DockerClient, render_python: str, base_image: str | None = None
) -> BaseImage | None:
    """The base image already on this machine, without pulling or building anything."""
    if base_image:
        found = labels_of(client, base_image)
        return BaseImage(base_image, "custom", found[0]) if found else None
    official = official_base(render_python)
    found = labels_of(client, official)
    if found:
        return BaseImage(official, "official", found[0], render_python, RENDER_GLIBC, RENDER_DEBIAN)
    minor = minor_of(render_python)
    if minor in standin_suites().pythons:
        tag = standin_tag(minor)
        found = labels_of(client, tag)
        if found:
            image_id, labels = found
            return BaseImage(
                tag,
                "standin",
                image_id,
                labels.get("render-sim.python", ""),
                labels.get("render-sim.glibc", ""),
                labels.get("render-sim.suite", ""),
            )
    return None


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


def no_offline_python(render_python: str) -> ImageUnavailableError:
    offline = ", ".join(
        sorted(standin_suites().pythons, key=lambda v: tuple(map(int, v.split("."))))
    )
    return ImageUnavailableError(
        f"no image for Python {render_python}: {official_base(render_python)} is not on this "
        f"machine, no registry answered, and Debian offers no Python {minor_of(render_python)} "
        f"to bootstrap a stand-in from",
        hint=(
            f"ways out: give Docker registry access (docker pull {official_base(render_python)}), "
            f"load an image and pass --base-image IMAGE, or simulate a Python that works offline "
            f"({offline}) with --python X.Y.Z or PYTHON_VERSION"
        ),
    )


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
        facts = _facts(facts_file.read_text())
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

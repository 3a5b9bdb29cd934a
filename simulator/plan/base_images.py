"""Which base image a build runs on, said by the plan: `python:X.Y.Z-slim-bookworm` when this
machine has it (or can pull it), else an offline stand-in bootstrapped from Debian (see
data/standin_suites.yaml), else none offline; the tags of render-sim's images; the build tools
Render's image carries. `build.images` gets the base (pull, bootstrap) and `build.image_build`
makes the build image on it.

`RENDER_SIM_IMAGE_NAMESPACE` (default `render-sim`) names the repositories the stand-ins and
build images are tagged in: a benchmark measures a cold start under its own namespace without
touching the images everyone else uses.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import docker
import docker.errors

from simulator import locations
from simulator.errors import ConfigurationError, ImageUnavailableError
from simulator.render import facts

Progress = Callable[[str], None]

LABEL = "render-sim"
NAMESPACE_VAR = "RENDER_SIM_IMAGE_NAMESPACE"
DEFAULT_NAMESPACE = "render-sim"
# Docker's rule for the path part of a repository name: lowercase components, / between them.
_NAMESPACE = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
#: Render's build OS and its glibc, as image facts (`data/render_platform.yaml`).
RENDER_GLIBC = facts.platform().glibc_text
RENDER_DEBIAN = facts.platform().debian


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
    data = facts.load("render_build_tools")
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
    data = facts.load("standin_suites")
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


def parse_facts(text: str) -> dict[str, str]:
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

"""The real build backends the hermetic fixtures serve, downloaded from PyPI once.

The sdists of tests/hermetic/packages.py build with real setuptools and maturin, which cannot
be generated: `fetch_backends` downloads their wheels with the host's pip the first time and
keeps them in a cache directory keyed by `BACKEND_PINS`. That download is the only network use
of the hermetic fixtures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.hermetic.packages import Dist

# Real projects the fixtures need, fetched from PyPI once (see `fetch_backends`): the build
# backends of the sdists (setuptools, maturin), an old setuptools that still imports distutils,
# one without pkg_resources, the wheel package old setuptools asks for, and pip 21.3.1, whose
# output is the layout before pip 22's boxes.
BACKEND_PINS: tuple[tuple[str, str], ...] = (
    ("maturin", "1.9.6"),
    ("pip", "21.3.1"),
    ("setuptools", "59.2.0"),
    ("setuptools", "80.9.0"),
    ("setuptools", "82.0.1"),
    ("wheel", "0.45.1"),
)
# maturin is a Rust binary in a wheel: the one for glibc Linux on x86_64, as Render's machine.
BACKEND_PLATFORM = "manylinux2014_x86_64"

# Read when this module is imported: the Docker test session later points RENDER_SIM_CACHE at a
# temporary home, and the backend wheels must outlive it.
_CACHE_ROOT = os.environ.get("RENDER_SIM_CACHE") or str(Path.home() / ".cache" / "render-sim")


def backends_dir(cache_root: Path | None = None) -> Path:
    """Where the backend wheels of `BACKEND_PINS` are kept (one folder per set of pins)."""
    key = "_".join(f"{name}-{version}" for name, version in sorted(BACKEND_PINS))
    return Path(cache_root or _CACHE_ROOT) / "hermetic-backends" / key


def fetch_backends(cache_root: Path | None = None) -> list[Path]:
    """The wheels of `BACKEND_PINS`, downloaded from PyPI with the host's pip the first time.

    The only network use of the hermetic fixtures; afterwards the cached wheels are used.
    """
    target = backends_dir(cache_root)
    found = sorted(target.glob("*.whl"))
    if {_wheel_pin(p) for p in found} >= set(BACKEND_PINS):
        return found
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    base = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--only-binary",
        ":all:",
        "--no-deps",
        "--platform",
        BACKEND_PLATFORM,
        "--python-version",
        "3.14",
        "--implementation",
        "cp",
        "--dest",
        str(staging),
    ]
    try:
        # one pin at a time: two versions of one project in one download would conflict
        for name, version in sorted(BACKEND_PINS):
            command = [*base, f"{name}=={version}"]
            proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(
                    f"downloading the build backend {name}=={version} failed "
                    f"(exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
                )
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier download
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # already gone after the rename
    return sorted(target.glob("*.whl"))


def _wheel_pin(path: Path) -> tuple[str, str]:
    name, version = path.name.split("-")[:2]
    return str(canonicalize_name(name)), version


def backend_dist(path: Path) -> Dist:
    """A downloaded backend wheel as an index file (its Requires-Python read from METADATA)."""
    name, version = path.name.split("-")[:2]
    with zipfile.ZipFile(path) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(archive.read(meta_name).decode())
    return Dist(name, version, path.name, path.read_bytes(), headers.get("Requires-Python"))

"""Where render-sim keeps its own files: logs, index cache, image build logs.

Never inside the user's repo: a simulation must leave the repo byte-for-byte unchanged.
`RENDER_SIM_HOME` moves everything (tests use it to stay out of the real cache).
"""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def image_file(name: str) -> Traversable:
    """One of the build image's files (`images/` in a checkout, `simulator/_images` installed).

    Read through importlib.resources, so an installed wheel finds them as a checkout does.
    """
    return files("simulator._images") / name


def home() -> Path:
    """render-sim's state directory (created on first use)."""
    explicit = os.environ.get("RENDER_SIM_HOME")
    if explicit:
        base = Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "render-sim"
    base.mkdir(parents=True, exist_ok=True)
    return base


def subdir(name: str) -> Path:
    """A named directory under `home()`: logs, image-builds, index, ..."""
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path

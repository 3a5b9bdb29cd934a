"""Where render-sim keeps its own files: logs, index cache, image build logs.

Never inside the user's repo: a simulation must leave the repo byte-for-byte unchanged.
`RENDER_SIM_HOME` moves everything (tests use it to stay out of the real cache).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = PROJECT_ROOT / "images"
DATA_DIR = Path(__file__).resolve().parent / "data"


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

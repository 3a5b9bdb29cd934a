"""Where render-sim keeps its own files: logs, index cache, image build logs, crash reports.

Never inside the user's repo: a simulation must leave the repo byte-for-byte unchanged.
`RENDER_SIM_HOME` moves everything (tests use it to stay out of the real cache).

The home is created on first use, by the commands that need it. One that cannot be used (not
a directory, not writable, `$HOME` unset) is a `HomeError` naming the path and where it came
from, for the commands that must write there (simulate's log, image build logs); a cache
(`cache_dir`) is only a speed-up, so the commands that merely read one (explain, check) work
without it.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from simulator.errors import HomeError

DATA_DIR = Path(__file__).resolve().parent / "data"


def image_file(name: str) -> Traversable:
    """One of the build image's files (`images/` in a checkout, `simulator/_images` installed).

    Read through importlib.resources, so an installed wheel finds them as a checkout does.
    """
    return files("simulator._images") / name


def _home_path() -> tuple[Path, str]:
    """render-sim's home, and the setting it comes from (for messages)."""
    explicit = os.environ.get("RENDER_SIM_HOME")
    if explicit:
        return Path(explicit), "RENDER_SIM_HOME"
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "render-sim", "XDG_CACHE_HOME"
    try:
        return Path.home() / ".cache" / "render-sim", "HOME"
    except RuntimeError as error:  # no $HOME and no user entry to take it from
        raise HomeError(
            f"render-sim has no home directory: {error}",
            hint="Set HOME, or RENDER_SIM_HOME to a writable directory.",
        ) from None


def _usable(path: Path, setting: str) -> Path:
    """`path` created as a writable directory, or a HomeError saying why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "not a writable directory")
    except OSError as error:
        raise HomeError(
            f"render-sim's home {path} (from {setting}) cannot be used: {error.strerror or error}",
            hint="Set RENDER_SIM_HOME to a writable directory: render-sim keeps its logs and "
            "caches there.",
        ) from None
    return path


def home() -> Path:
    """render-sim's state directory (created on first use); a HomeError when unusable."""
    path, setting = _home_path()
    return _usable(path, setting)


def subdir(name: str) -> Path:
    """A named directory under `home()`: logs, image-builds, ...; a HomeError when unusable."""
    path, setting = _home_path()
    return _usable(path / name, setting)


def cache_dir(name: str) -> Path:
    """Where a cache lives under the home, created when possible, never an error.

    A cache that cannot be written only costs speed: its readers and writers treat every
    failure as a miss. With no usable home at all, a path that does not exist is given.
    """
    try:
        return subdir(name)
    except HomeError:
        try:
            return _home_path()[0] / name
        except HomeError:
            return Path(tempfile.gettempdir()) / "render-sim-unusable-home" / name


def crash_dir() -> Path:
    """Where a crash report goes: the home's `crashes/`, else a temporary directory."""
    try:
        return subdir("crashes")
    except HomeError:
        return Path(tempfile.mkdtemp(prefix="render-sim-crash-"))

"""Headless Chromium (Debian's `chromium`, installed by `make browser`) opening a local file with
the network cut off: a screenshot, or the DOM after the page loaded.

The flags are those of a browser that must not reach out: no background networking, no first-run
pings, a throwaway profile, and every host name resolving to nothing (so a report that linked
any resource would show it missing, never fetch it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TIMEOUT_S = 180  # a hung browser fails the test instead of the session; not a speed check


def _binary() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "the report's browser test needs Debian's chromium and none is installed "
            "(fix: `make browser`, or `sudo apt-get install chromium`). It is never skipped.",
            pytrace=False,
        )
    return found


def _run(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    argv = [
        _binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *extra,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=TIMEOUT_S
    )
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM as Chromium serialises it once loaded."""
    return _run(page, profile, "--dump-dom").stdout


def screenshot(page: Path, profile: Path, out: Path, size: tuple[int, int]) -> Path:
    """A PNG of the page's first `size` pixels (width, height)."""
    _run(page, profile, f"--screenshot={out}", f"--window-size={size[0]},{size[1]}")
    assert out.is_file(), f"chromium wrote no screenshot at {out}"
    return out

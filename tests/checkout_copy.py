"""A copy of this checkout as it is now, for tests that install it the way users get it.

`copy_checkout` copies the files git would commit (tracked and untracked, not ignored, as they
are in the working tree): what a GitHub Action's checkout or a pre-commit hook repository
holds. Installing from the copy leaves the real checkout untouched (pip builds in the source
tree). `commit=True` makes the copy a git repository with those files committed, which
`pre-commit try-repo` needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "render-sim tests",
    "GIT_AUTHOR_EMAIL": "tests@render-sim.invalid",
    "GIT_COMMITTER_NAME": "render-sim tests",
    "GIT_COMMITTER_EMAIL": "tests@render-sim.invalid",
}


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd` (failing loudly), with a fixed identity and no user or system config."""
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def copy_checkout(dest: Path, *, commit: bool = False) -> Path:
    """Copy the checkout's files (as in the working tree) to `dest`; optionally commit them."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    dest.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet in the index
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    if commit:
        git("init", "-q", "-b", "main", cwd=dest)
        git("add", "-A", cwd=dest)
        git("commit", "-q", "-m", "render-sim as in the working tree", cwd=dest)
    return dest

"""The user's repo as Render would check it out: which files, which commit; read-only.

Render clones the repo, so only git-tracked files reach the build. render-sim copies the tracked
files as they are in the working tree (so uncommitted edits can be tried before pushing) and says
which ones differ from the commit. A directory that is not a git repo is copied whole, minus
`.venv` and `.git`. Nothing here ever writes to the repo.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

SKIPPED_DIRS = {".git", ".venv"}


@dataclass(frozen=True)
class GitInfo:
    commit: str  # 40 hex, or "" outside git
    branch: str
    slug: str  # "owner/repo" from the origin remote, or the directory name
    dirty: tuple[str, ...] = ()  # tracked files with uncommitted changes
    untracked: int = 0  # files Render would not see


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.decode(errors="replace")


def is_git_repo(repo: Path) -> bool:
    top = _git(repo, "rev-parse", "--show-toplevel")
    return top is not None and Path(top.strip()).resolve() == repo.resolve()


def git_info(repo: Path) -> GitInfo:
    """What Render's `==> Checking out commit ... in branch ...` line would say."""
    if not is_git_repo(repo):
        return GitInfo(commit="", branch="", slug=repo.resolve().name)
    commit = (_git(repo, "rev-parse", "--verify", "-q", "HEAD") or "").strip()
    branch = (_git(repo, "rev-parse", "--abbrev-ref", "HEAD") or "").strip()
    remote = (_git(repo, "config", "--get", "remote.origin.url") or "").strip()
    slug = repo.resolve().name
    if remote:
        tail = remote.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
        if len(tail) >= 2:
            slug = f"{tail[-2]}/{tail[-1]}"
    status = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all") or ""
    dirty, untracked = [], 0
    for entry in filter(None, status.split("\0")):
        if entry.startswith("??"):
            untracked += 1
        elif len(entry) > 3:
            dirty.append(entry[3:])
    return GitInfo(commit, "" if branch == "HEAD" else branch, slug, tuple(dirty), untracked)


def list_files(repo: Path, root_dir: str = "") -> tuple[str, ...]:
    """Repo-relative POSIX paths of the files Render's checkout would hold under `root_dir`.

    Git-tracked files (as in the working tree; deleted ones left out), or every file when the
    directory is not a git repo, minus `.git` and `.venv`. Only files under the service's root
    directory: Render does not make the rest available to a service with a rootDir.
    """
    if is_git_repo(repo):
        out = _git(repo, "ls-files", "-z", "--cached") or ""
        names = [n for n in out.split("\0") if n]
        files = [n for n in names if os.path.lexists(repo / n) and not os.path.isdir(repo / n)]
    else:
        files = []
        for dirpath, dirnames, filenames in os.walk(repo):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            rel = Path(dirpath).relative_to(repo)
            files += [(rel / f).as_posix() for f in sorted(filenames)]
    files = [f for f in files if not (set(PurePosixPath(f).parts) & SKIPPED_DIRS)]
    if root_dir:
        prefix = root_dir.rstrip("/") + "/"
        files = [f for f in files if f.startswith(prefix)]
    return tuple(sorted(files))


def archive(repo: Path, files: tuple[str, ...]) -> bytes:
    """A tar of `files` (repo-relative), owned by root, modes and symlinks kept."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in files:
            info = tar.gettarinfo(str(repo / name), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with (repo / name).open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()

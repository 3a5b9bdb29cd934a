"""The user's repo as Render would check it out: which files, which commit; read-only.

Render clones the repo, so only git-tracked files reach the build. render-sim copies the tracked
files as they are in the working tree (so uncommitted edits can be tried before pushing) and says
which ones differ from the commit. A directory that is not a git repo is copied whole, minus
`.venv` and `.git`. Nothing here ever writes to the repo.

Nothing outside the repo is read through it: a symbolic link is copied as a link (never
followed), a tracked file under a directory that was replaced by a link is left out (git itself
sees it deleted), and the files render-sim reads to plan a build (`render.yaml`,
`.python-version`, requirements, lockfiles, scripts) must be inside the repo once links are
followed (`inside_repo`, `outside_repo_error`): Render's checkout holds only the repo's files,
so such a link would not resolve there either.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from simulator.errors import ConfigurationError, Location

SKIPPED_DIRS = {".git", ".venv"}


@dataclass(frozen=True)
class GitInfo:
    commit: str  # 40 hex, or "" outside git
    branch: str
    slug: str  # "owner/repo" from the origin remote, or the directory name
    dirty: tuple[str, ...] = ()  # tracked files with uncommitted changes
    untracked: int = 0  # files Render would not see


# Git reads the repo's own config, and some of its keys name programs that git runs: a repo
# render-sim is pointed at must not run anything on the host (its config is not the user's).
# Every call turns those off, takes no optional lock and writes nothing: `git status` would
# otherwise refresh and rewrite .git/index under index.lock. Clean and smudge filters are named
# per driver, so the drivers the config defines are emptied one by one (an empty command is no
# filter to git).
_SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.untrackedCache=false",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.askPass=",
    "credential.helper=",
    "diff.external=",
    "protocol.allow=never",
)
# What the caller's environment may point git at instead of `repo` (a git hook's environment)
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env.update({"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"})
    return env


class _Git:
    """git in one repo, with the repo's executable config turned off (see _SAFE_CONFIG)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._config: tuple[str, ...] = _SAFE_CONFIG
        keys = self("config", "--name-only", "-z", "--get-regexp", r"^filter\.")
        drivers = {k.rsplit(".", 1)[0] for k in (keys or "").split("\0") if k.count(".") >= 2}
        self._config += tuple(
            f"{driver}.{part}"
            for driver in sorted(drivers)
            for part in ("clean=", "smudge=", "process=", "required=false")
        )

    def __call__(self, *args: str) -> str | None:
        """git's output for `args`, or None when git fails."""
        overrides = [part for item in self._config for part in ("-c", item)]
        try:
            out = subprocess.run(
                ["git", "--no-optional-locks", *overrides, "-C", str(self.repo), *args],
                capture_output=True,
                check=True,
                timeout=30,
                env=_git_env(),
                stdin=subprocess.DEVNULL,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return out.decode(errors="replace")

    def is_top(self) -> bool:
        """Whether the repo is a git work tree's top directory."""
        top = self("rev-parse", "--show-toplevel")
        return top is not None and Path(top.strip()).resolve() == self.repo.resolve()


def git_info(repo: Path) -> GitInfo:
    """What Render's `==> Checking out commit ... in branch ...` line would say."""
    git = _Git(repo)
    if not git.is_top():
        return GitInfo(commit="", branch="", slug=repo.resolve().name)
    commit = (git("rev-parse", "--verify", "-q", "HEAD") or "").strip()
    branch = (git("rev-parse", "--abbrev-ref", "HEAD") or "").strip()
    remote = (git("config", "--get", "remote.origin.url") or "").strip()
    slug = repo.resolve().name
    if remote:
        tail = remote.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
        if len(tail) >= 2:
            slug = f"{tail[-2]}/{tail[-1]}"
    status = git("status", "--porcelain=v1", "-z", "--untracked-files=all") or ""
    dirty, untracked = [], 0
    for entry in filter(None, status.split("\0")):
        if entry.startswith("??"):
            untracked += 1
        elif len(entry) > 3:
            dirty.append(entry[3:])
    return GitInfo(commit, "" if branch == "HEAD" else branch, slug, tuple(dirty), untracked)


def inside_repo(repo: Path, path: Path) -> bool:
    """Whether `path` is inside `repo` once every symbolic link on the way is followed."""
    try:
        path.resolve().relative_to(repo.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a loop of links (Python 3.10-3.12)
        return False
    return True


def outside_repo_error(
    repo: Path, path: Path, what: str, where: Location | None = None
) -> ConfigurationError:
    """The error for a file render-sim will not read because it is outside `repo`: through a
    symbolic link, or by its path (`-r /etc/x`, `-r ../../x`). Its content is never read."""
    shown = _shown(repo, path)
    lexical = Path(os.path.normpath(repo.resolve() / path))
    if lexical.is_relative_to(repo.resolve()):
        message = (
            f"{shown} is a symbolic link leading outside the repository: render-sim reads "
            "nothing outside it, and on Render the link would not resolve either (Render's "
            "checkout holds only the repository's files)"
        )
        hint = f"Commit the {what} itself in the repository, not a link to a file elsewhere."
    else:
        message = (
            f"{shown} is outside the repository: render-sim reads only the repository's files "
            "(Render's checkout holds only those; that path on Render's build machine is not "
            "yours)"
        )
        hint = f"Commit the {what} in the repository and name it by a path inside it."
    return ConfigurationError(message, hint=hint, where=where or Location(shown))


def _shown(repo: Path, path: Path) -> str:
    """`path` as messages show it: relative to `repo` when it is under it as written."""
    try:
        return path.relative_to(repo).as_posix()
    except ValueError:
        return path.as_posix()


def _behind_link(repo: Path, name: str, links: dict[str, bool]) -> bool:
    """Whether a directory on the way to `name` (repo-relative) is a symbolic link."""
    parts = PurePosixPath(name).parts[:-1]
    for depth in range(1, len(parts) + 1):
        directory = "/".join(parts[:depth])
        if directory not in links:
            links[directory] = os.path.islink(repo / directory)
        if links[directory]:
            return True
    return False


def list_files(repo: Path, root_dir: str = "") -> tuple[str, ...]:
    """Repo-relative POSIX paths of the files Render's checkout would hold under `root_dir`.

    Git-tracked files (as in the working tree; deleted ones left out), or every file when the
    directory is not a git repo, minus `.git` and `.venv`. Only files under the service's root
    directory: Render does not make the rest available to a service with a rootDir. A tracked
    file whose directory was replaced by a symbolic link is deleted for git, and left out here:
    following the link would copy whatever it points at (a directory of the host) into the build.
    """
    git = _Git(repo)
    if git.is_top():
        out = git("ls-files", "-z", "--cached") or ""
        names = [n for n in out.split("\0") if n]
        links: dict[str, bool] = {}
        files = [
            n
            for n in names
            if not _behind_link(repo, n, links)
            and os.path.lexists(repo / n)
            and not os.path.isdir(repo / n)
        ]
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

"""`render-sim check DIR...`: the check over many repos at once, in parallel, without Docker.

Each argument is a repo (it has a render.yaml, a requirements file, a pyproject.toml or a lock),
or a folder whose sub-folders are repos (a checkout of an organisation's services). Every repo
is checked as `check` checks one (`check_repo`), several at a time; a resolution is made once
per (inputs, Python) for the whole run (`pip_resolve`'s memo is the process's), so a hundred
services pinning the same requirements cost one resolution.

`--python X.Y` asks what breaks when Render's default moves to Python X.Y: every service that
takes Render's default gets the newest X.Y.Z render-sim knows; services that pin their Python
keep it (`preflight.moved_default`). A repo that cannot be checked (a broken render.yaml, an
index that does not answer) is a row saying why, never the end of the run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.check.preflight import check_repo
from simulator.check.results import CheckReport, ServiceCheck
from simulator.config.blueprint import find_blueprint
from simulator.config.python_version import load_releases
from simulator.errors import BUILD_FAILED, RenderSimError, UsageError
from simulator.plan.models import Options

#: What makes a folder a repo render-sim can check (besides a render.yaml).
REPO_MARKERS = ("requirements.txt", "pyproject.toml", "uv.lock", "poetry.lock", "Pipfile")
DEFAULT_JOBS = 4
_SERIES = re.compile(r"\d+\.\d+")


def is_repo(path: Path) -> bool:
    """A folder `check` can read: a blueprint, or the dependency files it infers a build from."""
    return path.is_dir() and (
        find_blueprint(path.resolve()) is not None
        or any((path / name).is_file() for name in REPO_MARKERS)
    )


def holds_repos(path: Path) -> bool:
    """A folder that is no repo itself but holds some: the fleet check's way in."""
    return path.is_dir() and not is_repo(path) and any(_sub_repos(path))


def _sub_repos(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if not p.name.startswith(".") and is_repo(p))


def find_repos(paths: Sequence[Path]) -> list[Path]:
    """The repos named by `paths`: each a repo, or a folder of repos (its sub-folders)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise UsageError(
                f"{path} is not a folder",
                hint="pass repos, or folders holding repos: render-sim check services/*",
            )
        if is_repo(path):
            repos = [path]
        else:
            repos = _sub_repos(path)
            if not repos:
                raise UsageError(
                    f"{path} is no repo (no render.yaml, requirements.txt, pyproject.toml or "
                    "lock file) and holds none",
                    hint="pass the repos themselves, or the folder that holds them",
                )
        found += [r for r in repos if r.resolve() not in {f.resolve() for f in found}]
    return found


def moved_default_version(series: str) -> str:
    """The X.Y.Z Render's default would be if it moved to series `X.Y`: its newest release."""
    newest = load_releases().newest(series)
    if newest is None:
        raise UsageError(
            f"--python {series}: render-sim knows no release of Python {series}",
            hint="give a released series (3.13, 3.14, ...), or refresh the list with "
            "scripts/update_cpython_releases.py",
        )
    return newest


def split_python(python: str | None) -> tuple[str | None, str | None]:
    """`--python`: X.Y -> (None, newest X.Y.Z as the moved default); X.Y.Z -> (X.Y.Z, None)."""
    if python and _SERIES.fullmatch(python.strip()):
        return None, moved_default_version(python.strip())
    return python, None


@dataclass(frozen=True)
class RepoCheck:
    """One repo of the fleet: its report, or the error that stopped its check."""

    repo: Path
    report: CheckReport | None
    error: RenderSimError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.exit_code == 0

    @property
    def name(self) -> str:
        return self.repo.name or str(self.repo)

    def to_dict(self) -> dict[str, Any]:
        error = self.error
        return {
            "repo": str(self.repo),
            "ok": self.ok,
            "report": self.report.to_dict() if self.report else None,
            "error": {
                "code": error.return_code,
                "kind": type(error).__name__,
                "message": str(error),
                "hint": error.hint,
            }
            if error
            else None,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class FleetReport:
    """Every repo's check, in the order the repos were given."""

    repos: tuple[RepoCheck, ...]
    default_python: str | None  # the moved default asked for (--python X.Y), as X.Y.Z
    seconds: float

    @classmethod
    def of_one(cls, report: CheckReport, default_python: str | None = None) -> FleetReport:
        """The fleet of one repo (`check REPO --junit FILE`)."""
        return cls(
            (RepoCheck(report.repo, report, None, report.seconds),), default_python, report.seconds
        )

    @property
    def exit_code(self) -> int:
        """0 when every service passes; 1 when one fails or a repo could not be checked; when
        no repo could be checked at all, the first error's own code."""
        if self.repos and all(r.error is not None for r in self.repos):
            first = self.repos[0].error
            assert first is not None
            return first.return_code
        return 0 if all(r.ok for r in self.repos) else BUILD_FAILED

    def services(self) -> list[tuple[RepoCheck, ServiceCheck | None]]:
        """(repo, service) per row: one per service, one (repo, None) per repo in error."""
        rows: list[tuple[RepoCheck, ServiceCheck | None]] = []
        for repo in self.repos:
            if repo.report is None:
                rows.append((repo, None))
            else:
                rows += [(repo, service) for service in repo.report.services]
        return rows

    def to_dict(self) -> dict[str, Any]:
        rows = self.services()
        return {
            "default_python": self.default_python,
            "repos": [r.to_dict() for r in self.repos],
            "summary": {
                "repos": len(self.repos),
                "services": sum(1 for _, s in rows if s is not None),
                "failing_services": sum(1 for _, s in rows if s is not None and not s.ok),
                "repos_in_error": sum(1 for r in self.repos if r.error is not None),
            },
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 2),
        }


def check_fleet(
    paths: Sequence[Path],
    options: Options,
    *,
    index_url: str | None = None,
    default_python: str | None = None,
    jobs: int = DEFAULT_JOBS,
    on_repo: Callable[[RepoCheck], None] | None = None,
    configure: Callable[[Path], tuple[Options, str | None]] | None = None,
) -> FleetReport:
    """Check every repo of `paths` (see `find_repos`), `jobs` at a time; `on_repo` hears each
    as it finishes. `configure(repo)` gives a repo's own options and index (the command line
    reads each repo's settings file); without it every repo gets `options` and `index_url`."""
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} must be at least 1")
    repos = find_repos(paths)
    started = time.monotonic()

    def one(repo: Path) -> RepoCheck:
        begun = time.monotonic()
        try:
            own, index = configure(repo) if configure else (options, index_url)
            report = check_repo(repo, own, index_url=index, default_python=default_python)
        except RenderSimError as error:
            result = RepoCheck(repo, None, error, time.monotonic() - begun)
        else:
            result = RepoCheck(repo, report, None, time.monotonic() - begun)
        if on_repo is not None:
            on_repo(result)
        return result

    with ThreadPoolExecutor(max_workers=min(jobs, len(repos)), thread_name_prefix="check") as pool:
        checked = tuple(pool.map(one, repos))
    return FleetReport(checked, default_python, time.monotonic() - started)

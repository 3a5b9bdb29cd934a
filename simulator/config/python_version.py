"""Choose the Python version a Render build installs, the way Render does, and say why.

Render looks in three places, highest precedence first (render.com/docs/python-version):

1. the `PYTHON_VERSION` environment variable, which must be a full `X.Y.Z`;
2. a `.python-version` file holding one version, where `X.Y` means the newest `X.Y.Z`;
3. a default that depends on the date the service was created (data/render_python_defaults.yaml).

Every choice carries where it came from, in the words Render's build log uses
(`==> Using Python version 3.14.3 (default)`), so each message can name its source.
`runtime.txt` is Heroku's file and Render never reads it: its presence is reported as a
warning, because people who move from Heroku expect it to work.

Everything here is pure: files are read, nothing is installed, no network is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simulator.config.python_releases import CPythonReleases, default_for, load_releases
from simulator.config.python_version_warnings import (
    misspelled_file_warnings,
    runtime_txt_warnings,
    shadowed_file_warning,
)
from simulator.config.source import inside_repo, outside_repo_error
from simulator.config.version_requests import (
    DOCS_URL,
    RENDER_CHECKOUT,
    SOURCE_DEFAULT,
    SOURCE_ENV,
    SOURCE_FILE,
    read_python_version_file,
    service_then_repo,
    shown_path,
    version_from_env,
)


@dataclass(frozen=True)
class PythonChoice:
    """The Python version Render would install, and what decided it."""

    version: str  # full X.Y.Z
    source: str  # "PYTHON_VERSION", ".python-version" or "default"
    requested: str  # the text that decided it: "3.12", "3.13.4", "default for 2026-03-01"
    log_suffix: str  # Render's wording after the version in "==> Using Python version ..."
    warnings: tuple[str, ...] = ()

    @property
    def log_line(self) -> str:
        """The line Render prints, e.g. `==> Using Python version 3.14.3 (default)`."""
        return f"==> Using Python version {self.version} {self.log_suffix}"


def choose_python(
    env: Mapping[str, str],
    repo_root: Path,
    root_dir: str = "",
    created: date | None = None,
    releases: CPythonReleases | None = None,
) -> PythonChoice:
    """Choose the Python version as Render does for one service.

    `env` is the service's environment as already merged by the caller (blueprint vars,
    groups, `--env-file`, `--python`); only `PYTHON_VERSION` is read from it. `root_dir` is
    the service's normalised rootDir ("" for the repository root). `created` is the
    service's creation date (None: today), which picks Render's default.
    Raises ConfigurationError when the version asked for is one Render would refuse.
    """
    releases = releases or load_releases()
    version_file = find_python_version_file(repo_root, root_dir)
    warnings: list[str] = []

    if SOURCE_ENV in env:
        requested = env[SOURCE_ENV]
        choice = PythonChoice(
            version=version_from_env(requested, releases),
            source=SOURCE_ENV,
            requested=requested.strip(),
            log_suffix="via environment variable PYTHON_VERSION",
        )
        if version_file is not None:
            warnings.extend(shadowed_file_warning(repo_root, version_file, choice, releases))
    elif version_file is not None:
        shown = shown_path(repo_root, version_file)
        requested, version = read_python_version_file(version_file, releases, shown_as=shown)
        choice = PythonChoice(
            version=version,
            source=SOURCE_FILE,
            requested=requested,
            log_suffix=f"via {RENDER_CHECKOUT / shown}",
        )
    else:
        day = created or date.today()
        row = default_for(day)
        choice = PythonChoice(
            version=row.version,
            source=SOURCE_DEFAULT,
            requested=f"default for {day.isoformat()}",
            log_suffix="(default)",
        )
        if not row.documented:
            warnings.append(
                f"Render's table of default Python versions ({DOCS_URL}) has a gap for "
                f"services created from {row.start} to {row.end}; render-sim assumes "
                f"{row.version} for {day.isoformat()}. Set PYTHON_VERSION to be sure."
            )

    warnings.extend(misspelled_file_warnings(repo_root, root_dir))
    warnings.extend(runtime_txt_warnings(repo_root, root_dir, choice, releases))
    return PythonChoice(
        version=choice.version,
        source=choice.source,
        requested=choice.requested,
        log_suffix=choice.log_suffix,
        warnings=tuple(warnings),
    )


def find_python_version_file(repo_root: Path, root_dir: str = "") -> Path | None:
    """The `.python-version` Render would read: the service root's first, then the repo's.

    Render's logs only ever show the repository root's file; reading the service root's
    first follows what Render does for Node (`.nvmrc` in the rootDir) and for uv
    (`uv.lock` in the service root), and is not confirmed for Python.

    A `.python-version` that is a link to a file outside the repo is an error: it is never read.
    """
    for directory in service_then_repo(repo_root, root_dir):
        candidate = directory / SOURCE_FILE
        if candidate.is_file():
            if not inside_repo(repo_root, candidate):
                raise outside_repo_error(repo_root, candidate, SOURCE_FILE)
            return candidate
    return None

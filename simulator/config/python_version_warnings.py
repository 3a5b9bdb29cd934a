"""Warnings about files Render does not read for the Python version.

`runtime.txt` is Heroku's file: Render never reads it, and people who move from Heroku expect
it to work. `.python_version`, `python-version.txt` and other near-misses of `.python-version`
are not read either. A `.python-version` that `PYTHON_VERSION` overrides is named when the two
disagree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.config.python_releases import SERIES, CPythonReleases, parse_version, series_of
from simulator.config.source import inside_repo
from simulator.config.version_requests import (
    SOURCE_FILE,
    read_python_version_file,
    service_then_repo,
    shown_path,
)
from simulator.errors import ConfigurationError

if TYPE_CHECKING:  # the choice is made in python_version, which reads these warnings
    from simulator.config.python_version import PythonChoice

# Names people give the file by mistake; Render reads only `.python-version`.
MISSPELLED_VERSION_FILES = frozenset(
    {
        ".python_version",
        "python-version",
        "python_version",
        ".python-versions",
        ".pythonversion",
        ".python-version.txt",
        "python-version.txt",
        ".python_version.txt",
    }
)


def shadowed_file_warning(
    repo_root: Path, version_file: Path, choice: PythonChoice, releases: CPythonReleases
) -> list[str]:
    shown = shown_path(repo_root, version_file)
    try:
        requested, version = read_python_version_file(version_file, releases, shown_as=shown)
    except ConfigurationError:
        return []  # Render never reads it while PYTHON_VERSION is set, so neither do we.
    if version == choice.version:
        return []
    return [
        f"{shown} asks for {requested} but PYTHON_VERSION={choice.requested} wins, so Render "
        f"uses {choice.version}. Remove one of them so the two cannot disagree."
    ]


def misspelled_file_warnings(repo_root: Path, root_dir: str) -> list[str]:
    warnings = []
    for directory in service_then_repo(repo_root, root_dir):
        if (directory / SOURCE_FILE).is_file():
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if name.lower() in MISSPELLED_VERSION_FILES or (
                name.lower() == SOURCE_FILE and name != SOURCE_FILE
            ):
                shown = shown_path(repo_root, directory / name)
                warnings.append(
                    f"{shown} is not read by Render: the file must be named exactly "
                    f".python-version (leading dot, hyphen, lower case)."
                )
    return warnings


def runtime_txt_warnings(
    repo_root: Path, root_dir: str, choice: PythonChoice, releases: CPythonReleases
) -> list[str]:
    warnings = []
    # Only the service's own root: a runtime.txt elsewhere in the repo (another app's, or the
    # repo root's when the service lives in a subfolder) is not this service's configuration.
    for directory in service_then_repo(repo_root, root_dir)[:1]:
        path = directory / "runtime.txt"
        if not path.is_file():
            continue
        shown = shown_path(repo_root, path)
        asks = runtime_txt_request(path, repo_root)
        used = f"{choice.version} ({choice.log_suffix.strip('()')})"
        same = asks == choice.version or (
            SERIES.fullmatch(asks) is not None and series_of(choice.version) == asks
        )
        if same:
            warnings.append(
                f"{shown} is ignored by Render (it is Heroku's file): it asks for {asks}, "
                f"which Render will use anyway ({choice.log_suffix.strip('()')}), but only "
                "by coincidence. Keep the version in PYTHON_VERSION or .python-version and "
                f"delete {shown}."
            )
            continue
        full = asks if parse_version(asks) else (releases.newest(asks) or "X.Y.Z")
        warnings.append(
            f"{shown} is ignored by Render (it is Heroku's file): it asks for {asks} but "
            f"Render will use {used}. Set PYTHON_VERSION={full} or write .python-version, "
            f"and delete {shown}."
        )
    return warnings


def runtime_txt_request(path: Path, repo_root: Path) -> str:
    """What a runtime.txt asks for: `python-3.11.9` -> `3.11.9`, else what it holds in words.

    Its text is never given back as it is: a runtime.txt that is a link to a host file is not
    read, and a first line that is not `python-X.Y[.Z]` is described, not quoted.
    """
    if not inside_repo(repo_root, path):
        return "(nothing render-sim reads: it leads outside the repository)"
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return "(unreadable)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(nothing: the file is empty)"
    match = re.fullmatch(r"python-(\d+\.\d+(?:\.\d+)?)", lines[0], re.IGNORECASE)
    return match[1] if match else "(a first line that is not python-X.Y.Z)"

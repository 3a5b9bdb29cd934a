"""A requested Python version, read as Render reads it: `PYTHON_VERSION` or `.python-version`.

`PYTHON_VERSION` must be a full `X.Y.Z`; a `.python-version` holds one version, `X.Y` (the
newest `X.Y.Z`) or `X.Y.Z`. Either must name a final CPython release no older than Render's
minimum. Anything else is a `ConfigurationError` naming where the request came from, with the
fix; a request that cannot be read is never printed back (the file and line are named instead).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from simulator.config.python_releases import (
    SERIES,
    CPythonReleases,
    Version,
    format_version,
    load_defaults,
    load_releases,
    parse_version,
    series_of,
)
from simulator.errors import ConfigurationError, Location

# Where Render checks out the repository; log lines name files by their path in there.
RENDER_CHECKOUT = PurePosixPath("/opt/render/project/src")
DOCS_URL = "https://render.com/docs/python-version"
#: Where a PythonChoice came from (`PythonChoice.source`).
SOURCE_ENV = "PYTHON_VERSION"
SOURCE_FILE = ".python-version"
SOURCE_DEFAULT = "default"

_VERSION_LIKE = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6}){0,3}")
_PRE_RELEASE = re.compile(r"\d+\.\d+\.\d+(?:a|b|rc|\.dev|-dev|dev)\d*", re.IGNORECASE)
_OTHER_IMPLEMENTATIONS = ("pypy", "graalpy", "jython", "ironpython", "micropython", "stackless")
_DISTRIBUTIONS = ("anaconda", "miniconda", "miniforge", "mambaforge", "activepython", "conda")


def read_python_version_file(
    path: Path,
    releases: CPythonReleases | None = None,
    shown_as: str | None = None,
) -> tuple[str, str]:
    """Read a `.python-version` as Render does; return (what it asks for, full version).

    The file holds one version, `X.Y` (the newest `X.Y.Z`) or `X.Y.Z`. Whitespace, blank
    lines and `#` comments are tolerated. Anything else is a ConfigurationError naming the
    file, the line and the fix.
    """
    releases = releases or load_releases()
    shown = shown_as or path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ConfigurationError(
            f"cannot read {shown}: {error.strerror or error}", where=Location(shown)
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{shown} is not UTF-8 text",
            hint="Write one version on one line, e.g. 3.13 or 3.13.4.",
            where=Location(shown),
        ) from error

    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            entries.append((number, content))
    if not entries:
        raise ConfigurationError(
            f"{shown} is empty",
            hint="Write one version, e.g. 3.13 (Render uses the newest 3.13.x) or 3.13.4.",
            where=Location(shown, 1),
        )
    if len(entries) > 1:
        raise ConfigurationError(
            f"{shown} lists {len(entries)} versions; Render reads a single version",
            hint="Keep one line, e.g. 3.13 (Render uses the newest 3.13.x) or 3.13.4.",
            where=Location(shown, entries[1][0]),
        )
    number, spec = entries[0]
    where = Location(shown, number)
    full = parse_version(spec)
    if full is not None:
        return spec, _check_released(full, releases, where=where)
    series = SERIES.fullmatch(spec)
    if series is not None:
        newest = releases.newest(spec)
        minimum = load_defaults().minimum
        if (int(series[1]), int(series[2])) < minimum[:2]:
            raise _too_old(spec, releases, where)
        if newest is None:
            raise ConfigurationError(
                f"{shown} asks for Python {spec}, which has no release",
                hint=f"Use a released series, e.g. {series_of(releases.nearest(spec))}. If "
                f"{spec} came out after {releases.updated.isoformat()}, update render-sim's "
                "release list with scripts/update_cpython_releases.py.",
                where=where,
            )
        return spec, newest
    raise ConfigurationError(
        # The line is named, not quoted: it may be anything (a file linked from elsewhere).
        "this line is not a Python version Render understands",
        hint=_spec_hint(spec, releases),
        where=where,
    )


def _spec_hint(spec: str, releases: CPythonReleases) -> str:
    """Explain what is wrong with a `.python-version` line and what to write instead."""
    lowered = spec.lower()
    numbers = re.search(r"[0-9]{1,6}\.[0-9]{1,6}(?:\.[0-9]{1,6})?", spec)
    example = numbers[0] if numbers else series_of(releases.newest_overall)
    generic = "Write a version such as 3.13 (Render uses the newest 3.13.x) or 3.13.4."
    if any(lowered.startswith(name) for name in _OTHER_IMPLEMENTATIONS):
        return f"Render installs CPython only. {generic}"
    if any(lowered.startswith(name) for name in _DISTRIBUTIONS):
        return f"Render installs CPython from python.org, not a conda distribution. {generic}"
    if _PRE_RELEASE.fullmatch(spec.strip()):
        series = series_of(example)
        newest = releases.newest(series)
        fix = f"write {series} or {newest}" if newest else f"write {releases.newest_overall}"
        return f"Render installs final releases only, not pre-releases: {fix}."
    if re.fullmatch(r"(?:c?python)[-_ ]?v?\d.*", lowered) or lowered.startswith("v"):
        return f"Write the number alone: {example} (`python-3.x` is Heroku's runtime.txt format)."
    if re.search(r"[x*^~<>=,]", lowered):
        return f"Ranges and wildcards are not supported; write one version such as {example}."
    if re.fullmatch(r"\d+", spec):
        return f"Give at least major.minor, e.g. {series_of(releases.newest_overall)}."
    if lowered == "system":
        return f"`system` is a pyenv setting that Render does not understand. {generic}"
    return generic


def version_from_env(requested: str, releases: CPythonReleases) -> str:
    """Validate PYTHON_VERSION; return the version to install."""
    value = requested.strip()
    full = parse_version(value)
    if full is None:
        # Render's own message, seen in pasted Render build logs (e.g. a build of
        # rohanbk10/utd-innovation-lab-2026 in 2026): the build stops right after checkout.
        series = SERIES.fullmatch(value)
        newest = releases.newest(value) if series else None
        if newest is not None:
            hint = (
                f"Set PYTHON_VERSION={newest} (the newest {value} release), or remove "
                f"PYTHON_VERSION and write {value} to .python-version to get the newest patch."
            )
        else:
            hint = f"Set PYTHON_VERSION to a full version such as {releases.newest('3.13')}."
        # The value is quoted as Render does only when it is a version number cut short: any
        # other text may be a secret (an --env-file value) and is never printed.
        asked = value if _VERSION_LIKE.fullmatch(value) else "a value that is not a version"
        raise ConfigurationError(
            "The PYTHON_VERSION must provide a major, minor, and patch version, e.g. 3.8.1. "
            f"You have requested {asked}. See {DOCS_URL} for more information.",
            hint=hint,
        )
    return _check_released(full, releases, where=None, via="PYTHON_VERSION=")


def _check_released(
    version: Version, releases: CPythonReleases, where: Location | None, via: str = ""
) -> str:
    """Refuse versions older than Render's minimum or never released; return X.Y.Z."""
    text = format_version(version)
    if version < load_defaults().minimum:
        raise _too_old(text, releases, where, via)
    if version not in releases.versions:
        # Render's log for a version it cannot install reads
        # "==> Could not fetch Python version 3.11.18" (seen in several user repos).
        nearest = releases.nearest(text)
        raise ConfigurationError(
            f"Could not fetch Python version {text}: no CPython release has that number",
            hint=f"Use {via}{nearest}, the nearest release. If {text} came out after "
            f"{releases.updated.isoformat()}, update render-sim's release list with "
            "scripts/update_cpython_releases.py.",
            where=where,
        )
    return text


def _too_old(
    version: str, releases: CPythonReleases, where: Location | None, via: str = ""
) -> ConfigurationError:
    minimum = format_version(load_defaults().minimum)
    return ConfigurationError(
        f"Python {version} is older than {minimum}, the oldest version Render installs",
        hint=f"Use {via}{releases.nearest(version)} or newer (see {DOCS_URL}).",
        where=where,
    )


def service_then_repo(repo_root: Path, root_dir: str) -> list[Path]:
    """Where Render looks for the version files: the service's root, then the repo's."""
    directories = []
    if root_dir:
        directories.append(repo_root / root_dir)
    directories.append(repo_root)
    return directories


def shown_path(repo_root: Path, path: Path) -> str:
    """`path` as messages show it: relative to the repo when inside it."""
    try:
        return path.relative_to(repo_root).as_posix()
    except ValueError:
        return path.as_posix()

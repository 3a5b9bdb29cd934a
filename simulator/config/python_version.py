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

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from simulator.errors import ConfigurationError, Location, RenderSimError
from simulator.locations import DATA_DIR

RELEASES_FILE = DATA_DIR / "cpython_releases.yaml"
DEFAULTS_FILE = DATA_DIR / "render_python_defaults.yaml"

# Where Render checks out the repository; log lines name files by their path in there.
RENDER_CHECKOUT = PurePosixPath("/opt/render/project/src")
DOCS_URL = "https://render.com/docs/python-version"

SOURCE_ENV = "PYTHON_VERSION"
SOURCE_FILE = ".python-version"
SOURCE_DEFAULT = "default"

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

Version = tuple[int, int, int]

# ASCII digits only (`\d` also matches "３" and "٣"), and few of them: Python refuses to
# convert more than 4300 digits to an int, and no release number comes near six.
_PART = r"([0-9]{1,6})"
_FULL = re.compile(rf"{_PART}\.{_PART}\.{_PART}")
_SERIES = re.compile(rf"{_PART}\.{_PART}")
_PRE_RELEASE = re.compile(r"\d+\.\d+\.\d+(?:a|b|rc|\.dev|-dev|dev)\d*", re.IGNORECASE)
_OTHER_IMPLEMENTATIONS = ("pypy", "graalpy", "jython", "ironpython", "micropython", "stackless")
_DISTRIBUTIONS = ("anaconda", "miniconda", "miniforge", "mambaforge", "activepython", "conda")


def _parse_version(text: str) -> Version | None:
    match = _FULL.fullmatch(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _format(version: Version) -> str:
    return ".".join(str(part) for part in version)


# --------------------------------------------------------------------------------------
# Data files: loaded once, validated while loading.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CPythonReleases:
    """Every final CPython release Render could install, from data/cpython_releases.yaml.

    Used to resolve `3.12` to the newest 3.12.x and to reject versions that were never
    released. Render's own list of builds is not public; this is the upstream list.
    """

    versions: tuple[Version, ...]  # ascending
    source: str
    updated: date

    def __contains__(self, version: object) -> bool:
        parsed = _parse_version(version) if isinstance(version, str) else None
        return parsed is not None and parsed in self.versions

    @property
    def oldest(self) -> str:
        return _format(self.versions[0])

    @property
    def newest_overall(self) -> str:
        return _format(self.versions[-1])

    def newest(self, series: str) -> str | None:
        """The newest release of a series (`"3.12"` -> `"3.12.15"`), or None if unknown."""
        match = _SERIES.fullmatch(series)
        if match is None:
            return None
        wanted = (int(match[1]), int(match[2]))
        in_series = [v for v in self.versions if v[:2] == wanted]
        return _format(in_series[-1]) if in_series else None

    def nearest(self, version: str) -> str:
        """The release closest to `version` (`X.Y` or `X.Y.Z`), to suggest as a fix."""
        parts = [int(p) for p in re.findall(r"[0-9]{1,6}", version)[:3]]
        while len(parts) < 3:
            parts.append(0)
        wanted = (parts[0], parts[1], parts[2])
        same_series = [v for v in self.versions if v[:2] == wanted[:2]]
        if same_series:
            return _format(min(same_series, key=lambda v: abs(v[2] - wanted[2])))
        if wanted < self.versions[0]:
            return self.oldest
        return self.newest_overall


@dataclass(frozen=True)
class DefaultPython:
    """One row of Render's default-version table: services created in [start, end).

    `documented` is False for the row render-sim adds to cover the month Render's table
    leaves out (2023-11-01 to 2023-12-04).
    """

    version: str
    start: date | None
    end: date | None
    documented: bool = True

    def covers(self, created: date) -> bool:
        return (self.start is None or self.start <= created) and (
            self.end is None or created < self.end
        )


@dataclass(frozen=True)
class RenderDefaults:
    """Render's default-version table, oldest row first, with the minimum version."""

    rows: tuple[DefaultPython, ...]
    minimum: Version
    source: str


def _data_error(file: Path, problem: str) -> RenderSimError:
    # A bad data file is a defect of the render-sim installation, not of the user's repo.
    return RenderSimError(
        f"render-sim's data file {file.name} is invalid: {problem}",
        hint="Reinstall render-sim; for the release list, regenerate it with "
        "scripts/update_cpython_releases.py.",
    )


def _read_data(file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise _data_error(file, str(error)) from error
    if not isinstance(data, dict):
        raise _data_error(file, "the top level is not a mapping")
    return data


def _source_text(file: Path, data: dict[str, Any]) -> str:
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _data_error(file, "it does not say where its facts come from (source:)")
    return source.strip()


@functools.cache
def _load_releases(file: Path) -> CPythonReleases:
    data = _read_data(file)
    source = _source_text(file, data)
    updated = data.get("updated")
    if not isinstance(updated, date):
        raise _data_error(file, "updated: is not a date (YYYY-MM-DD)")
    series = data.get("releases")
    if not isinstance(series, dict) or not series:
        raise _data_error(file, "releases: is not a mapping of series to versions")
    versions: list[Version] = []
    for name, items in series.items():
        if not isinstance(name, str) or _SERIES.fullmatch(name) is None:
            raise _data_error(file, f"series {name!r} is not a quoted X.Y string")
        if not isinstance(items, list) or not items:
            raise _data_error(file, f"series {name} has no list of versions")
        for item in items:
            version = _parse_version(item) if isinstance(item, str) else None
            if version is None:
                raise _data_error(file, f"{item!r} in series {name} is not a final X.Y.Z release")
            if f"{version[0]}.{version[1]}" != name:
                raise _data_error(file, f"{item} is listed under series {name}")
            versions.append(version)
    if len(set(versions)) != len(versions):
        raise _data_error(file, "a version is listed twice")
    if versions != sorted(versions):
        raise _data_error(file, "versions are not in ascending order")
    return CPythonReleases(versions=tuple(versions), source=source, updated=updated)


def load_releases(file: Path | None = None) -> CPythonReleases:
    """The CPython release list (loaded once per file, validated on load)."""
    return _load_releases((file or RELEASES_FILE).resolve())


def _optional_date(file: Path, row: dict[str, Any], key: str) -> date | None:
    value = row.get(key)
    if value is None or isinstance(value, date):
        return value
    raise _data_error(file, f"{key}: {value!r} is not a date (YYYY-MM-DD) or null")


@functools.cache
def _load_defaults(file: Path) -> RenderDefaults:
    data = _read_data(file)
    source = _source_text(file, data)
    minimum = _parse_version(str(data.get("minimum", "")))
    if minimum is None:
        raise _data_error(file, "minimum: is not an X.Y.Z version")
    raw_rows = data.get("defaults")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise _data_error(file, "defaults: is not a list of rows")
    rows: list[DefaultPython] = []
    for raw in raw_rows:
        if not isinstance(raw, dict):
            raise _data_error(file, "a row of defaults: is not a mapping")
        version = str(raw.get("version", ""))
        if _parse_version(version) is None:
            raise _data_error(file, f"version {version!r} is not X.Y.Z")
        documented = raw.get("documented", True)
        if not isinstance(documented, bool):
            raise _data_error(file, "documented: must be true or false")
        start, end = _optional_date(file, raw, "from"), _optional_date(file, raw, "until")
        if start is not None and end is not None and not start < end:
            raise _data_error(file, f"row {start} to {end} ends before it starts")
        rows.append(DefaultPython(version, start, end, documented))
    rows.sort(key=lambda row: row.start or date.min)
    if rows[0].start is not None or rows[-1].end is not None:
        raise _data_error(file, "the oldest row must have no from: and the newest no until:")
    for older, newer in zip(rows, rows[1:], strict=False):
        if older.end != newer.start:
            what = "overlap" if older.end and newer.start and older.end > newer.start else "gap"
            raise _data_error(file, f"{what} between {older.end} and {newer.start}")
    return RenderDefaults(rows=tuple(rows), minimum=minimum, source=source)


def load_defaults(file: Path | None = None) -> RenderDefaults:
    """Render's default-version table (loaded once per file, validated on load)."""
    return _load_defaults((file or DEFAULTS_FILE).resolve())


def default_for(created: date) -> DefaultPython:
    """The default Python of a service created on `created`, as Render's table gives it."""
    for row in load_defaults().rows:
        if row.covers(created):
            return row
    raise AssertionError("the defaults table covers every date (checked on load)")


# --------------------------------------------------------------------------------------
# The choice.
# --------------------------------------------------------------------------------------


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
            version=_version_from_env(requested, releases),
            source=SOURCE_ENV,
            requested=requested.strip(),
            log_suffix="via environment variable PYTHON_VERSION",
        )
        if version_file is not None:
            warnings.extend(_shadowed_file_warning(repo_root, version_file, choice, releases))
    elif version_file is not None:
        shown = _relative(repo_root, version_file)
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

    warnings.extend(_misspelled_file_warnings(repo_root, root_dir))
    warnings.extend(_runtime_txt_warnings(repo_root, root_dir, choice, releases))
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
    """
    for directory in _service_then_repo(repo_root, root_dir):
        candidate = directory / SOURCE_FILE
        if candidate.is_file():
            return candidate
    return None


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
            hint=f"Keep one line, e.g. {_shorten(entries[0][1])}.",
            where=Location(shown, entries[1][0]),
        )
    number, spec = entries[0]
    where = Location(shown, number)
    full = _parse_version(spec)
    if full is not None:
        return spec, _check_released(full, releases, where=where)
    series = _SERIES.fullmatch(spec)
    if series is not None:
        newest = releases.newest(spec)
        minimum = load_defaults().minimum
        if (int(series[1]), int(series[2])) < minimum[:2]:
            raise _too_old(spec, releases, where)
        if newest is None:
            raise ConfigurationError(
                f"{shown} asks for Python {spec}, which has no release",
                hint=f"Use a released series, e.g. {_series_of(releases.nearest(spec))}. If "
                f"{spec} came out after {releases.updated.isoformat()}, update render-sim's "
                "release list with scripts/update_cpython_releases.py.",
                where=where,
            )
        return spec, newest
    raise ConfigurationError(
        f"{_shorten(spec)!r} is not a Python version Render understands",
        hint=_spec_hint(spec, releases),
        where=where,
    )


def _series_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _spec_hint(spec: str, releases: CPythonReleases) -> str:
    """Explain what is wrong with a `.python-version` line and what to write instead."""
    lowered = spec.lower()
    numbers = re.search(r"[0-9]{1,6}\.[0-9]{1,6}(?:\.[0-9]{1,6})?", spec)
    example = numbers[0] if numbers else _series_of(releases.newest_overall)
    generic = "Write a version such as 3.13 (Render uses the newest 3.13.x) or 3.13.4."
    if any(lowered.startswith(name) for name in _OTHER_IMPLEMENTATIONS):
        return f"Render installs CPython only. {generic}"
    if any(lowered.startswith(name) for name in _DISTRIBUTIONS):
        return f"Render installs CPython from python.org, not a conda distribution. {generic}"
    if _PRE_RELEASE.fullmatch(spec.strip()):
        series = _series_of(example)
        newest = releases.newest(series)
        fix = f"write {series} or {newest}" if newest else f"write {releases.newest_overall}"
        return f"Render installs final releases only, not pre-releases: {fix}."
    if re.fullmatch(r"(?:c?python)[-_ ]?v?\d.*", lowered) or lowered.startswith("v"):
        return f"Write the number alone: {example} (`python-3.x` is Heroku's runtime.txt format)."
    if re.search(r"[x*^~<>=,]", lowered):
        return f"Ranges and wildcards are not supported; write one version such as {example}."
    if re.fullmatch(r"\d+", spec):
        return f"Give at least major.minor, e.g. {_series_of(releases.newest_overall)}."
    if lowered == "system":
        return f"`system` is a pyenv setting that Render does not understand. {generic}"
    return generic


def _version_from_env(requested: str, releases: CPythonReleases) -> str:
    """Validate PYTHON_VERSION; return the version to install."""
    value = requested.strip()
    full = _parse_version(value)
    if full is None:
        # Render's own message, seen in pasted Render build logs (e.g. a build of
        # rohanbk10/utd-innovation-lab-2026 in 2026): the build stops right after checkout.
        series = _SERIES.fullmatch(value)
        newest = releases.newest(value) if series else None
        if newest is not None:
            hint = (
                f"Set PYTHON_VERSION={newest} (the newest {value} release), or remove "
                f"PYTHON_VERSION and write {value} to .python-version to get the newest patch."
            )
        else:
            hint = f"Set PYTHON_VERSION to a full version such as {releases.newest('3.13')}."
        raise ConfigurationError(
            "The PYTHON_VERSION must provide a major, minor, and patch version, e.g. 3.8.1. "
            f"You have requested {_shorten(_encodable(value))}. See {DOCS_URL} for more "
            "information.",
            hint=hint,
        )
    return _check_released(full, releases, where=None, via="PYTHON_VERSION=")


def _check_released(
    version: Version, releases: CPythonReleases, where: Location | None, via: str = ""
) -> str:
    """Refuse versions older than Render's minimum or never released; return X.Y.Z."""
    text = _format(version)
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
    minimum = _format(load_defaults().minimum)
    return ConfigurationError(
        f"Python {version} is older than {minimum}, the oldest version Render installs",
        hint=f"Use {via}{releases.nearest(version)} or newer (see {DOCS_URL}).",
        where=where,
    )


# --------------------------------------------------------------------------------------
# Warnings: files Render does not read.
# --------------------------------------------------------------------------------------


def _shadowed_file_warning(
    repo_root: Path, version_file: Path, choice: PythonChoice, releases: CPythonReleases
) -> list[str]:
    shown = _relative(repo_root, version_file)
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


def _misspelled_file_warnings(repo_root: Path, root_dir: str) -> list[str]:
    warnings = []
    for directory in _service_then_repo(repo_root, root_dir):
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
                shown = _relative(repo_root, directory / name)
                warnings.append(
                    f"{shown} is not read by Render: the file must be named exactly "
                    f".python-version (leading dot, hyphen, lower case)."
                )
    return warnings


def _runtime_txt_warnings(
    repo_root: Path, root_dir: str, choice: PythonChoice, releases: CPythonReleases
) -> list[str]:
    warnings = []
    # Only the service's own root: a runtime.txt elsewhere in the repo (another app's, or the
    # repo root's when the service lives in a subfolder) is not this service's configuration.
    for directory in _service_then_repo(repo_root, root_dir)[:1]:
        path = directory / "runtime.txt"
        if not path.is_file():
            continue
        shown = _relative(repo_root, path)
        asks = runtime_txt_request(path)
        used = f"{choice.version} ({choice.log_suffix.strip('()')})"
        same = asks == choice.version or (
            _SERIES.fullmatch(asks) is not None and _series_of(choice.version) == asks
        )
        if same:
            warnings.append(
                f"{shown} is ignored by Render (it is Heroku's file): it asks for {asks}, "
                f"which Render will use anyway ({choice.log_suffix.strip('()')}), but only "
                "by coincidence. Keep the version in PYTHON_VERSION or .python-version and "
                f"delete {shown}."
            )
            continue
        full = asks if _parse_version(asks) else (releases.newest(asks) or "X.Y.Z")
        warnings.append(
            f"{shown} is ignored by Render (it is Heroku's file): it asks for {asks} but "
            f"Render will use {used}. Set PYTHON_VERSION={full} or write .python-version, "
            f"and delete {shown}."
        )
    return warnings


def runtime_txt_request(path: Path) -> str:
    """What a runtime.txt asks for: `python-3.11.9` -> `3.11.9`, else the text itself."""
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return "(unreadable)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(nothing: the file is empty)"
    match = re.fullmatch(r"python-(\d+\.\d+(?:\.\d+)?)", lines[0], re.IGNORECASE)
    return match[1] if match else _shorten(lines[0])


def _service_then_repo(repo_root: Path, root_dir: str) -> list[Path]:
    directories = []
    if root_dir:
        directories.append(repo_root / root_dir)
    directories.append(repo_root)
    return directories


def _relative(repo_root: Path, path: Path) -> str:
    try:
        return path.relative_to(repo_root).as_posix()
    except ValueError:
        return path.as_posix()


def _encodable(text: str) -> str:
    """`text` with lone surrogates written as `\\udcff`, so it can be printed as UTF-8.

    A value taken from the command line or the environment carries undecodable bytes as
    lone surrogates, and a strict UTF-8 stream refuses to write them.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

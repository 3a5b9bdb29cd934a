"""The CPython releases Render could install, and Render's default Python by creation date.

Two data files, loaded once and validated while loading (a bad one is a defect of the
render-sim installation, exit 70): `data/cpython_releases.yaml`, the upstream list of final
CPython releases (to resolve `3.12` to the newest 3.12.x and to refuse numbers that were never
released), and `data/render_python_defaults.yaml`, Render's table of default versions by the
service's creation date (render.com/docs/python-version).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import RenderSimError
from simulator.locations import DATA_DIR
from simulator.render import facts

RELEASES_FILE = DATA_DIR / "cpython_releases.yaml"
DEFAULTS_FILE = DATA_DIR / "render_python_defaults.yaml"

Version = tuple[int, int, int]

# ASCII digits only (`\d` also matches "３" and "٣"), and few of them: Python refuses to
# convert more than 4300 digits to an int, and no release number comes near six.
PART = r"([0-9]{1,6})"
FULL = re.compile(rf"{PART}\.{PART}\.{PART}")
SERIES = re.compile(rf"{PART}\.{PART}")


def parse_version(text: str) -> Version | None:
    match = FULL.fullmatch(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def series_of(version: str) -> str:
    """`3.13.4` -> `3.13`."""
    return ".".join(version.split(".")[:2])


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
        parsed = parse_version(version) if isinstance(version, str) else None
        return parsed is not None and parsed in self.versions

    @property
    def oldest(self) -> str:
        return format_version(self.versions[0])

    @property
    def newest_overall(self) -> str:
        return format_version(self.versions[-1])

    def newest(self, series: str) -> str | None:
        """The newest release of a series (`"3.12"` -> `"3.12.15"`), or None if unknown."""
        match = SERIES.fullmatch(series)
        if match is None:
            return None
        wanted = (int(match[1]), int(match[2]))
        in_series = [v for v in self.versions if v[:2] == wanted]
        return format_version(in_series[-1]) if in_series else None

    def nearest(self, version: str) -> str:
        """The release closest to `version` (`X.Y` or `X.Y.Z`), to suggest as a fix."""
        parts = [int(p) for p in re.findall(r"[0-9]{1,6}", version)[:3]]
        while len(parts) < 3:
            parts.append(0)
        wanted = (parts[0], parts[1], parts[2])
        same_series = [v for v in self.versions if v[:2] == wanted[:2]]
        if same_series:
            return format_version(min(same_series, key=lambda v: abs(v[2] - wanted[2])))
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
    """A data file's mapping: render-sim's own through the one data loader (`render.facts`,
    which checks it against its schema), another one (a file being edited) read here."""
    for name, packaged in (
        ("cpython_releases", RELEASES_FILE),
        ("render_python_defaults", DEFAULTS_FILE),
    ):
        if file == packaged.resolve():
            loaded: dict[str, Any] = facts.load(name)
            return loaded
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
        if not isinstance(name, str) or SERIES.fullmatch(name) is None:
            raise _data_error(file, f"series {name!r} is not a quoted X.Y string")
        if not isinstance(items, list) or not items:
            raise _data_error(file, f"series {name} has no list of versions")
        for item in items:
            version = parse_version(item) if isinstance(item, str) else None
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
    minimum = parse_version(str(data.get("minimum", "")))
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
        if parse_version(version) is None:
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

#!/usr/bin/env python3
"""Regenerate simulator/data/cpython_releases.yaml from python.org's release API.

render-sim uses that file to resolve a partial `.python-version` (`3.12` -> the newest
3.12.x) and to reject versions that were never released. Run this script when a new
CPython release is out:

    python scripts/update_cpython_releases.py            # fetch from python.org
    python scripts/update_cpython_releases.py --input releases.json   # a saved API answer

Only the standard library is used, so it runs before render-sim is installed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

API_URL = "https://www.python.org/api/v2/downloads/release/?is_published=true"
OUTPUT = Path(__file__).resolve().parent.parent / "simulator" / "data" / "cpython_releases.yaml"
# The oldest Python Render installs (render.com/docs/python-version).
MINIMUM = (3, 7, 3)
# Final releases only: "Python 3.12.4". Pre-releases read "Python 3.13.0rc2" and fail this.
FINAL_RELEASE = re.compile(r"^Python (\d+)\.(\d+)\.(\d+)$")
Version = tuple[int, int, int]


def fetch(url: str) -> object:
    """Download and decode the API's JSON answer."""
    request = urllib.request.Request(url, headers={"User-Agent": "render-sim release updater"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def final_releases(entries: object) -> list[Version]:
    """Keep the published final CPython releases at or above MINIMUM, sorted, no duplicates."""
    if not isinstance(entries, list):
        raise ValueError("expected a JSON list of releases from the python.org API")
    found: set[Version] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("pre_release") or entry.get("is_published") is False:
            continue
        match = FINAL_RELEASE.match(str(entry.get("name", "")).strip())
        if match is None:
            continue
        version = (int(match[1]), int(match[2]), int(match[3]))
        if version >= MINIMUM:
            found.add(version)
    if not found:
        raise ValueError("the python.org answer holds no final release from 3.7.3 onward")
    return sorted(found)


def to_yaml(versions: Iterable[Version], source: str, updated: datetime.date) -> str:
    """Write the data file's text: one quoted list per series, lines kept under 90 columns."""
    by_series: dict[str, list[str]] = {}
    for major, minor, micro in sorted(versions):
        by_series.setdefault(f"{major}.{minor}", []).append(f'"{major}.{minor}.{micro}"')
    lines = [
        "# Every final CPython release from 3.7.3 (the oldest Render installs) onward, by series.",
        "# Regenerate with: python scripts/update_cpython_releases.py",
        "source: >-",
        *_fill([word + " " for word in source.split()], first="  ", indent="  "),
        f"updated: {updated.isoformat()}",
        "releases:",
    ]
    for series, items in by_series.items():
        head = f'  "{series}": ['
        pieces = [item + ", " for item in items[:-1]] + [items[-1] + "]"]
        lines.extend(_fill(pieces, first=head, indent=" " * len(head)))
    return "\n".join(lines) + "\n"


def _fill(pieces: list[str], *, first: str, indent: str, width: int = 90) -> list[str]:
    """Greedy line filling: `first` opens the first line, `indent` the following ones."""
    lines: list[str] = []
    current, empty = first, True
    for piece in pieces:
        if not empty and len(current) + len(piece.rstrip()) > width:
            lines.append(current.rstrip())
            current = indent
        current += piece
        empty = False
    lines.append(current.rstrip())
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="read a saved API answer instead of fetching")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)

    today = datetime.date.today()
    try:
        if args.input is not None:
            entries = json.loads(args.input.read_text(encoding="utf-8"))
            where = f"a saved copy ({args.input.name}) of {API_URL}"
        else:
            entries = fetch(API_URL)
            where = API_URL
        versions = final_releases(entries)
    except OSError as error:  # includes urllib's URLError: no network, HTTP errors
        print(f"error: cannot read the release list: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # includes JSONDecodeError
        print(f"error: {error}", file=sys.stderr)
        return 1
    source = f"python.org release API, {where}, final releases only, read {today.isoformat()}."
    args.output.write_text(to_yaml(versions, source, today), encoding="utf-8")
    newest = ".".join(map(str, versions[-1]))
    print(f"wrote {len(versions)} releases (newest {newest}) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

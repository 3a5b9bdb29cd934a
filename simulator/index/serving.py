"""What the stand-in index serves for one project page, for one target Python.

A page's files are grouped by release once per run (`grouped`); for each target, `process` keeps
what pip can use (the wheels that install on the target) and adds a stand-in wheel for each
release only an sdist makes installable. The result uses server-relative URLs, so every stand-in
server of the run shares it (`PROCESSED`).
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from dataclasses import dataclass

from simulator.index.listing import IndexFile, parse_listing
from simulator.index.pages import Page
from simulator.index.versions import normal_version as _normal
from simulator.index.versions import version_from_filename as _file_version
from simulator.index.wheels import wheel_installs_on
from simulator.render.target import Target

STUB_PATH = "stand-in"  # the path of stand-in wheels on the server
FILE_PATH = "file"  # the path of upstream wheels whose metadata is served from the cache


@dataclass(frozen=True)
class _Processed:
    """A project page as served for one target: the same for every stand-in server (its URLs
    are server-relative), so resolutions of a run share it."""

    by_version: dict[str, list[IndexFile]]  # every upstream file, by release
    stubs: tuple[tuple[str, IndexFile], ...]  # (version, sdist) of each stand-in served
    files: dict[str, IndexFile]  # token -> upstream wheel whose metadata is served here
    body: bytes
    made: float


PROCESSED: dict[tuple[str, Target, str | None], _Processed] = {}


GROUPED: dict[str, tuple[Page, dict[str, list[IndexFile]]]] = {}


def grouped(url: str, page: Page) -> dict[str, list[IndexFile]]:
    """The page's files by release, parsed once per page (every Python's resolution of a run
    reads the same pages)."""
    known = GROUPED.get(url)
    if known is not None and known[0] is page:
        return known[1]
    by_version: dict[str, list[IndexFile]] = {}
    for item in parse_listing(page.body, page.content_type, page.url):
        version = _file_version(item.filename)
        if version is not None:
            by_version.setdefault(version, []).append(item)
    GROUPED[url] = (page, by_version)
    return by_version


def process(
    canonical: str, by_version: dict[str, list[IndexFile]], target: Target, phantom: str | None
) -> _Processed:
    """What pip is served for a project: only what it can use, the wheels that install on the
    target and a stand-in per release that only an sdist makes installable (pip spends seconds
    matching every macOS/Windows/ARM wheel of a big project against the tags otherwise)."""
    out: list[IndexFile] = []
    stubs: list[tuple[str, IndexFile]] = []
    served: dict[str, IndexFile] = {}
    installable: set[str] = set()
    for version, items in by_version.items():
        fitting = [
            i
            for i in items
            if i.is_wheel and wheel_installs_on(i.filename, target.minor, target.glibc)
        ]
        for item in fitting:
            out.append(_served(item, served))
        if any(target.allows(i.requires_python) for i in fitting):
            installable.add(version)
            continue
        sdists = [i for i in items if not i.is_wheel and target.allows(i.requires_python)]
        if not sdists:
            continue
        installable.add(version)
        stubs.append((version, sdists[0]))
        out.append(_stub_file(canonical, version, sdists[0]))
    if phantom and _normal(phantom) not in {_normal(v) for v in installable}:
        # pip found no release at all (a problem already reported): a stand-in without
        # dependencies lets the resolution go on to the other packages.
        fake = IndexFile(f"{canonical}-{phantom}.tar.gz", "", None)
        stubs.append((phantom, fake))
        out.append(_stub_file(canonical, phantom, fake))
    data = {
        "meta": {"api-version": "1.1"},
        "name": canonical,
        "files": [item.to_json() for item in out],
    }
    return _Processed(by_version, tuple(stubs), served, json.dumps(data).encode(), time.monotonic())


def _served(item: IndexFile, served: dict[str, IndexFile]) -> IndexFile:
    """An upstream wheel as pip sees it: its URL points at the stand-in and its PEP 658 metadata
    is advertised, so pip reads METADATA from the cache instead of downloading the wheel
    (proxies and mirrors often drop the listing's `core-metadata` key)."""
    if not item.url.startswith(("http://", "https://")):
        return item
    token = hashlib.sha256(item.url.encode()).hexdigest()[:24]
    served[token] = item
    return IndexFile(
        item.filename,
        f"/{FILE_PATH}/{token}/{urllib.parse.quote(item.filename)}",
        item.requires_python,
        item.yanked,
        item.hashes,
        item.metadata or True,
    )


def _stub_file(canonical: str, version: str, sdist: IndexFile) -> IndexFile:
    filename = f"{canonical.replace('-', '_')}-{version}-py3-none-any.whl"
    quoted = "/".join(urllib.parse.quote(p) for p in (canonical, version, filename))
    return IndexFile(
        filename=filename,
        url=f"/{STUB_PATH}/{quoted}",
        requires_python=sdist.requires_python,
        yanked=sdist.yanked,
        metadata=True,
    )

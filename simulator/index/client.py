"""Wheel facts from a package index, so fixes can say "this version has a wheel" and mean it.

`PackageIndex` reads PyPI's JSON API (`/pypi/<name>/json`), or a PEP 691 / PEP 503 simple index
(`/simple/<name>/`), caches every answer on disk as JSON with a time to live, and never raises on
network trouble: offline or unreachable, it answers from the cache, and with no cache it returns an
empty `IndexList` whose `checked` is False, so a fix can say it could not check.

The compatibility functions answer the question a Render build asks: does a wheel file install on
CPython X.Y, Linux x86_64, glibc 2.36 (Render's Debian 12 bookworm image)?
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from simulator import __version__, locations

#: Render's native runtime is Debian 12 bookworm (render-facts.md 2.1), which ships glibc 2.36.
RENDER_GLIBC: tuple[int, int] = (2, 36)
#: CPython minors Render can install (it accepts any release from 3.7.3 on), newest first.
RENDER_PYTHON_MINORS: tuple[str, ...] = (
    "3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8", "3.7",
)  # fmt: skip

DEFAULT_TTL = 24 * 3600  # project listings change when a release is published
RELEASE_TTL = 30 * 24 * 3600  # a release's metadata does not change once uploaded

_T = TypeVar("_T")


class IndexList(list[_T]):
    """A list answered by the index, with `checked` False when it could not be looked up.

    `origin` says where the answer came from: "network", "cache", "stale-cache" (network failed,
    an expired cache entry was used) or "unavailable".
    """

    def __init__(self, items: Iterable[_T] = (), checked: bool = True, origin: str = "network"):
        super().__init__(items)
        self.checked = checked
        self.origin = origin


@dataclass(frozen=True)
class DistFile:
    """One file of a release: its name, its Requires-Python, whether it is yanked, its URL."""

    filename: str
    requires_python: str | None = None
    yanked: bool = False
    url: str | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True)
class _Project:
    """Everything the index said about one project: files grouped by version."""

    releases: dict[str, tuple[DistFile, ...]]
    checked: bool
    origin: str


def default_cache_dir() -> Path:
    """$RENDER_SIM_CACHE/index when set, else render-sim's home (`RENDER_SIM_HOME`)/index."""
    root = os.environ.get("RENDER_SIM_CACHE")
    if root:
        return Path(root) / "index"
    return locations.cache_dir("index")


def _ssl_context() -> ssl.SSLContext:
    """The host's CA bundle when the environment names one (TLS-re-signing proxies need it)."""
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if cafile and Path(cafile).is_file():
        return ssl.create_default_context(cafile=cafile)
    return ssl.create_default_context()


class _NotFound(Exception):
    """The index answered 404: the project or release does not exist there."""


class _Unreachable(Exception):
    """The index could not be asked (offline, DNS, TLS, timeout, 5xx, garbage)."""


class PackageIndex:
    """Read-only view of a package index with a disk cache and an offline fallback.

    `base_url` is an index root such as "https://pypi.org" (JSON API first, then
    `/simple/<name>/`), or a simple index URL ending in "/simple" (simple API only).
    `simple_only` says whether to use only the simple API; by default, whether `base_url` ends
    in "/simple".
    """

    def __init__(
        self,
        base_url: str = "https://pypi.org",
        cache_dir: Path | str | None = None,
        offline: bool = False,
        timeout: float = 10,
        ttl: float = DEFAULT_TTL,
        *,
        simple_only: bool | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.offline = offline
        self.timeout = timeout
        self.ttl = ttl
        self._projects: dict[str, _Project] = {}
        self._requires: dict[tuple[str, str], IndexList[str]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._network_failed = False
        self._simple_only = (
            self.base_url.endswith("/simple") if simple_only is None else simple_only
        )

    def __repr__(self) -> str:
        return f"PackageIndex({self.base_url!r}, offline={self.offline})"

    @property
    def description(self) -> str:
        """A short name for messages: the index host."""
        return urllib.parse.urlsplit(self.base_url).netloc or self.base_url

    # -- public queries -------------------------------------------------------------------------

    def versions(self, name: str) -> IndexList[str]:
        """Every version the index lists for `name`, oldest first (PEP 440 order)."""
        project = self._project(name)
        ordered = sorted(project.releases, key=_version_key)
        return IndexList(ordered, checked=project.checked, origin=project.origin)

    def files(self, name: str, version: str) -> IndexList[DistFile]:
        """The files of one release; empty with `checked` True when the release does not exist."""
        project = self._project(name)
        wanted = normal_version(version)
        for listed, files in project.releases.items():
            if normal_version(listed) == wanted:
                return IndexList(files, checked=project.checked, origin=project.origin)
        return IndexList((), checked=project.checked, origin=project.origin)

    def requires_dist(self, name: str, version: str) -> IndexList[str]:
        """The release's Requires-Dist lines.

        From the JSON API (`/pypi/<name>/<version>/json`), else from a wheel's PEP 658 metadata
        file (`<wheel url>.metadata`); with neither, an empty unchecked list.
        """
        key = (canonicalize_name(name), normal_version(version))
        if key in self._requires:
            return self._requires[key]
        result = self._fetch_requires(name, version)
        self._requires[key] = result
        return result

    # -- project listing ------------------------------------------------------------------------

    def _project(self, name: str) -> _Project:
        canonical = canonicalize_name(name)
        if canonical not in self._projects:
            self._projects[canonical] = self._load_project(canonical)
        return self._projects[canonical]

    def _load_project(self, canonical: str) -> _Project:
        cache_key = f"project/{canonical}"
        fresh = self._cache_read(cache_key, self.ttl)
        if fresh is not None:
            return _project_from_cache(fresh, origin="cache")
        if not self.offline and not self._network_failed:
            try:
                releases = self._fetch_project(canonical)
            except _NotFound:
                self._cache_write(cache_key, {"releases": {}})
                return _Project({}, checked=True, origin="network")
            except _Unreachable:
                self._network_failed = True  # one failure is enough: do not wait N timeouts
            else:
                self._cache_write(cache_key, {"releases": _releases_to_json(releases)})
                return _Project(releases, checked=True, origin="network")
        stale = self._cache_read(cache_key, None)
        if stale is not None:
            return _project_from_cache(stale, origin="stale-cache")
        return _Project({}, checked=False, origin="unavailable")

    def _fetch_project(self, canonical: str) -> dict[str, tuple[DistFile, ...]]:
        quoted = urllib.parse.quote(canonical)
        if not self._simple_only:
            url = f"{self.base_url}/pypi/{quoted}/json"
            try:
                data, final_url = self._get_json(url)
                return _releases_from_json_api(data, final_url)
            except _NotFound:
                pass  # a plain simple index has no JSON API: try the simple page next
        simple_root = self.base_url if self._simple_only else f"{self.base_url}/simple"
        return self._fetch_simple(f"{simple_root}/{quoted}/")

    def _fetch_simple(self, url: str) -> dict[str, tuple[DistFile, ...]]:
        body, content_type, final_url = self._get(
            url,
            accept="application/vnd.pypi.simple.v1+json, text/html;q=0.1",
        )
        if "json" in content_type:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise _Unreachable(f"{url}: invalid JSON") from exc
            files = [
                DistFile(
                    filename=str(item.get("filename", "")),
                    requires_python=item.get("requires-python"),
                    yanked=bool(item.get("yanked")),
                    url=urllib.parse.urljoin(final_url, str(item.get("url", ""))),
                )
                for item in data.get("files", [])
                if isinstance(item, dict)
            ]
        else:
            files = _files_from_simple_html(body.decode("utf-8", "replace"), final_url)
        releases: dict[str, list[DistFile]] = {}
        for dist in files:
            version = version_from_filename(dist.filename)
            if version is not None:
                releases.setdefault(version, []).append(dist)
        return {version: tuple(items) for version, items in releases.items()}

    # -- requires-dist --------------------------------------------------------------------------

    def _fetch_requires(self, name: str, version: str) -> IndexList[str]:
        canonical = canonicalize_name(name)
        cache_key = f"requires/{canonical}/{normal_version(version)}"
        cached = self._cache_read(cache_key, RELEASE_TTL)
        if cached is not None:
            return IndexList(cached.get("requires_dist", []), origin="cache")
        if not self.offline and not self._network_failed:
            try:
                found = self._fetch_requires_online(canonical, version)
            except _Unreachable:
                self._network_failed = True
                found = None
            if found is not None:
                self._cache_write(cache_key, {"requires_dist": found})
                return IndexList(found, origin="network")
        stale = self._cache_read(cache_key, None)
        if stale is not None:
            return IndexList(stale.get("requires_dist", []), origin="stale-cache")
        return IndexList((), checked=False, origin="unavailable")

    def _fetch_requires_online(self, canonical: str, version: str) -> list[str] | None:
        if not self._simple_only:
            url = f"{self.base_url}/pypi/{urllib.parse.quote(canonical)}/{version}/json"
            try:
                data, _ = self._get_json(url)
            except _NotFound:
                pass
            else:
                info = data.get("info") if isinstance(data, dict) else None
                if isinstance(info, dict):
                    return [str(item) for item in info.get("requires_dist") or []]
        # PEP 658: the wheel's METADATA next to it, even where the listing does not advertise
        # it; else read out of the wheel with range requests (a static index has no .metadata).
        from simulator.index.wheel_metadata import range_getter, read_metadata

        if self._ssl is None:
            self._ssl = _ssl_context()
        get = range_getter(self.timeout, self._ssl, f"render-sim/{__version__}")
        for dist in self.files(canonical, version):
            if not dist.is_wheel or not dist.url:
                continue
            try:
                body = read_metadata(dist.url, get)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise _Unreachable(f"{dist.url}: {exc}") from exc
            if body is None:
                continue
            message = email.parser.Parser().parsestr(body.decode("utf-8", "replace"))
            return [str(item) for item in message.get_all("Requires-Dist") or []]
        return None

    # -- HTTP and cache -------------------------------------------------------------------------

    def _get_json(self, url: str) -> tuple[Any, str]:
        body, _, final_url = self._get(url, accept="application/json")
        try:
            return json.loads(body), final_url
        except ValueError as exc:
            raise _Unreachable(f"{url}: invalid JSON") from exc

    def _get(self, url: str, accept: str) -> tuple[bytes, str, str]:
        request = urllib.request.Request(
            url, headers={"Accept": accept, "User-Agent": f"render-sim/{__version__}"}
        )
        if self._ssl is None and url.startswith("https:"):
            self._ssl = _ssl_context()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl) as resp:
                return resp.read(), resp.headers.get("Content-Type", ""), resp.geturl()
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise _NotFound(url) from exc
            raise _Unreachable(f"{url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise _Unreachable(f"{url}: {exc}") from exc

    def _cache_path(self, key: str) -> Path:
        host = hashlib.sha256(self.base_url.encode()).hexdigest()[:12]
        safe = re.sub(r"[^A-Za-z0-9._/-]", "_", key)
        return self.cache_dir / host / f"{safe}.json"

    def _cache_read(self, key: str, ttl: float | None) -> dict[str, Any] | None:
        path = self._cache_path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
            return None
        if ttl is not None and time.time() - float(entry.get("fetched_at", 0)) > ttl:
            return None
        data: dict[str, Any] = entry["data"]
        return data

    def _cache_write(self, key: str, data: dict[str, Any]) -> None:
        path = self._cache_path(key)
        entry = {"fetched_at": time.time(), "index": self.base_url, "data": data}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(entry), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only or full disk costs speed, not correctness


# -- parsing index answers ----------------------------------------------------------------------


def _releases_from_json_api(data: Any, final_url: str) -> dict[str, tuple[DistFile, ...]]:
    releases: dict[str, tuple[DistFile, ...]] = {}
    raw = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise _Unreachable("JSON API answer has no releases")
    for version, files in raw.items():
        items = []
        for item in files if isinstance(files, list) else []:
            if not isinstance(item, dict):
                continue
            items.append(
                DistFile(
                    filename=str(item.get("filename", "")),
                    requires_python=item.get("requires_python"),
                    yanked=bool(item.get("yanked")),
                    # some mirrors rewrite file URLs as relative paths: resolve against the page
                    url=urllib.parse.urljoin(final_url, str(item.get("url", ""))),
                )
            )
        releases[str(version)] = tuple(items)
    return releases


class AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._attrs is not None:
            self.anchors.append((self._attrs, "".join(self._text).strip()))
            self._attrs = None


def _files_from_simple_html(html: str, page_url: str) -> list[DistFile]:
    parser = AnchorParser()
    parser.feed(html)
    files = []
    for attrs, text in parser.anchors:
        href = attrs.get("href") or ""
        url = urllib.parse.urljoin(page_url, href.split("#", 1)[0])
        filename = text or urllib.parse.unquote(url.rsplit("/", 1)[-1])
        files.append(
            DistFile(
                filename=filename,
                requires_python=attrs.get("data-requires-python"),
                yanked="data-yanked" in attrs,
                url=url,
            )
        )
    return files


def _releases_to_json(releases: dict[str, tuple[DistFile, ...]]) -> dict[str, list[list[Any]]]:
    return {
        version: [[f.filename, f.requires_python, f.yanked, f.url] for f in files]
        for version, files in releases.items()
    }


def _project_from_cache(data: dict[str, Any], origin: str) -> _Project:
    releases: dict[str, tuple[DistFile, ...]] = {}
    for version, files in (data.get("releases") or {}).items():
        items = []
        for row in files:
            if isinstance(row, list) and len(row) == 4:
                items.append(DistFile(str(row[0]), row[1], bool(row[2]), row[3]))
        releases[str(version)] = tuple(items)
    return _Project(releases, checked=True, origin=origin)


def version_from_filename(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def normal_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _parse_version(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


# -- wheel compatibility ------------------------------------------------------------------------


def parse_python(python: str | tuple[int, int]) -> tuple[int, int]:
    """(3, 14) from "3.14", "3.14.3", "cp314" or (3, 14)."""
    if isinstance(python, tuple):
        return python
    text = python.strip()
    if text.startswith("cp3") and text[3:].isdigit():
        return 3, int(text[3:])
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


@lru_cache(maxsize=64)
def supported_tags(
    python: tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC, arch: str = "x86_64"
) -> frozenset[Tag]:
    """The tags pip on CPython `python`, glibc Linux `arch`, accepts (no free-threaded build)."""
    platforms = [f"manylinux_{glibc[0]}_{minor}_{arch}" for minor in range(glibc[1], 4, -1)]
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    for (major, minor), alias in legacy.items():
        if (major, minor) <= glibc:
            platforms.append(f"{alias}_{arch}")
    platforms.append(f"linux_{arch}")
    interpreter = f"cp{python[0]}{python[1]}"
    abi = interpreter + "m" if python < (3, 8) else interpreter  # pymalloc ABI until 3.8
    tags = set(cpython_tags(python, abis=[abi], platforms=platforms))
    tags.update(compatible_tags(python, interpreter=interpreter, platforms=platforms))
    return frozenset(tags)


def wheel_installs_on(
    filename: str, python: str | tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC
) -> bool:
    """Does this wheel filename install on CPython `python`, Linux x86_64 at `glibc`?"""
    if not (filename.endswith("-any.whl") or "x86_64" in filename):
        return False  # macOS, Windows, ARM, ...: not worth parsing (big projects list thousands)
    tags = _wheel_tags(filename)
    supported = supported_tags(parse_python(python), glibc)
    return not tags.isdisjoint(supported)


@lru_cache(maxsize=200_000)
def _wheel_tags(filename: str) -> frozenset[Tag]:
    """A wheel filename's tags (none when it is not a valid wheel name), parsed once: the
    resolutions of a run read the same listings for several Pythons."""
    try:
        return frozenset(parse_wheel_filename(filename)[3])
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


def requires_python_allows(spec: str | None, python: tuple[int, int]) -> bool:
    if not spec:
        return True
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return True  # a broken Requires-Python is ignored by pip too
    return specifiers.contains(f"{python[0]}.{python[1]}.0", prereleases=True) or (
        specifiers.contains(f"{python[0]}.{python[1]}.99", prereleases=True)
    )


def compatible_wheel(
    files: Iterable[DistFile], python: tuple[int, int], glibc: tuple[int, int]
) -> DistFile | None:
    for dist in files:
        if (
            dist.is_wheel
            and wheel_installs_on(dist.filename, python, glibc)
            and requires_python_allows(dist.requires_python, python)
        ):
            return dist
    return None


def has_wheel_for(
    index: PackageIndex,
    name: str,
    version: str,
    python: str | tuple[int, int],
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> bool | None:
    """True/False when the index says whether name==version has a wheel for `python`; None
    when it could not be asked. Yanked files count: an exact pin still installs them."""
    files = index.files(name, version)
    if not files.checked:
        return None
    return compatible_wheel(files, parse_python(python), glibc) is not None


def newest_python_with_wheels(
    index: PackageIndex,
    name: str,
    version: str,
    pythons: Sequence[str] = RENDER_PYTHON_MINORS,
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> str | None:
    """The newest of `pythons` (tried in the order given, newest first) with a wheel for
    name==version; None when none has one or the index could not be asked."""
    files = index.files(name, version)
    if not files.checked:
        return None
    for python in pythons:
        if compatible_wheel(files, parse_python(python), glibc) is not None:
            return python
    return None


def _release_candidates(
    index: PackageIndex, name: str, minimum: str | None
) -> list[tuple[Version, str]]:
    """Final, not fully yanked releases of `name` at or above `minimum`, oldest first."""
    floor = _parse_version(minimum) if minimum else None
    found = []
    for listed in index.versions(name):
        parsed = _parse_version(listed)
        if parsed is None or parsed.is_prerelease or parsed.is_devrelease:
            continue
        if floor is not None and parsed < floor:
            continue
        files = index.files(name, listed)
        if files and all(dist.yanked for dist in files):
            continue
        found.append((parsed, listed))
    found.sort()
    return found


def first_version_with_wheel(
    index: PackageIndex,
    name: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
) -> str | None:
    """The oldest final release (at or above `minimum`) with a wheel for `python`."""
    target = parse_python(python)
    for _, listed in _release_candidates(index, name, minimum):
        if compatible_wheel(index.files(name, listed), target, glibc) is not None:
            return listed
    return None


def child_requirement(
    requires: Iterable[str], child: str, python: tuple[int, int]
) -> PepRequirement | None:
    """The unconditional (no extra) requirement on `child` that applies on Linux `python`."""
    wanted = canonicalize_name(child)
    environment = {
        "python_version": f"{python[0]}.{python[1]}",
        "python_full_version": f"{python[0]}.{python[1]}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    for line in requires:
        try:
            requirement = PepRequirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != wanted:
            continue
        try:
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
        except (InvalidMarker, UndefinedEnvironmentName):
            continue
        return requirement
    return None


@dataclass(frozen=True)
class ParentUpgrade:
    """The first parent release whose requirement lets pip pick a child with a wheel."""

    parent_version: str
    child_version: str
    child_specifier: str


def child_version_for_parent(
    index: PackageIndex,
    parent: str,
    parent_version: str,
    child: str,
    python: str | tuple[int, int],
) -> tuple[str, str] | None:
    """(newest child version the parent release allows, its specifier); None when unknown."""
    target = parse_python(python)
    requirement = child_requirement(index.requires_dist(parent, parent_version), child, target)
    if requirement is None:
        return None
    allowed = [
        (parsed, listed)
        for listed in index.versions(child)
        if (parsed := _parse_version(listed)) is not None
        and requirement.specifier.contains(parsed, prereleases=True)
    ]
    if not allowed:
        return None
    return max(allowed)[1], str(requirement.specifier)


def first_parent_version_with_wheels(
    index: PackageIndex,
    parent: str,
    child: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
    child_minimum: str | None = None,
) -> str | None:
    """The oldest final release of `parent` (at or above `minimum`) whose requirement on `child`
    resolves to a child release with a wheel for `python` (e.g. pydantic for pydantic-core).

    `child_minimum` is the child release that failed: old releases with abi3 wheels install on
    any newer CPython, so the search for the child's first wheel starts there."""
    found = find_parent_upgrade(index, parent, child, python, minimum, glibc, child_minimum)
    return found.parent_version if found else None


def find_parent_upgrade(
    index: PackageIndex,
    parent: str,
    child: str,
    python: str | tuple[int, int],
    minimum: str | None = None,
    glibc: tuple[int, int] = RENDER_GLIBC,
    child_minimum: str | None = None,
) -> ParentUpgrade | None:
    """Like `first_parent_version_with_wheels`, with the child version and specifier.

    Parents raise their child requirement over time, so the releases are binary-searched on
    "the child this release allows is at least the first child release with a wheel" (a few
    metadata fetches instead of one per release); the boundary is then checked for a real
    wheel, moving forward past releases whose child has a gap in its wheels.
    """
    target = parse_python(python)
    first_child = first_version_with_wheel(index, child, target, child_minimum, glibc)
    first_child_parsed = _parse_version(first_child) if first_child else None
    if first_child_parsed is None:
        return None
    candidates = [listed for _, listed in _release_candidates(index, parent, minimum)]
    answers: dict[str, tuple[str, str] | None] = {}

    def child_of(version: str) -> tuple[str, str] | None:
        if version not in answers:
            answers[version] = child_version_for_parent(index, parent, version, child, target)
        return answers[version]

    def new_enough(version: str) -> bool | None:
        answer = child_of(version)
        if answer is None:
            # A release that does not depend on the child at all is "not yet"; one whose
            # metadata or pinned child the index does not know stays unknown.
            requires = index.requires_dist(parent, version)
            if requires.checked and child_requirement(requires, child, target) is None:
                return False
            return None
        parsed = _parse_version(answer[0])
        return parsed is not None and parsed >= first_child_parsed

    boundary = _boundary(candidates, new_enough)
    if boundary is None:
        return None
    for version in candidates[boundary : boundary + 8]:
        answer = child_of(version)
        if answer and has_wheel_for(index, child, answer[0], target, glibc):
            return ParentUpgrade(version, answer[0], answer[1])
    return None


def first_release_where(
    index: PackageIndex,
    name: str,
    predicate: Callable[[str], bool | None],
    minimum: str | None = None,
    scan: int = 12,
) -> str | None:
    """The oldest final release of `name` (at or above `minimum`) for which `predicate` holds.

    The first `scan` releases are tried in order: the answer is usually close (fastapi 0.100.0
    accepts the pydantic 2 that 0.99.0 refuses), and a predicate that holds only for a while
    (later fastapi releases raise pydantic's minimum again) is found there. Past them it is
    assumed that once it holds it keeps holding (binary search; None answers are skipped)."""
    candidates = [listed for _, listed in _release_candidates(index, name, minimum)]
    for listed in candidates[:scan]:
        if predicate(listed):
            return listed
    candidates = candidates[scan:]
    boundary = _boundary(candidates, predicate)
    if boundary is None or boundary >= len(candidates):
        return None
    return candidates[boundary] if predicate(candidates[boundary]) else None


def _boundary(candidates: Sequence[str], predicate: Callable[[str], bool | None]) -> int | None:
    """Index of the first candidate where a monotonic `predicate` holds (len when none does);
    None when too many answers are unknown to tell."""
    low, high = 0, len(candidates)  # the boundary lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        verdict = _nearest_known(lambda i: predicate(candidates[i]), middle, low, high)
        if verdict is None:
            return None
        position, holds = verdict
        if holds:
            high = position
        else:
            low = position + 1
    return low


def _nearest_known(
    probe: Callable[[int], bool | None], middle: int, low: int, high: int, reach: int = 6
) -> tuple[int, bool] | None:
    """Probe `middle`, or the nearest position in [low, high) whose answer is known."""
    for distance in range(min(high - low, reach)):
        for position in (middle - distance, middle + distance):
            if low <= position < high:
                verdict = probe(position)
                if verdict is not None:
                    return position, verdict
    return None


def release_installs_on(
    files: Iterable[DistFile], python: str | tuple[int, int], glibc: tuple[int, int] = RENDER_GLIBC
) -> bool:
    """Can pip install this release on `python` at all: a compatible wheel, or an sdist whose
    Requires-Python allows it?"""
    target = parse_python(python)
    items = list(files)
    if compatible_wheel(items, target, glibc) is not None:
        return True
    return any(
        not dist.is_wheel and requires_python_allows(dist.requires_python, target) for dist in items
    )

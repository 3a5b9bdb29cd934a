"""Wheel facts from a package index, so fixes can say "this version has a wheel" and mean it.

`PackageIndex` reads PyPI's JSON API (`/pypi/<name>/json`), or a PEP 691 / PEP 503 simple index
(`/simple/<name>/`), caches every answer on disk as JSON with a time to live, and never raises on
network trouble: offline or unreachable, it answers from the cache, and with no cache it returns an
empty `IndexList` whose `checked` is False, so a fix can say it could not check. Its requests go
through `index.session` (one CA bundle, retries with backoff) and its pages through
`listing.parse_listing`, as the stand-in index's do. Which file installs where is `index.wheels`.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from packaging.utils import canonicalize_name

from simulator import locations
from simulator.index import session
from simulator.index.listing import DistFile, parse_listing
from simulator.index.versions import normal_version, version_from_filename, version_key

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


class _NotFound(Exception):
    """The index answered 404: the project or release does not exist there."""


class _Unreachable(Exception):
    """The index could not answer this question (offline, DNS, TLS, timeout, 5xx, garbage).

    `connection`: no answer came at all (after the retries of `session.get`), so asking again in
    this run would only wait for more timeouts; an error status or a garbled page concerns
    this one URL, and the next question is still asked.
    """

    def __init__(self, message: str, *, connection: bool = True) -> None:
        super().__init__(message)
        self.connection = connection


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
        ordered = sorted(project.releases, key=version_key)
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
            except _Unreachable as exc:
                # no answer at all (after retries): do not wait N more timeouts this run
                self._network_failed = exc.connection
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
        try:
            files = [item.dist() for item in parse_listing(body, content_type, final_url)]
        except ValueError as exc:
            raise _Unreachable(f"{url}: invalid page", connection=False) from exc
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
            except _Unreachable as exc:
                self._network_failed = exc.connection
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

        get = range_getter(self.timeout)
        for dist in self.files(canonical, version):
            if not dist.is_wheel or not dist.url:
                continue
            try:
                body = read_metadata(dist.url, get)
            except session.HttpStatusError as exc:
                raise _Unreachable(str(exc), connection=False) from exc
            except (session.Unreachable, OSError, ValueError) as exc:
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
        try:
            answer = session.get(url, accept=accept, timeout=self.timeout)
        except session.HttpStatusError as exc:
            if exc.not_found:
                raise _NotFound(url) from exc
            raise _Unreachable(str(exc), connection=False) from exc
        except session.Unreachable as exc:
            raise _Unreachable(str(exc)) from exc
        return answer.body, answer.content_type, answer.url

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

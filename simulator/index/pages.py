"""Upstream index pages and files, fetched once per run and kept on disk.

A resolution asks the stand-in index for one project page at a time, and pip waits for each
answer: on a 50-package service most of a resolution's time is the upstream's latency. The fix
planner resolves the same service several times (other Pythons, upgraded pins), so every page
and metadata file is kept:

- project pages in memory for the run, and on disk for `PAGE_TTL_S` (a release published in
  the meantime is missed for at most that long; Render's pip would see it);
- metadata files (`<wheel>.metadata`) and sdist facts for good: a file on an index never
  changes once uploaded (PEP 503 files are immutable; a new upload gets a new name).

`prefetch` fetches many pages at once, so a resolution whose projects are known in advance
starts with all of them in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from simulator.index.client import default_cache_dir

PAGE_TTL_S = 10 * 60
PREFETCH_THREADS = 8
MAX_MEMORY_FILE = 1024 * 1024  # files above this are kept on disk only


@dataclass(frozen=True)
class Page:
    """One answer of an index: its body, content type and the URL it came from after redirects."""

    body: bytes
    content_type: str
    url: str


class UpstreamCache:
    """Pages (short-lived) and files (immutable) of upstream indexes, in memory and on disk."""

    def __init__(self, root: Path, page_ttl: float = PAGE_TTL_S) -> None:
        self.root = root
        self.page_ttl = page_ttl
        self._pages: dict[str, tuple[float, Page]] = {}
        self._files: dict[str, bytes] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _path(self, kind: str, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()
        return self.root / kind / digest[:2] / digest

    # -- pages ---------------------------------------------------------------------------------

    def page(self, url: str, fetch: Callable[[], Page]) -> Page:
        """The page at `url`: from memory or a fresh disk entry, else `fetch()` (its errors
        propagate and nothing is kept)."""
        with self._lock(f"page:{url}"):
            now = time.time()
            known = self._pages.get(url)
            if known is not None and now - known[0] <= self.page_ttl:
                return known[1]
            stored = self._read_page(url, now)
            if stored is None:
                stored = (now, fetch())
                self._write_page(url, *stored)
            self._pages[url] = stored
            return stored[1]

    def _read_page(self, url: str, now: float) -> tuple[float, Page] | None:
        path = self._path("pages", url)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            fetched = float(meta["fetched_at"])
            if now - fetched > self.page_ttl or meta.get("url") != url:
                return None
            body = path.with_suffix(".body").read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return fetched, Page(body, str(meta.get("content_type", "")), str(meta.get("final", url)))

    def _write_page(self, url: str, fetched: float, page: Page) -> None:
        path = self._path("pages", url)
        meta = {"url": url, "fetched_at": fetched, "content_type": page.content_type}
        meta["final"] = page.url
        _atomic_write(path.with_suffix(".body"), page.body)
        _atomic_write(path.with_suffix(".json"), json.dumps(meta).encode())

    # -- immutable files -----------------------------------------------------------------------

    def file(self, url: str, fetch: Callable[[], bytes]) -> bytes:
        """The file at `url`, fetched once ever (index files never change once uploaded)."""
        with self._lock(f"file:{url}"):
            if url in self._files:
                return self._files[url]
            path = self._path("files", url)
            try:
                data = path.read_bytes()
            except OSError:
                data = fetch()
                _atomic_write(path, data)
            if len(data) <= MAX_MEMORY_FILE:
                self._files[url] = data
            return data

    def fact(
        self, kind: str, key: str, compute: Callable[[], dict[str, object] | None]
    ) -> dict[str, object] | None:
        """A small JSON fact derived from an immutable file (e.g. what an sdist contains)."""
        with self._lock(f"fact:{kind}:{key}"):
            path = self._path(f"facts-{kind}", key).with_suffix(".json")
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    return loaded
            except (OSError, ValueError):
                pass
            value = compute()
            if value is not None:
                _atomic_write(path, json.dumps(value).encode())
            return value

    def prefetch(self, jobs: Iterable[tuple[str, Callable[[], Page]]]) -> None:
        """Fetch many pages concurrently into the cache; a page that fails is simply skipped
        (the resolution asks for it again and reports the error then)."""

        def one(job: tuple[str, Callable[[], Page]]) -> None:
            try:
                self.page(*job)
            except Exception:  # noqa: BLE001 - the resolution itself reports upstream errors
                return

        items = list(jobs)
        if not items:
            return
        with ThreadPoolExecutor(max_workers=min(PREFETCH_THREADS, len(items))) as pool:
            list(pool.map(one, items))


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # a read-only or full disk costs speed, not correctness


_SHARED: dict[Path, UpstreamCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_cache() -> UpstreamCache:
    """The process's cache under render-sim's index cache directory (RENDER_SIM_CACHE/-HOME)."""
    root = default_cache_dir() / "upstream"
    with _SHARED_LOCK:
        if root not in _SHARED:
            _SHARED[root] = UpstreamCache(root)
        return _SHARED[root]

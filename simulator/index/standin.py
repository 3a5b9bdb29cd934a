"""A local package index on 127.0.0.1 that adds stand-in wheels for source-only releases.

`StandInIndex` passes the real listing of each project through (only the wheels that install
on the target) and adds, for every release that only a source distribution makes installable, a
tiny `NAME-VERSION-py3-none-any.whl` carrying the release's real Requires-Dist. pip, run with
`--only-binary=:all:` against it, resolves exactly as Render's pip would, and every stand-in in
its report is a package Render would build from source.

Upstream pages and metadata files go through `simulator.index.pages` (fetched once per run, kept
on disk): the wheels' PEP 658 metadata is served from here too, so a second resolution of the
same service does not wait for the network. `source_kind` says whether a stand-in's sdist has
code to compile (`simulator.index.sdist`).
"""

from __future__ import annotations

import email.parser
import io
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator import __version__
from simulator.index import sdist as sdist_facts
from simulator.index import session
from simulator.index.client import PackageIndex
from simulator.index.listing import IndexFile, parse_listing
from simulator.index.pages import PAGE_TTL_S, Page, UpstreamCache, shared_cache
from simulator.index.serving import FILE_PATH, PROCESSED, STUB_PATH, grouped, process
from simulator.index.wheel_metadata import range_getter, read_metadata
from simulator.render.target import Target

__all__ = ["STUB_PATH", "IndexFile", "StandInIndex", "Stub", "parse_listing"]

_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
USER_AGENT = f"render-sim/{__version__} (check)"
#: What a client that hangs up early raises on our side of the socket: not an error of ours.
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass
class Stub:
    """A stand-in wheel for a release pip would build from source."""

    name: str  # canonical
    version: str
    upstream: int
    sdist: IndexFile
    requires: list[str] | None = None  # None until read; see `dependencies_known`
    dependencies_known: bool = True


class _QuietServer(ThreadingHTTPServer):
    """http.server prints a traceback to stderr for every client that hangs up mid-answer
    (pip killed, or done with a page): those are expected here and stay silent."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], _CLIENT_GONE):
            return
        super().handle_error(request, client_address)


class StandInIndex:
    """A PEP 691 index on 127.0.0.1 in front of real indexes, adding stand-in wheels.

    For each project pip asks for, the real listing is fetched and passed through; for each
    release with a source distribution the target may install but no wheel that installs on the
    target, a stand-in `NAME-VERSION-py3-none-any.whl` is added whose metadata carries the
    release's real Requires-Dist (from the index, a sibling wheel's metadata, or the sdist's
    PKG-INFO). pip, run with --only-binary=:all:, then sees every release Render's pip would see.
    """

    def __init__(
        self,
        upstreams: Sequence[str],
        target: Target,
        indexes: Sequence[PackageIndex],
        timeout: float = 30,
        phantoms: Mapping[str, str] | None = None,
        cache: UpstreamCache | None = None,
    ) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.target = target
        self.indexes = list(indexes)
        self.timeout = timeout
        self.phantoms = dict(phantoms or {})  # canonical name -> version (pip found none)
        self.cache = cache or shared_cache()
        self.listings: dict[str, dict[str, list[IndexFile]]] = {}
        self.stubs: dict[tuple[str, str], Stub] = {}
        self.errors: list[str] = []
        self._files: dict[str, IndexFile] = {}  # token -> upstream wheel (metadata served here)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- server --------------------------------------------------------------------------------

    def __enter__(self) -> StandInIndex:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                try:
                    status, content_type, body = owner.answer(self.path)
                except Exception as error:  # a bug here must reach pip as an answer, not hang
                    owner.errors.append(f"{self.path}: {error!r}")
                    status, content_type, body = 500, "text/plain", repr(error).encode()
                try:
                    self.send_response(status)
                    if status == 302:
                        self.send_header("Location", body.decode())
                        body = b""
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    self.wfile.write(body)
                except _CLIENT_GONE:
                    self.close_connection = True  # pip hung up: nobody is left to answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, upstream: int) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/{upstream}/"

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, str, bytes]:
        parts = [urllib.parse.unquote(p) for p in path.split("?", 1)[0].split("/") if p]
        if len(parts) == 2 and parts[0].isdigit():
            return self._listing(int(parts[0]), parts[1])
        if len(parts) == 4 and parts[0] == STUB_PATH:
            name, version, filename = parts[1], parts[2], parts[3]
            stub = self.stubs.get((name, version))
            if stub is None:
                return 404, "text/plain", b"unknown stand-in"
            metadata = self.metadata(stub)
            if filename.endswith(".metadata"):
                return 200, "text/plain", metadata.encode()
            return 200, "application/octet-stream", _wheel_bytes(stub, metadata)
        if len(parts) == 3 and parts[0] == FILE_PATH and parts[1] in self._files:
            item = self._files[parts[1]]
            if parts[2].endswith(".metadata"):
                found = self._wheel_metadata(item.url)
                if found is None:
                    return 404, "text/plain", b"no METADATA in the wheel"
                return 200, "text/plain", found
            return 302, "text/plain", item.url.encode()  # the wheel itself: from upstream
        return 404, "text/plain", b"not found"

    # -- upstream ------------------------------------------------------------------------------

    def fetch(self, url: str, accept: str) -> tuple[bytes, str, str]:
        answer = session.get(url, accept=accept, timeout=self.timeout, user_agent=USER_AGENT)
        return answer.body, answer.content_type, answer.url

    def _page_url(self, upstream: int, project: str) -> str:
        return f"{self.upstreams[upstream]}/{urllib.parse.quote(canonicalize_name(project))}/"

    def _fetch_page(self, url: str) -> Page:
        return Page(*self.fetch(url, _ACCEPT))

    def _wheel_metadata(self, url: str) -> bytes | None:
        """The wheel's METADATA (PEP 658 file, else read by range requests), fetched once."""
        get = range_getter(self.timeout, USER_AGENT)

        def fetch() -> bytes:
            found = read_metadata(url, get)
            if found is None:
                raise LookupError(url)
            return found

        try:
            return self.cache.file(url + ".metadata", fetch)
        except LookupError:
            return None

    def prefetch(self, projects: Iterable[str]) -> threading.Thread:
        """Fetch and prepare the pages of `projects` from every upstream, in the background,
        while pip starts: pip then finds each page ready instead of waiting for it (its own
        work runs on the other CPU meanwhile). Returns the thread doing it."""
        names = list(projects)

        def work() -> None:
            jobs = []
            for upstream in range(len(self.upstreams)):
                for project in names:
                    url = self._page_url(upstream, project)
                    jobs.append((url, lambda u=url: self._fetch_page(u)))
            self.cache.prefetch(jobs)

        thread = threading.Thread(target=work, name="render-sim-prefetch", daemon=True)
        thread.start()
        return thread

    # -- listings ------------------------------------------------------------------------------

    def _listing(
        self, upstream: int, project: str, *, record: bool = True
    ) -> tuple[int, str, bytes]:
        """The page pip gets for `project`; `record`: count an upstream failure in `errors`
        (not for a page fetched ahead, which pip may never ask for)."""
        errors = self.errors if record else []
        if upstream >= len(self.upstreams):
            return 404, "text/plain", b"no such index"
        canonical = canonicalize_name(project)
        page = self._page_url(upstream, project)
        phantom = self.phantoms.get(canonical) if upstream == 0 else None
        key = (page, self.target, phantom)
        processed = PROCESSED.get(key)
        if processed is None or time.monotonic() - processed.made > PAGE_TTL_S:
            try:
                answer = self.cache.page(page, lambda: self._fetch_page(page))
                by_version = grouped(page, answer)
            except session.HttpStatusError as error:
                if error.not_found:
                    by_version = {}
                    if phantom is None:
                        return 404, "text/plain", b"not found"
                else:
                    errors.append(f"{page}: HTTP {error.status}")
                    return 502, "text/plain", f"upstream HTTP {error.status}".encode()
            except (session.Unreachable, OSError, ValueError) as error:
                reason = str(error).removeprefix(f"{page}: ")
                errors.append(f"{page}: {reason}")
                return 502, "text/plain", f"upstream unreachable: {reason}".encode()
            processed = process(canonical, by_version, self.target, phantom)
            PROCESSED[key] = processed
        with self._lock:
            known = self.listings.setdefault(canonical, {})
            for version, items in processed.by_version.items():
                known.setdefault(version, [])
                known[version] += [i for i in items if i not in known[version]]
            for version, sdist in processed.stubs:
                stub = self.stubs.setdefault(
                    (canonical, version), Stub(canonical, version, upstream, sdist)
                )
                if not sdist.url:  # the phantom: no release at all, no dependencies
                    stub.requires, stub.dependencies_known = [], False
            self._files.update(processed.files)
        return 200, "application/vnd.pypi.simple.v1+json", processed.body

    # -- what a stand-in stands for -------------------------------------------------------------

    def source_kind(self, name: str, version: str) -> sdist_facts.SdistFacts:
        """Whether the release built from source has code to compile: platform-specific wheels
        of the same release say so at once; otherwise the sdist is read (and the verdict kept)."""
        canonical = canonicalize_name(name)
        files = self.listings.get(canonical, {}).get(version, [])
        platform = [f.filename for f in files if f.is_wheel and not f.filename.endswith("-any.whl")]
        if platform:
            return sdist_facts.SdistFacts(
                None, sdist_facts.COMPILED, f"its wheels are platform-specific ({platform[0]})"
            )
        stub = self.stubs.get((canonical, version))
        if stub is None or not stub.sdist.url:
            return sdist_facts.SdistFacts(None, sdist_facts.UNKNOWN)
        return self._sdist_facts(stub.sdist)

    def _sdist_facts(self, sdist: IndexFile) -> sdist_facts.SdistFacts:
        def compute() -> dict[str, object] | None:
            found = sdist_facts.fetch_facts(sdist.url, sdist.filename, self._download)
            return found.to_json() if found is not None else None

        data = self.cache.fact("sdist", sdist.url, compute)
        if data is None:
            return sdist_facts.SdistFacts(None, sdist_facts.UNKNOWN, "could not be downloaded")
        return sdist_facts.SdistFacts.from_json(data)

    def _download(self, url: str) -> bytes:
        return sdist_facts.download(url, timeout=self.timeout)

    # -- stand-in metadata ---------------------------------------------------------------------

    def metadata(self, stub: Stub) -> str:
        if stub.requires is None:
            requires, known = self._requires(stub)
            stub.requires, stub.dependencies_known = requires, known
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {stub.name}",
            f"Version: {stub.version}",
            "Summary: render-sim stand-in for a source build",
        ]
        if stub.sdist.requires_python:
            lines.append(f"Requires-Python: {stub.sdist.requires_python}")
        extras = sorted(
            {m for r in stub.requires or [] for m in re.findall(r"extra\s*==\s*['\"]([^'\"]+)", r)}
        )
        lines += [f"Provides-Extra: {extra}" for extra in extras]
        lines += [f"Requires-Dist: {line}" for line in stub.requires or []]
        return "\n".join(lines) + "\n"

    def _requires(self, stub: Stub) -> tuple[list[str], bool]:
        """The release's Requires-Dist, and whether it is known (not guessed as empty)."""
        index = self.indexes[stub.upstream] if stub.upstream < len(self.indexes) else None
        files = self.listings.get(stub.name, {}).get(stub.version, [])
        has_wheels = any(item.is_wheel for item in files)
        if index is not None:
            found = index.requires_dist(stub.name, stub.version)
            if found.checked and (found or has_wheels):
                return list(found), True
        if stub.sdist.url:
            facts = self._sdist_facts(stub.sdist)
            if facts.pkg_info is not None:
                return _pkg_info_requires(facts.pkg_info)
        return [], False


def _pkg_info_requires(text: str) -> tuple[list[str], bool]:
    """Requires-Dist from an sdist's PKG-INFO: known when its metadata is 2.2 or newer and does
    not mark Requires-Dist dynamic (older metadata is used, but not trusted)."""
    message = email.parser.Parser().parsestr(text)
    requires = [str(r) for r in message.get_all("Requires-Dist") or []]
    try:
        version = Version(str(message.get("Metadata-Version") or "1.0"))
    except InvalidVersion:
        version = Version("1.0")
    dynamic = {str(d).lower() for d in message.get_all("Dynamic") or []}
    reliable = version >= Version("2.2") and "requires-dist" not in dynamic
    return requires, reliable or bool(requires)


def _wheel_bytes(stub: Stub, metadata: str) -> bytes:
    dist_info = f"{stub.name.replace('-', '_')}-{stub.version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: render-sim\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{dist_info}/METADATA", metadata)
        archive.writestr(f"{dist_info}/WHEEL", wheel)
        archive.writestr(
            f"{dist_info}/RECORD",
            f"{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n",
        )
    return buffer.getvalue()

"""A local package index on 127.0.0.1 that adds stand-in wheels for source-only releases.

`StandInIndex` passes the real listing of each project through (only the wheels that install
on the target) and adds, for every release that only a source distribution makes installable, a
tiny `NAME-VERSION-py3-none-any.whl` carrying the release's real Requires-Dist. pip, run with
`--only-binary=:all:` against it, resolves exactly as Render's pip would, and every stand-in in
its report is a package Render would build from source.
"""

from __future__ import annotations

import email.parser
import io
import json
import os
import re
import ssl
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator import __version__
from simulator.render_target import Target
from simulator.wheels import AnchorParser, DistFile, PackageIndex, wheel_installs_on
from simulator.wheels import normal_version as _normal
from simulator.wheels import version_from_filename as _file_version

MAX_SDIST_BYTES = 30 * 1024 * 1024
STUB_PATH = "stand-in"  # the path of stand-in wheels on the server


@dataclass(frozen=True)
class IndexFile:
    """One file of a simple-index listing, with the fields pip uses."""

    filename: str
    url: str
    requires_python: str | None = None
    yanked: bool | str = False
    hashes: Mapping[str, str] = field(default_factory=dict)
    metadata: bool | Mapping[str, str] = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def dist(self) -> DistFile:
        return DistFile(self.filename, self.requires_python, bool(self.yanked), self.url)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filename": self.filename,
            "url": self.url,
            "hashes": dict(self.hashes),
        }
        if self.requires_python:
            data["requires-python"] = self.requires_python
        if self.yanked:
            data["yanked"] = self.yanked
        if self.metadata:
            value = dict(self.metadata) if isinstance(self.metadata, Mapping) else True
            data["core-metadata"] = value
            data["dist-info-metadata"] = value
        return data


def parse_listing(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """A PEP 691 JSON or PEP 503 HTML project page as `IndexFile`s with absolute URLs."""
    files = []
    if "json" in content_type:
        data = json.loads(body)
        for item in data.get("files", []):
            if not isinstance(item, dict):
                continue
            advertised = item.get("core-metadata", item.get("dist-info-metadata", False))
            files.append(
                IndexFile(
                    filename=str(item.get("filename", "")),
                    url=urllib.parse.urljoin(page_url, str(item.get("url", ""))),
                    requires_python=item.get("requires-python"),
                    yanked=item.get("yanked") or False,
                    hashes=item.get("hashes") or {},
                    metadata=advertised if isinstance(advertised, (bool, dict)) else False,
                )
            )
        return files
    parser = AnchorParser()
    parser.feed(body.decode("utf-8", "replace"))
    for attrs, text in parser.anchors:
        href = attrs.get("href") or ""
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        metadata: bool | dict[str, str] = False
        if metadata_attr is not None:
            metadata = dict([metadata_attr.split("=", 1)]) if "=" in metadata_attr else True
        yanked_attr = attrs.get("data-yanked")
        files.append(
            IndexFile(
                filename=text or urllib.parse.unquote(url.rsplit("/", 1)[-1]),
                url=url,
                requires_python=attrs.get("data-requires-python"),
                yanked=(yanked_attr or True) if "data-yanked" in attrs else False,
                hashes=hashes,
                metadata=metadata,
            )
        )
    return files


def _ssl_context() -> ssl.SSLContext:
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return ssl.create_default_context(cafile=value)
    return ssl.create_default_context()


@dataclass
class Stub:
    """A stand-in wheel for a release pip would build from source."""

    name: str  # canonical
    version: str
    upstream: int
    sdist: IndexFile
    requires: list[str] | None = None  # None until read; see `dependencies_known`
    dependencies_known: bool = True


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
    ) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.target = target
        self.indexes = list(indexes)
        self.timeout = timeout
        self.phantoms = dict(phantoms or {})  # canonical name -> version (pip found none)
        self.listings: dict[str, dict[str, list[IndexFile]]] = {}
        self.stubs: dict[tuple[str, str], Stub] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._ssl = _ssl_context()
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
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
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
        return 404, "text/plain", b"not found"

    # -- listings ------------------------------------------------------------------------------

    def fetch(self, url: str, accept: str) -> tuple[bytes, str, str]:
        request = urllib.request.Request(
            url, headers={"Accept": accept, "User-Agent": f"render-sim/{__version__} (check)"}
        )
        context = self._ssl if url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
            return response.read(), response.headers.get("Content-Type", ""), response.geturl()

    def _listing(self, upstream: int, project: str) -> tuple[int, str, bytes]:
        if upstream >= len(self.upstreams):
            return 404, "text/plain", b"no such index"
        canonical = canonicalize_name(project)
        page = f"{self.upstreams[upstream]}/{urllib.parse.quote(canonical)}/"
        try:
            body, content_type, final_url = self.fetch(
                page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
            )
            files = parse_listing(body, content_type, final_url)
        except urllib.error.HTTPError as error:
            if error.code in (404, 410):
                files = []
                if canonical not in self.phantoms:
                    return 404, "text/plain", b"not found"
            else:
                self.errors.append(f"{page}: HTTP {error.code}")
                return 502, "text/plain", f"upstream HTTP {error.code}".encode()
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            self.errors.append(f"{page}: {reason}")
            return 502, "text/plain", f"upstream unreachable: {reason}".encode()
        by_version: dict[str, list[IndexFile]] = {}
        for item in files:
            version = _file_version(item.filename)
            if version is not None:
                by_version.setdefault(version, []).append(item)
        with self._lock:
            known = self.listings.setdefault(canonical, {})
            for version, items in by_version.items():
                known.setdefault(version, [])
                known[version] += [i for i in items if i not in known[version]]
        # pip is served only what it can use: the wheels that install on the target, and a
        # stand-in per release that only an sdist makes installable (pip 23 spends seconds
        # matching every macOS/Windows/ARM wheel of a big project against the tags otherwise).
        out: list[IndexFile] = []
        installable: set[str] = set()
        for version, items in by_version.items():
            fitting = [
                i
                for i in items
                if i.is_wheel
                and wheel_installs_on(i.filename, self.target.minor, self.target.glibc)
            ]
            out += fitting
            if any(self.target.allows(i.requires_python) for i in fitting):
                installable.add(version)
                continue
            sdists = [i for i in items if not i.is_wheel and self.target.allows(i.requires_python)]
            if not sdists:
                continue
            installable.add(version)
            out.append(self._stub_file(canonical, version, upstream, sdists[0]))
        phantom = self.phantoms.get(canonical)
        if phantom and upstream == 0 and _normal(phantom) not in {_normal(v) for v in installable}:
            # pip found no release at all (a problem already reported): a stand-in without
            # dependencies lets the resolution go on to the other packages.
            fake = IndexFile(f"{canonical}-{phantom}.tar.gz", "", None)
            stub_file = self._stub_file(canonical, phantom, upstream, fake)
            self.stubs[(canonical, phantom)].requires = []
            self.stubs[(canonical, phantom)].dependencies_known = False
            out.append(stub_file)
        data = {
            "meta": {"api-version": "1.1"},
            "name": canonical,
            "files": [item.to_json() for item in out],
        }
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(data).encode()

    def _stub_file(
        self, canonical: str, version: str, upstream: int, sdist: IndexFile
    ) -> IndexFile:
        with self._lock:
            self.stubs.setdefault((canonical, version), Stub(canonical, version, upstream, sdist))
        filename = f"{canonical.replace('-', '_')}-{version}-py3-none-any.whl"
        quoted = "/".join(urllib.parse.quote(p) for p in (canonical, version, filename))
        return IndexFile(
            filename=filename,
            url=f"{self.base}/{STUB_PATH}/{quoted}",
            requires_python=sdist.requires_python,
            yanked=sdist.yanked,
            metadata=True,
        )

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
            from_sdist = self._sdist_requires(stub.sdist)
            if from_sdist is not None:
                return from_sdist
        return [], False

    def _sdist_requires(self, sdist: IndexFile) -> tuple[list[str], bool] | None:
        """Requires-Dist from the sdist's PKG-INFO: known when its metadata is 2.2 or newer and
        does not mark Requires-Dist dynamic (older metadata is used, but not trusted)."""
        try:
            request = urllib.request.Request(
                sdist.url, headers={"User-Agent": f"render-sim/{__version__} (check)"}
            )
            context = self._ssl if sdist.url.startswith("https:") else None
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:
                data = resp.read(MAX_SDIST_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        if len(data) > MAX_SDIST_BYTES:
            return None
        text = _pkg_info(data, sdist.filename)
        if text is None:
            return None
        message = email.parser.Parser().parsestr(text)
        requires = [str(r) for r in message.get_all("Requires-Dist") or []]
        try:
            version = Version(str(message.get("Metadata-Version") or "1.0"))
        except InvalidVersion:
            version = Version("1.0")
        dynamic = {str(d).lower() for d in message.get_all("Dynamic") or []}
        reliable = version >= Version("2.2") and "requires-dist" not in dynamic
        return requires, reliable or bool(requires)


def _pkg_info(data: bytes, filename: str) -> str | None:
    """The text of an sdist's top-level PKG-INFO."""
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [
                    n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")
                ]
                return archive.read(names[0]).decode("utf-8", "replace") if names else None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    handle = archive.extractfile(member)
                    return handle.read().decode("utf-8", "replace") if handle else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, IndexError):
        return None
    return None


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

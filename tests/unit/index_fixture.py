"""A local PEP 503 package index for tests: tiny but valid wheels and sdists, served on 127.0.0.1.

`LocalIndex.add()` writes the files of one release; `serve()` runs `http.server` in a thread and
yields the simple index URL (`http://127.0.0.1:PORT/simple`). Every wheel also gets its PEP 658
metadata file (`<wheel>.metadata`, advertised with `data-dist-info-metadata`), as on PyPI.
"""

from __future__ import annotations

import hashlib
import html
import io
import ssl
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

#: A wheel tag for CPython 3.13 only, on glibc Linux x86_64 (like pydantic-core 2.23.4's).
CP313 = "cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64"
CP314 = "cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64"
PURE = "py3-none-any"


def metadata_text(
    name: str,
    version: str,
    requires: Sequence[str] = (),
    requires_python: str | None = None,
    metadata_version: str = "2.1",
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {line}" for line in requires]
    return "\n".join(lines) + "\n"


def wheel_bytes(name: str, version: str, tag: str, metadata: str) -> bytes:
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{dist_info}/METADATA", metadata)
        archive.writestr(
            f"{dist_info}/WHEEL",
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
        )
        archive.writestr(f"{dist_info}/RECORD", f"{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n")
    return buffer.getvalue()


#: What a compiled sdist holds besides its setup.py: C code (what `sdist_files` defaults to).
C_SOURCES = {"src/_speedups.c": "#include <Python.h>\n"}


def sdist_bytes(
    name: str, version: str, metadata: str, files: Mapping[str, str] | None = None
) -> bytes:
    base = f"{name.replace('-', '_')}-{version}"
    buffer = io.BytesIO()
    members = {
        "PKG-INFO": metadata,
        "setup.py": "raise SystemExit('this test sdist must never be built')\n",
        **(C_SOURCES if files is None else files),
    }
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in ((f"{base}/{member}", text) for member, text in members.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hangs up early (a retry, a test's timeout) is not an error


class LocalIndex:
    """Files under `root/files`, pages under `root/simple/<name>/index.html`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self._links: dict[str, list[str]] = {}
        self.requests: list[str] = []

    def add(
        self,
        name: str,
        version: str,
        *,
        wheels: Sequence[str] = (PURE,),
        sdist: bool = False,
        requires: Sequence[str] = (),
        requires_python: str | None = None,
        sdist_metadata_version: str = "2.2",
        sdist_files: Mapping[str, str] | None = None,
    ) -> LocalIndex:
        """One release: a wheel per tag in `wheels` (may be empty) and optionally an sdist
        (with C code to compile unless `sdist_files` says what else it holds, e.g. `{}`: a
        pure-Python sdist)."""
        stem = f"{name.replace('-', '_')}-{version}"
        for tag in wheels:
            metadata = metadata_text(name, version, requires, requires_python)
            filename = f"{stem}-{tag}.whl"
            self._write(filename, wheel_bytes(name, version, tag.split("-")[0], metadata))
            (self.files / f"{filename}.metadata").write_text(metadata)
            meta_hash = hashlib.sha256(metadata.encode()).hexdigest()
            self._link(
                name, filename, requires_python, f'data-dist-info-metadata="sha256={meta_hash}"'
            )
        if sdist:
            metadata = metadata_text(
                name, version, requires, requires_python, sdist_metadata_version
            )
            filename = f"{stem}.tar.gz"
            self._write(filename, sdist_bytes(name, version, metadata, sdist_files))
            self._link(name, filename, requires_python, "")
        self._page(name)
        return self

    def _write(self, filename: str, data: bytes) -> None:
        (self.files / filename).write_bytes(data)

    def _link(self, name: str, filename: str, requires_python: str | None, extra: str) -> None:
        digest = hashlib.sha256((self.files / filename).read_bytes()).hexdigest()
        attrs = f'href="../../files/{filename}#sha256={digest}"'
        if requires_python:
            attrs += f' data-requires-python="{html.escape(requires_python)}"'
        if extra:
            attrs += " " + extra
        self._links.setdefault(canonicalize_name(name), []).append(f"<a {attrs}>{filename}</a>")

    def _page(self, name: str) -> None:
        canonical = canonicalize_name(name)
        folder = self.root / "simple" / canonical
        folder.mkdir(parents=True, exist_ok=True)
        body = "<br>\n".join(self._links[canonical])
        (folder / "index.html").write_text(
            f"<!DOCTYPE html><html><body><h1>{canonical}</h1>\n{body}\n</body></html>\n"
        )

    @contextmanager
    def serve(
        self,
        delay: float = 0.0,
        *,
        tls: tuple[Path, Path] | None = None,
        failures: Mapping[str, tuple[int, int]] | None = None,
    ) -> Iterator[str]:
        """Serve the index; yields its simple URL. `delay` seconds pass before each answer
        (a slow index). Every path asked for is appended to `self.requests`.

        `tls`: (certificate, key) files: serve HTTPS with them. `failures`: path prefix ->
        (status, count): the first `count` requests under that prefix get `status` instead
        (count -1: every request), as a busy or broken index answers."""
        requests = self.requests
        left = {prefix: count for prefix, (_, count) in (failures or {}).items()}
        statuses = {prefix: status for prefix, (status, _) in (failures or {}).items()}
        lock = threading.Lock()

        class Quiet(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                requests.append(self.path)
                if delay:
                    time.sleep(delay)
                with lock:
                    failing = next((p for p in left if self.path.startswith(p) and left[p]), None)
                    if failing is not None:
                        left[failing] -= 1
                if failing is not None:
                    self.send_error(statuses[failing])
                    return
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                return

        handler = partial(Quiet, directory=str(self.root))
        server = _QuietServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            server.socket = context.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"{scheme}://127.0.0.1:{server.server_address[1]}/simple"
        finally:
            server.shutdown()
            server.server_close()

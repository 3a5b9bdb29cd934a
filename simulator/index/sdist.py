"""What a source distribution contains: its PKG-INFO, and whether it has code to compile.

A release without a usable wheel is built from source on Render. That is harmless for pure
Python (the build copies files and takes seconds) and fails for compiled code (C, C++, Cython,
Rust, Fortran: it needs a toolchain and often headers Render's image does not have). Only the
archive itself tells them apart, so it is read once, as a stream, and the verdict is kept with
the index cache (an uploaded file never changes).

The verdict is "compiled" when the sdist holds sources a compiler reads (`.c`, `.pyx`, `.rs`,
`Cargo.toml`, ...), a build backend that compiles (maturin, scikit-build-core, meson-python), or
a setup.py declaring extension modules; "pure" when it holds Python and none of those;
"unknown" when it cannot be read.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from simulator.index import session

MAX_SDIST_BYTES = 60 * 1024 * 1024

PURE = "pure"
COMPILED = "compiled"
UNKNOWN = "unknown"

#: Source files a compiler reads: their presence means the build compiles something.
COMPILED_SUFFIXES = (
    ".c", ".cc", ".cpp", ".cxx", ".c++", ".m", ".mm", ".pyx", ".rs", ".f", ".f90", ".f95",
    ".for", ".cu", ".go", ".zig", ".asm", ".s",
)  # fmt: skip
#: Build files of compiled projects (Rust, CMake, Meson).
COMPILED_NAMES = ("Cargo.toml", "CMakeLists.txt", "meson.build")
#: Build backends that compile (pyproject.toml's build-system.build-backend).
COMPILING_BACKENDS = ("maturin", "scikit_build_core", "mesonpy", "py_build_cmake", "enscons")
_EXTENSION = re.compile(rb"\b(Extension|ext_modules|cffi_modules|rust_extensions|build_ext)\b")
_SCRIPTS = ("setup.py", "pyproject.toml")
_MAX_SCRIPT = 512 * 1024


@dataclass(frozen=True)
class SdistFacts:
    """PKG-INFO's text (None when absent) and the verdict: pure, compiled or unknown."""

    pkg_info: str | None
    kind: str
    evidence: str = ""  # the member that decided it ("src/_speedups.c")

    def to_json(self) -> dict[str, object]:
        return {"pkg_info": self.pkg_info, "kind": self.kind, "evidence": self.evidence}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SdistFacts:
        pkg_info = data.get("pkg_info")
        return cls(
            pkg_info if isinstance(pkg_info, str) else None,
            str(data.get("kind", UNKNOWN)),
            str(data.get("evidence", "")),
        )


def read_facts(data: bytes, filename: str) -> SdistFacts:
    """The facts of an sdist's bytes (`.tar.gz`, `.tar.bz2`, `.zip`, ...)."""
    pkg_info: str | None = None
    compiled = ""
    python = False
    try:
        for name, read in _members(data, filename):
            depth = name.count("/")
            base = name.rsplit("/", 1)[-1]
            if depth == 1 and base == "PKG-INFO":
                pkg_info = read(_MAX_SCRIPT).decode("utf-8", "replace")
            elif base.endswith(".py"):
                python = True
            if compiled:
                continue
            if base.lower().endswith(COMPILED_SUFFIXES) or base in COMPILED_NAMES:
                compiled = name
            elif depth == 1 and base in _SCRIPTS:
                text = read(_MAX_SCRIPT)
                if base == "setup.py" and _EXTENSION.search(text):
                    compiled = f"{name} (declares extension modules)"
                elif base == "pyproject.toml" and any(
                    b in text for b in (s.encode() for s in COMPILING_BACKENDS)
                ):
                    compiled = f"{name} (a compiling build backend)"
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return SdistFacts(pkg_info, COMPILED if compiled else UNKNOWN, compiled)
    if compiled:
        return SdistFacts(pkg_info, COMPILED, compiled)
    return SdistFacts(pkg_info, PURE if python else UNKNOWN)


def _members(data: bytes, filename: str) -> Iterator[tuple[str, Callable[[int], bytes]]]:
    """(member name, reader of its first N bytes) for every regular file of the archive."""
    if filename.lower().endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zipped:
            for info in zipped.infolist():
                if not info.is_dir():

                    def read_zip(n: int, i: zipfile.ZipInfo = info) -> bytes:
                        with zipped.open(i) as handle:
                            return handle.read(n)

                    yield info.filename, read_zip
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            if not member.isfile():
                continue

            def read(n: int, m: tarfile.TarInfo = member) -> bytes:
                handle = archive.extractfile(m)
                return handle.read(n) if handle else b""

            yield member.name, read


def fetch_facts(url: str, filename: str, opener: Callable[[str], bytes]) -> SdistFacts | None:
    """Download the sdist with `opener` and read its facts; None when it cannot be fetched."""
    try:
        data = opener(url)
    except (session.HttpStatusError, session.Unreachable, OSError, ValueError):
        return None
    if len(data) > MAX_SDIST_BYTES:
        return SdistFacts(None, UNKNOWN, "too large to inspect")
    return read_facts(data, filename)


def download(url: str, *, timeout: float) -> bytes:
    """The bytes at `url`, at most MAX_SDIST_BYTES + 1 of them."""
    return session.get(url, timeout=timeout, limit=MAX_SDIST_BYTES + 1).body

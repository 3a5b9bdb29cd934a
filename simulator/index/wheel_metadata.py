"""A wheel's METADATA without downloading the wheel: PEP 658 first, else HTTP range requests.

`pip install --dry-run` needs each candidate wheel's METADATA. When the index serves it next to
the wheel (`<wheel>.metadata`, PEP 658) that small file is enough; some mirrors and proxies
drop the listing's `core-metadata` key, and pip then downloads whole wheels (tens of MB for
numpy or botocore) just to read one file. `read_metadata` asks for the PEP 658 file even when
the listing does not advertise it, and otherwise reads the zip's central directory and the
METADATA member with range requests (what pip's own "lazy wheel" does); a server without range
support sends the whole file, which works too.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from simulator.index import session

TAIL_BYTES = 64 * 1024


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in ranges as zipfile reads it."""

    def __init__(self, url: str, get: Callable[[str, str | None], tuple[int, bytes, int | None]]):
        self.url = url
        self._get = get
        status, tail, size = get(url, f"bytes=-{TAIL_BYTES}")
        self._chunks: dict[int, bytes] = {}
        self._whole: bytes | None = None
        if status != 206 or size is None:  # no range support: the body is the whole file
            self._whole = tail
            self.size = len(tail)
        else:
            self.size = size
            self._chunks[size - len(tail)] = tail
        self._position = 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        start = self._position
        if start >= end:
            return b""
        data = self._bytes(start, end)
        self._position = end
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _bytes(self, start: int, end: int) -> bytes:
        if self._whole is not None:
            return self._whole[start:end]
        for offset, chunk in self._chunks.items():
            if offset <= start and end <= offset + len(chunk):
                return chunk[start - offset : end - offset]
        status, data, _ = self._get(self.url, f"bytes={start}-{max(end, start + 4096) - 1}")
        if status != 206:
            data = data[start:]
        self._chunks[start] = data
        return data[: end - start]


def _metadata_from_zip(raw: _RangeFile) -> bytes | None:
    with zipfile.ZipFile(raw) as archive:
        names = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        return archive.read(names[0]) if names else None


def read_metadata(
    url: str, get: Callable[[str, str | None], tuple[int, bytes, int | None]]
) -> bytes | None:
    """The METADATA of the wheel at `url`, or None when neither way works.

    `get(url, range_header)` returns (HTTP status, body, total size from Content-Range or None)
    and raises `session.HttpStatusError` for an error status.
    """
    try:
        status, body, _ = get(url + ".metadata", None)
        if status == 200 and body:
            return body
    except session.HttpStatusError as error:
        if error.status not in (403, 404, 410):
            raise
    try:
        return _metadata_from_zip(_RangeFile(url, get))
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError):
        return None


def range_getter(
    timeout: float, user_agent: str = session.USER_AGENT
) -> Callable[[str, str | None], tuple[int, bytes, int | None]]:
    """A `get` for `read_metadata` over render-sim's one HTTP client (`index.session`)."""

    def get(url: str, byte_range: str | None) -> tuple[int, bytes, int | None]:
        answer = session.get(url, byte_range=byte_range, timeout=timeout, user_agent=user_agent)
        return answer.status, answer.body, answer.total_size

    return get

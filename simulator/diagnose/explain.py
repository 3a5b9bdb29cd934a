"""`render-sim explain`: read a build log safely and diagnose it.

`read_log_bytes` turns a path (or "-" for standard input) into the log's UTF-8 bytes, refusing
what is not a log: a missing path, an empty file, binary data. The classifier reads those bytes
as they are (lines are decoded one at a time, with replacement, so a stray Latin-1 byte does not
stop a diagnosis); UTF-16 logs (what PowerShell's `>` writes) are recognised by their byte-order
mark and re-encoded. `read_log` gives the same as text.

Reading is bounded: the start is checked for binary data before the rest is read (so `/dev/zero`
or a binary file is refused at once), and a log larger than MAX_LOG_BYTES (a stream that never
ends, such as `yes |`) is refused when it gets there. Build logs are megabytes; 50 MB logs are
diagnosed in seconds.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path
from typing import BinaryIO

from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import Diagnosis, DiagnosisContext
from simulator.errors import InputError
from simulator.index.client import PackageIndex

SNIFF_BYTES = 64 * 1024  # how much of the start is checked for binary content
MAX_BAD_FRACTION = 0.3  # above this share of undecodable characters the input is binary
MAX_LOG_BYTES = 512 * 1024**2  # far above any build log; what is larger is not one
_CHUNK = 1024**2

_HINT = "Pass the build log as a text file (copy it from Render's Logs page), or '-' for stdin."


def read_log(path_or_dash: str) -> str:
    """The text of a log file, or of standard input for "-" (see `read_log_bytes`)."""
    return read_log_bytes(path_or_dash).decode("utf-8", errors="replace")


def read_log_bytes(path_or_dash: str) -> bytes:
    """The UTF-8 bytes of a log file, or of standard input for "-".

    Raises `InputError` (exit code 6) when the file is missing, unreadable, empty or binary.
    """
    # A name with undecodable bytes (lone surrogates here) is shown escaped: a strict UTF-8
    # stream refuses to write it.
    shown = path_or_dash.encode("utf-8", "backslashreplace").decode("utf-8")
    name = "standard input" if path_or_dash == "-" else shown
    if path_or_dash == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None or stream.closed:
            raise InputError(
                "standard input is closed: there is no log to read",
                hint="Pipe the log in (`render-sim explain - < build.log`) or pass its path.",
            )
        try:
            return log_bytes(_read_bounded(stream, name), name)
        except OSError as exc:  # a closed descriptor reads as EBADF
            raise InputError(f"cannot read {name}: {exc.strerror or exc}", hint=_HINT) from exc
    path = Path(path_or_dash)
    try:
        # exists() raises, not answers False, for a name too long or a directory
        # that cannot be searched.
        if not path.exists():
            raise InputError(f"log file not found: {name}", hint=_HINT)
        if path.is_dir():
            raise InputError(f"{name} is a directory, not a log file", hint=_HINT)
        with path.open("rb") as stream:
            data = _read_bounded(stream, name)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}", hint=_HINT) from exc
    return log_bytes(data, name)


def _read_bounded(stream: BinaryIO, name: str) -> bytes:
    """All of `stream`, refusing binary data from its start and anything past MAX_LOG_BYTES."""
    head = stream.read(SNIFF_BYTES)
    _refuse_binary(head, name)
    parts = [head]
    size = len(head)
    while head:
        head = stream.read(_CHUNK)
        size += len(head)
        if size > MAX_LOG_BYTES:
            raise InputError(
                f"{name} is larger than {MAX_LOG_BYTES // 1024**2} MB: not a build log",
                hint="Pass the failed build's log (its last few thousand lines are enough).",
            )
        parts.append(head)
    return b"".join(parts)


def decode_log(data: bytes, name: str = "the log") -> str:
    """Decode log bytes, refusing empty and binary input (see `read_log`)."""
    return log_bytes(data, name).decode("utf-8", errors="replace")


def log_bytes(data: bytes, name: str = "the log") -> bytes:
    """Log bytes as UTF-8, refusing empty and binary input (see `read_log_bytes`)."""
    if not data or data.isspace():
        raise InputError(f"{name} is empty: there is nothing to diagnose", hint=_HINT)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    else:
        _refuse_binary(data[:SNIFF_BYTES], name)
    if not data or data.isspace() or (len(data) < SNIFF_BYTES and not _decoded(data).strip()):
        raise InputError(f"{name} is empty: there is nothing to diagnose", hint=_HINT)
    return data


def _refuse_binary(head: bytes, name: str) -> None:
    """An InputError when the start of the input is binary (NUL bytes, mostly not UTF-8).

    Byte-order marks of UTF-16 are text (PowerShell's `>` writes them): `log_bytes` reads them.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    if b"\x00" in head:
        raise InputError(
            f"{name} looks binary (it contains NUL bytes), not like a build log", hint=_HINT
        )
    sample = head.decode("utf-8", errors="replace")
    if sample.count("\ufffd") > MAX_BAD_FRACTION * max(len(sample), 1):
        raise InputError(f"{name} looks binary (most of it is not valid UTF-8 text)", hint=_HINT)


def _decoded(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def explain(
    text: str | bytes, context: DiagnosisContext | None = None, index: PackageIndex | None = None
) -> Diagnosis:
    """Diagnose a log's text or UTF-8 bytes (see `simulator.diagnose.classifier.classify`)."""
    return classify(text, context, index)


def explain_file(
    path_or_dash: str, context: DiagnosisContext | None = None, index: PackageIndex | None = None
) -> Diagnosis:
    """Read a log with `read_log_bytes` and diagnose it."""
    return explain(read_log_bytes(path_or_dash), context, index)

"""`render-sim explain`: read a build log safely and diagnose it.

`read_log_bytes` turns a path (or "-" for standard input) into the log's UTF-8 bytes, refusing
what is not a log: a missing path, an empty file, binary data. The classifier reads those bytes
as they are (lines are decoded one at a time, with replacement, so a stray Latin-1 byte does not
stop a diagnosis); UTF-16 logs (what PowerShell's `>` writes) are recognised by their byte-order
mark and re-encoded. `read_log` gives the same as text. There is no size cap: 50 MB logs are
read in one go.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path

from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import Diagnosis, DiagnosisContext
from simulator.errors import InputError
from simulator.index.client import PackageIndex

SNIFF_BYTES = 64 * 1024  # how much of the start is checked for binary content
MAX_BAD_FRACTION = 0.3  # above this share of undecodable characters the input is binary

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
        data = sys.stdin.buffer.read()
    else:
        path = Path(path_or_dash)
        try:
            # exists() raises, not answers False, for a name too long or a directory
            # that cannot be searched.
            if not path.exists():
                raise InputError(f"log file not found: {name}", hint=_HINT)
            if path.is_dir():
                raise InputError(f"{name} is a directory, not a log file", hint=_HINT)
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror or exc}", hint=_HINT) from exc
    return log_bytes(data, name)


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
        head = data[:SNIFF_BYTES]
        if b"\x00" in head:
            raise InputError(
                f"{name} looks binary (it contains NUL bytes), not like a build log",
                hint=_HINT,
            )
        sample = head.decode("utf-8", errors="replace")
        if sample.count("\ufffd") > MAX_BAD_FRACTION * max(len(sample), 1):
            raise InputError(
                f"{name} looks binary (most of it is not valid UTF-8 text)", hint=_HINT
            )
    if not data or data.isspace() or (len(data) < SNIFF_BYTES and not _decoded(data).strip()):
        raise InputError(f"{name} is empty: there is nothing to diagnose", hint=_HINT)
    return data


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

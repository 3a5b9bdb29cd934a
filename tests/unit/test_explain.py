"""Reading logs for `explain`: what is refused (exit code 6) and what is accepted."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from simulator.diagnose.explain import decode_log, explain, explain_file, read_log
from simulator.errors import InputError

FAILURE = "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'\n"


def _refused(path: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read_log(path)
    assert caught.value.return_code == 6
    assert caught.value.hint
    return caught.value


def test_missing_file_is_refused_with_exit_code_6(tmp_path: Path) -> None:
    error = _refused(str(tmp_path / "build.log"))
    assert "not found" in error.message


def test_directory_is_refused(tmp_path: Path) -> None:
    assert "directory" in _refused(str(tmp_path)).message


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(b"")
    assert "empty" in _refused(str(path)).message


def test_whitespace_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(b"\n\r\n   \n")
    assert "empty" in _refused(str(path)).message


def test_file_with_nul_bytes_is_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4)
    assert "binary" in _refused(str(path)).message


def test_mostly_undecodable_file_is_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(bytes([0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1] * 1000)[2:])
    assert "binary" in _refused(str(path)).message


def test_stray_invalid_bytes_are_replaced_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(b"caf\xe9 build\n" + FAILURE.encode())
    text = read_log(str(path))
    assert "caf\ufffd build" in text


def test_utf16_log_from_powershell_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(FAILURE.encode("utf-16"))
    assert read_log(str(path)) == FAILURE


def test_one_megabyte_single_line_is_read_and_diagnosed(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_text("x" * 1_000_000 + " " + FAILURE, encoding="utf-8")
    diagnosis = explain_file(str(path))
    assert diagnosis.failure_class == "requirements-file-missing"
    assert len(diagnosis.evidence[0].text) < 2100


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FAILURE.encode())))
    assert read_log("-") == FAILURE


def test_empty_standard_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match="standard input is empty"):
        read_log("-")


def test_decode_log_names_the_input_in_its_message() -> None:
    with pytest.raises(InputError, match="paste.txt is empty"):
        decode_log(b"", "paste.txt")


def test_explain_returns_a_diagnosis() -> None:
    assert explain(FAILURE).failure_class == "requirements-file-missing"

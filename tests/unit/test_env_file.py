"""`--env-file`: NAME=VALUE lines, and errors that name the line but never print it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.config.env_file import read_env_file
from simulator.errors import ConfigurationError

TOKEN = "ghp_pastedTokenWithoutAName4711"
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}


def env_file(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "secrets.env"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def refused(path: Path) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        read_env_file(path)
    return caught.value


def test_env_file_reads_export_quotes_comments_and_multi_line_values(tmp_path: Path) -> None:
    path = env_file(
        tmp_path,
        '# comment\nA=1\nexport B="two words" # note\nC=\'x#y\'\nD="line 1\nline 2"\n\nE=\n',
    )
    assert read_env_file(path) == {
        "A": "1",
        "B": "two words",
        "C": "x#y",
        "D": "line 1\nline 2",
        "E": "",
    }


def test_env_file_values_are_not_expanded_from_the_host_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_ONLY_VALUE", "from-the-host")
    path = env_file(tmp_path, "A=${HOST_ONLY_VALUE}\n")
    assert read_env_file(path) == {"A": "${HOST_ONLY_VALUE}"}


def test_env_file_line_without_equals_is_named_by_file_and_line_not_printed(
    tmp_path: Path,
) -> None:
    path = env_file(tmp_path, f"A=1\n{TOKEN}\n")
    error = refused(path)
    assert error.where is not None and (error.where.file, error.where.line) == (str(path), 2)
    assert TOKEN not in str(error) and TOKEN not in (error.hint or "")
    assert "NAME=" in (error.hint or "")


def test_env_file_line_that_cannot_be_parsed_is_named_not_printed(tmp_path: Path) -> None:
    path = env_file(tmp_path, f"A=1\nB=2\n{TOKEN} with spaces\n")
    error = refused(path)
    assert error.where is not None and error.where.line == 3
    assert TOKEN not in str(error) and TOKEN not in (error.hint or "")


def test_env_file_unterminated_quote_is_named_not_printed(tmp_path: Path) -> None:
    path = env_file(tmp_path, f'A="{TOKEN}\n')
    error = refused(path)
    assert error.where is not None and error.where.line == 1
    assert TOKEN not in str(error)


def test_env_file_that_is_not_utf8_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = env_file(tmp_path, b"A=1\nB=caf\xe9-" + TOKEN.encode() + b"\n")
    error = refused(path)
    assert "not UTF-8" in str(error)
    assert error.where is not None and error.where.line == 2
    assert TOKEN not in str(error)


def test_plan_with_an_unparsable_env_file_exits_2_without_printing_the_line(
    tmp_path: Path,
) -> None:
    path = env_file(tmp_path, f"{TOKEN}\n")
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "plan", str(tmp_path), "--build-command", "true",
         "--env-file", str(path)],
        capture_output=True, text=True, env={**os.environ, **NO_ENGINE}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"{path}:1" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_plan_with_a_non_utf8_env_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = env_file(tmp_path, b"A=\xff\xfe\n")
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "plan", str(tmp_path), "--build-command", "true",
         "--env-file", str(path)],
        capture_output=True, text=True, env={**os.environ, **NO_ENGINE}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "not UTF-8" in result.stderr and "Traceback" not in result.stderr

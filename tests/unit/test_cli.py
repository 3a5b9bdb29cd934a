"""The command line: exit codes, JSON everywhere, errors without tracebacks. No Docker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE, **(env or {})},
        cwd=cwd or ROOT,
        timeout=60,
    )


def test_readme_exit_code_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE))
    assert {int(code): text for code, text in rows.items()} == EXIT_CODES


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    assert "make simulate" in first_block and "make test" in first_block


def test_every_command_accepts_json() -> None:
    for command in (
        ["simulate"],
        ["plan"],
        ["explain"],
        ["doctor"],
        ["clean"],
        ["images", "list"],
        ["images", "build"],
        ["images", "prune"],
    ):
        result = run(*command, "--help")
        assert result.returncode == 0, command
        assert "--json" in result.stdout, command


def test_bad_blueprint_exits_2_naming_file_line_and_fix(tmp_path: Path) -> None:
    (tmp_path / "render.yaml").write_text(
        "services:\n  - type: web\n    name: api\n    runtime: python\n    pythonVersion: '3.12'\n    buildCommand: pip install .\n"
    )
    result = run("plan", str(tmp_path))
    assert result.returncode == 2
    assert "render.yaml:5" in result.stderr
    assert "PYTHON_VERSION" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_blueprint_and_no_build_command_exits_3(tmp_path: Path) -> None:
    result = run("plan", str(tmp_path))
    assert result.returncode == 3
    assert "--build-command" in result.stderr


def test_plan_works_without_a_docker_engine(tmp_path: Path) -> None:
    result = run("plan", str(tmp_path), "--build-command", "pip install .", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["services"][0]["python"]["source"] == "default"
    assert "python:" in data["services"][0]["image"]["base"]


def test_simulate_without_engine_exits_4_with_a_fix(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path), "--build-command", "true")
    assert result.returncode == 4
    assert "fix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_errors_are_json_with_json_option(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path), "--build-command", "true", "--json")
    assert result.returncode == 4
    assert json.loads(result.stdout)["error"]["code"] == 4


@pytest.mark.parametrize(
    "option",
    [
        ["--memory", "lots"],
        ["--timeout", "soon"],
        ["--created", "yesterday"],
        ["--cpus", "0"],
        ["--memory", "1k"],
    ],
)
def test_bad_option_values_exit_2(tmp_path: Path, option: list[str]) -> None:
    result = run("plan", str(tmp_path), "--build-command", "true", *option)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_unknown_option_exits_2() -> None:
    assert run("plan", "--no-such-option").returncode == 2


def test_partial_python_version_is_rejected_as_render_does(tmp_path: Path) -> None:
    result = run("plan", str(tmp_path), "--build-command", "true", "--python", "3.11")
    assert result.returncode == 2
    assert "major, minor, and patch" in result.stderr


@pytest.mark.parametrize(("content", "why"), [(b"", "empty"), (b"\x00\x01\x02binary", "binary")])
def test_explain_bad_input_exits_6_without_traceback(
    tmp_path: Path, content: bytes, why: str
) -> None:
    log = tmp_path / "build.log"
    log.write_bytes(content)
    result = run("explain", str(log), "--offline")
    assert result.returncode == 6
    assert why in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_reads_stdin_and_prints_json() -> None:
    log = "==> Using Python version 3.11.9 (default)\nERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'\n"
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "explain", "-", "--json", "--offline"],
        input=log,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["class"] == "requirements-file-missing"

"""Versioned JSON: every `--json` output starts with its schema version, render-sim's version and
the command, and meets the JSON Schema `render-sim schema COMMAND` prints. No Docker here: the
real outputs of the commands that need none (simulate's are checked in tests/docker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
import typer
from index_fixture import CP313, LocalIndex
from jsonschema import Draft202012Validator, ValidationError

from simulator import __version__
from simulator.cli.app import app
from simulator.report.schemas import COMMANDS, SCHEMA_VERSION, command_of, envelope, schema_for

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
BLUEPRINT = (
    "services:\n  - type: web\n    name: api\n    runtime: python\n"
    "    buildCommand: pip install -r requirements.txt\n    startCommand: python main.py\n"
)
LOGS = ROOT / "tests" / "unit" / "real_logs"
#: One real log per failure class (and an unknown one): diagnoses with and without a package,
#: a Python, fixes with each kind of action.
EXPLAINED = sorted({path.name.split("--")[0]: path for path in LOGS.glob("*.log")}.values())


def run(*args: str, cwd: Path = ROOT, stdin: str | None = None, **env: str) -> Any:
    """`render-sim ARGS` without a Docker engine; returns (exit code, parsed stdout)."""
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **NO_ENGINE, **env},
        cwd=cwd,
        timeout=120,
    )
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        ) from None


def validate(command: str, data: Any) -> None:
    Draft202012Validator(schema_for(command)).validate(data)


def repo(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name, text in {"render.yaml": BLUEPRINT, "requirements.txt": "", **files}.items():
        (root / name).write_text(text)
    return root


def json_commands() -> set[str]:
    """Every command of the app that takes --json, walked from the app itself."""
    found = set()

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        if any("--json" in getattr(p, "opts", ()) for p in getattr(command, "params", ())):
            found.add(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


# -- the schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_schema_is_a_valid_draft_2020_12_schema(command: str) -> None:
    schema = schema_for(command)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_command_with_a_json_option_has_a_schema() -> None:
    assert json_commands() == set(COMMANDS)


def test_schema_command_prints_the_schema_of_a_two_word_command() -> None:
    code, printed = run("schema", "images", "list")
    assert code == 0
    assert printed == schema_for("images list")


def test_schema_of_a_command_without_json_output_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "schema", "deploy"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "images list" in proc.stderr and "Traceback" not in proc.stderr


def test_an_output_without_a_required_key_fails_its_schema(tmp_path: Path) -> None:
    _, data = run("plan", str(repo(tmp_path)), "--offline", "--json")
    del data["services"]
    with pytest.raises(ValidationError):
        validate("plan", data)


def test_an_output_with_a_key_added_still_meets_its_schema(tmp_path: Path) -> None:
    _, data = run("plan", str(repo(tmp_path)), "--offline", "--json")
    data["services"][0]["added_later"] = {"any": "thing"}
    validate("plan", data)


def test_another_schema_version_fails_the_schema(tmp_path: Path) -> None:
    _, data = run("plan", str(repo(tmp_path)), "--offline", "--json")
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ValidationError):
        validate("plan", data)


# -- the envelope -----------------------------------------------------------------------------


def test_json_output_starts_with_schema_version_render_sim_version_and_command(
    tmp_path: Path,
) -> None:
    _, data = run("plan", str(repo(tmp_path)), "--offline", "--json")
    assert list(data)[:3] == ["schema_version", "render_sim_version", "command"]
    assert (data["schema_version"], data["render_sim_version"], data["command"]) == (
        SCHEMA_VERSION,
        __version__,
        "plan",
    )


def test_the_command_of_a_command_line_skips_options_and_joins_groups() -> None:
    assert command_of(["--json", "images", "list", "--json"]) == "images list"
    assert command_of(["simulate", "--service", "web", "."]) == "simulate"
    assert command_of(["--version"]) is None


def test_an_output_key_cannot_shadow_the_envelope() -> None:
    with pytest.raises(ValueError, match="envelope"):
        envelope({"command": "x"}, "plan")


# -- real outputs -----------------------------------------------------------------------------


def test_plan_json_meets_its_schema(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        **{"runtime.txt": "python-3.11.9\n", ".render-sim.toml": "created = 2025-03-14\n"},
    )
    code, data = run("plan", str(root), "--strict", "--offline", "--json")
    assert code == 1 and data["strict"]["failed"] is True
    validate("plan", data)


def test_plan_without_an_engine_meets_its_schema(tmp_path: Path) -> None:
    code, data = run("plan", str(repo(tmp_path)), "--json")
    assert code == 0
    validate("plan", data)


@pytest.mark.parametrize("log", EXPLAINED, ids=lambda path: path.name.split("--")[0])
def test_explain_json_meets_its_schema(log: Path) -> None:
    _, data = run("explain", str(log), "--offline", "--json")
    assert data["command"] == "explain"
    validate("explain", data)


def test_doctor_json_without_an_engine_meets_its_schema() -> None:
    code, data = run("doctor", "--json")
    assert code == 4 and data["ok"] is False
    validate("doctor", data)


def test_scenarios_list_json_meets_its_schema() -> None:
    code, data = run("scenarios", "list", "--json")
    assert code == 0 and data["scenarios"]
    validate("scenarios list", data)


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """demo 2.9.2 pins demo-core 2.23.4, which has wheels for CPython 3.13 only."""
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True)
    with index.serve() as url:
        yield url


def test_check_json_meets_its_schema(tmp_path: Path, index_url: str) -> None:
    root = repo(tmp_path, **{"requirements.txt": "demo==2.9.2\n"})
    code, data = run(
        "check", str(root), "--created", "2026-03-01", "--index-url", index_url, "--json",
        RENDER_SIM_HOME=str(tmp_path / "home"),
    )  # fmt: skip
    assert code == 1 and data["services"][0]["source_builds"]
    validate("check", data)


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("plan", ["plan", "/nonexistent/render-sim-repo", "--json"]),
        ("simulate", ["simulate", ".", "--build-command", "true", "--json"]),
        ("explain", ["explain", "-", "--offline", "--json"]),
        ("images list", ["images", "list", "--json"]),
    ],
)
def test_an_error_is_json_that_meets_the_commands_schema(command: str, args: list[str]) -> None:
    code, data = run(*args, stdin="")
    assert code >= 2 and data["command"] == command and data["error"]["hint"]
    validate(command, data)


def test_every_schema_file_ships_in_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    assert "simulator.report.schemas" in setuptools["packages"]
    patterns = setuptools["package-data"]["simulator.report.schemas"]
    files = [p.name for p in (ROOT / "simulator" / "report" / "schemas").glob("*.json")]
    assert len(files) == len(COMMANDS) + 1  # one per command, and the shared definitions
    assert all(any(Path(name).match(pattern) for pattern in patterns) for name in files)

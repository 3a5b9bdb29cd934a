"""The real `--json` outputs of the commands that need a Docker engine meet their schemas:
simulate (each way a build ends), images list and images build."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from simulator.report.schemas import schema_for

pytestmark = pytest.mark.docker

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def validate(command: str, data: Any) -> None:
    Draft202012Validator(schema_for(command)).validate(data)


@pytest.mark.parametrize("name", ["success", "failure", "out-of-memory", "timeout", "no-output"])
def test_simulate_json_meets_its_schema(cli_runs: Any, name: str) -> None:
    run = cli_runs.get(name)
    data = run.json()
    assert data["command"] == "simulate", run.explain()
    validate("simulate", data)


def test_images_list_json_meets_its_schema(
    built_images: dict[str, Any], render_sim: RunCli
) -> None:
    proc = render_sim("images", "list", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["images"], proc.stderr
    validate("images list", data)


def test_images_build_json_meets_its_schema(
    built_images: dict[str, Any], make_repo: Callable[..., Path], render_sim: RunCli
) -> None:
    repo = make_repo("true")
    proc = render_sim("images", "build", str(repo), "--python", "3.13.4", "--no-pull", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["images"] == [built_images["3.13"].tag], proc.stderr
    validate("images build", data)

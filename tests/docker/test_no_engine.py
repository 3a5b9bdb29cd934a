"""With no Docker engine answering: `simulate` says how to start one (exit 4); `plan` still works."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

NO_ENGINE = "unix:///nonexistent.sock"
BUILD_COMMAND = "pip install -r requirements.txt"

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def repo(repo_writer: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return repo_writer(
        tmp_path_factory.mktemp("no-engine") / "repo", BUILD_COMMAND, service="no-engine"
    )


@pytest.fixture(scope="module")
def simulate_without_engine(repo: Path, render_sim: Cli) -> subprocess.CompletedProcess[str]:
    return render_sim("simulate", str(repo), timeout=120, DOCKER_HOST=NO_ENGINE)


@pytest.fixture(scope="module")
def plan_without_engine(repo: Path, render_sim: Cli) -> subprocess.CompletedProcess[str]:
    return render_sim("plan", str(repo), timeout=120, DOCKER_HOST=NO_ENGINE)


def test_simulate_without_engine_exits_4(
    simulate_without_engine: subprocess.CompletedProcess[str],
) -> None:
    assert simulate_without_engine.returncode == 4, _explain(simulate_without_engine)


def test_simulate_without_engine_says_how_to_start_one(
    simulate_without_engine: subprocess.CompletedProcess[str],
) -> None:
    message = " ".join(simulate_without_engine.stderr.split())
    assert "error: no Docker engine answers" in message, _explain(simulate_without_engine)
    assert "fix:" in message and "DOCKER_HOST" in message, _explain(simulate_without_engine)
    assert "Traceback" not in message, _explain(simulate_without_engine)


def test_plan_without_engine_exits_0(plan_without_engine: subprocess.CompletedProcess[str]) -> None:
    assert plan_without_engine.returncode == 0, _explain(plan_without_engine)


def test_plan_without_engine_shows_the_plan(
    plan_without_engine: subprocess.CompletedProcess[str],
) -> None:
    out = plan_without_engine.stdout
    assert "no-engine" in out and BUILD_COMMAND in out, _explain(plan_without_engine)
    assert "==> Using Python version 3.14.3 (default)" in out, _explain(plan_without_engine)
    assert "python:3.14.3-slim-bookworm if present or pullable" in out, _explain(
        plan_without_engine
    )

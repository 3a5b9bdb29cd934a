"""Inputs that used to crash `simulate` end as a build or as a typed error, on the real engine."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.hermetic.cli_support import labelled

pytestmark = pytest.mark.docker

SIMULATE = ("--python", "3.13.4", "--no-pull", "--no-cache", "--offline")


def test_a_300_character_service_name_builds_and_saves_its_log(
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    repo = make_repo("echo built", service="s" * 300)
    proc = render_sim("simulate", str(repo), *SIMULATE, "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout)["results"][0]
    assert result["service"] == "s" * 300
    assert "built" in Path(result["log_path"]).read_text(encoding="utf-8")


def test_simulate_with_an_unusable_home_exits_2_naming_it_and_leaves_nothing(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    repo = make_repo("echo built", service="homeless")
    proc = render_sim("simulate", str(repo), *SIMULATE, RENDER_SIM_HOME=str(home))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert str(home) in proc.stderr and "RENDER_SIM_HOME" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert labelled(client, repo) == ([], [])

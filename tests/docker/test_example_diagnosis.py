"""The shipped example, simulated for real, ends with the diagnosis users come for.

Needs PyPI (pip downloads pydantic-core's sdist and maturin); the container runs on the real
engine. The fixes' version numbers come from the package index, not from this file: the test
checks their shape and that they were checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fastapi-pydantic"


def simulate_json(repo: Path, home: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "simulate", str(repo), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "RENDER_SIM_HOME": str(home)},
        timeout=900,
    )
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    return simulate_json(EXAMPLE, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def runtime_txt_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = tmp_path_factory.mktemp("repo") / "app"
    shutil.copytree(EXAMPLE, repo)
    (repo / "runtime.txt").write_text("python-3.12.8\n")
    return simulate_json(repo, tmp_path_factory.mktemp("home"))[1]


def diagnosis_of(data: dict[str, Any]) -> dict[str, Any]:
    diagnosis = data["results"][0]["diagnosis"]
    assert diagnosis is not None, data["results"][0]
    return diagnosis


def test_example_build_fails_with_exit_1(example_run: tuple[int, dict[str, Any]]) -> None:
    code, data = example_run
    assert code == 1
    assert data["results"][0]["outcome"] == "failed"


def test_example_diagnosis_names_pydantic_core_2_23_4(
    example_run: tuple[int, dict[str, Any]],
) -> None:
    diagnosis = diagnosis_of(example_run[1])
    assert diagnosis["package"] == {"name": "pydantic-core", "version": "2.23.4"}
    assert diagnosis["class"] == "rust-readonly-cargo"


def test_example_diagnosis_names_cpython_3_14(example_run: tuple[int, dict[str, Any]]) -> None:
    assert diagnosis_of(example_run[1])["python"]["version"].startswith("3.14")


def test_example_top_fix_pins_a_full_python_version_with_wheels(
    example_run: tuple[int, dict[str, Any]],
) -> None:
    top = diagnosis_of(example_run[1])["fixes"][0]
    assert top["checked"] is True
    assert top["action"]["kind"] == "set-env"
    assert top["action"]["key"] == "PYTHON_VERSION"
    major, minor, patch = top["action"]["value"].split(".")
    assert (int(major), int(minor)) < (3, 14) and patch.isdigit()


def test_example_fixes_include_a_checked_pydantic_upgrade(
    example_run: tuple[int, dict[str, Any]],
) -> None:
    pins = [
        f for f in diagnosis_of(example_run[1])["fixes"] if (f["action"] or {}).get("kind") == "pin"
    ]
    assert pins and pins[0]["action"]["package"] == "pydantic" and pins[0]["checked"] is True
    assert pins[0]["action"]["specifier"].startswith(">=2.")


def test_runtime_txt_in_the_repo_is_reported_as_ignored(runtime_txt_run: dict[str, Any]) -> None:
    warnings = " ".join(diagnosis_of(runtime_txt_run)["warnings"])
    assert "Render ignores runtime.txt" in warnings

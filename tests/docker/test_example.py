"""The case behind render-sim, end to end: `render-sim simulate examples/fastapi-pydantic`.

pydantic 2.9.2 pins pydantic-core 2.23.4, which has no wheel for Python 3.14: pip downloads the
sdist and builds it with maturin and cargo, which fails. This needs PyPI (marked `network`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.network]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "fastapi-pydantic"


@pytest.fixture(scope="module")
def example_run(
    built_images: dict[str, Any],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    """Run from the project root, with the example's path as a user types it."""
    return render_sim("simulate", "examples/fastapi-pydantic", cwd=PROJECT_ROOT)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-5000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


def _log_path(proc: subprocess.CompletedProcess[str]) -> Path:
    match = re.search(r"[│|] Log\s+(\S+\.log)\s", proc.stdout)
    assert match, f"no log path in the result card:\n{_explain(proc)}"
    return Path(match.group(1))


def test_example_build_exits_1(example_run: subprocess.CompletedProcess[str]) -> None:
    assert example_run.returncode == 1, _explain(example_run)


def test_plan_card_says_default_python(example_run: subprocess.CompletedProcess[str]) -> None:
    assert "Using Python version 3.14.3 (default)" in example_run.stdout, _explain(example_run)


def test_pip_collects_pydantic_core_sdist(example_run: subprocess.CompletedProcess[str]) -> None:
    assert "Collecting pydantic-core==2.23.4" in example_run.stdout, _explain(example_run)
    assert "pydantic_core-2.23.4.tar.gz" in example_run.stdout, _explain(example_run)


def test_pip_builds_pydantic_core_with_maturin(
    example_run: subprocess.CompletedProcess[str],
) -> None:
    assert "maturin" in example_run.stdout, _explain(example_run)


def test_render_says_build_failed(example_run: subprocess.CompletedProcess[str]) -> None:
    assert "==> Build failed 😞" in example_run.stdout.splitlines(), _explain(example_run)


def test_result_card_names_the_saved_log(example_run: subprocess.CompletedProcess[str]) -> None:
    assert re.search(r"[│|] Outcome\s+failed\s", example_run.stdout), _explain(example_run)
    assert _log_path(example_run).name.endswith(".log")


def test_saved_log_exists_outside_the_repo(
    example_run: subprocess.CompletedProcess[str], render_sim_home: Path
) -> None:
    log = _log_path(example_run)
    assert log.is_file(), log
    assert not log.resolve().is_relative_to(PROJECT_ROOT), log
    assert log.resolve().is_relative_to(render_sim_home.resolve()), log
    assert "Collecting pydantic-core==2.23.4" in log.read_text(encoding="utf-8")

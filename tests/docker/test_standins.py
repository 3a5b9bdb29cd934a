"""Without a container registry, `render-sim simulate` works through offline stand-in bases.

Python 3.11, 3.13 and 3.14 each have a stand-in bootstrapped from Debian (bookworm, trixie,
forky), whose CPython patch release differs from the one asked for: the build runs, prints the
stand-in's version, and the plan and the result say so. A Python Debian does not offer (3.12)
has no way to run offline: exit 5 and the ways out, no traceback.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

PYTHONS = {"3.11": "3.11.11", "3.13": "3.13.4", "3.14": "3.14.3"}
Run = tuple[subprocess.CompletedProcess[str], Any]  # the CLI run, and the image it should use


@pytest.fixture(scope="module")
def standin_runs(
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Run]:
    """`render-sim simulate REPO --python X.Y.Z --build-command 'python --version'`, per minor."""
    runs: dict[str, Run] = {}
    for minor, version in PYTHONS.items():
        repo = repo_writer(tmp_path_factory.mktemp(f"standin-{minor}") / "repo", None)
        proc = render_sim(
            "simulate", str(repo), "--python", version, "--build-command", "python --version"
        )
        runs[minor] = (proc, built_images[minor])
    return runs


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("minor", PYTHONS)
def test_standin_simulation_exits_0(standin_runs: dict[str, Run], minor: str) -> None:
    proc, _ = standin_runs[minor]
    assert proc.returncode == 0, _explain(proc)


@pytest.mark.parametrize("minor", PYTHONS)
def test_base_is_an_offline_standin(standin_runs: dict[str, Run], minor: str) -> None:
    _, image = standin_runs[minor]
    assert image.base.kind == "standin", image.base
    assert image.base.python.startswith(f"{minor}."), image.base


@pytest.mark.parametrize("minor", PYTHONS)
def test_build_prints_the_standins_python_version(standin_runs: dict[str, Run], minor: str) -> None:
    proc, image = standin_runs[minor]
    assert f"Python {image.base.python}" in proc.stdout.splitlines(), _explain(proc)


@pytest.mark.parametrize("minor", PYTHONS)
def test_plan_says_the_standin_differs_from_render(
    standin_runs: dict[str, Run], minor: str
) -> None:
    proc, image = standin_runs[minor]
    assert f"offline stand-in base {image.base.ref}" in proc.stdout, _explain(proc)
    assert f"runs {image.base.python} here (stand-in)" in proc.stdout, _explain(proc)


@pytest.mark.parametrize("minor", PYTHONS)
def test_result_names_renders_python_and_the_one_that_ran(
    standin_runs: dict[str, Run], minor: str
) -> None:
    proc, image = standin_runs[minor]
    assert image.base.python != PYTHONS[minor], "the stand-in's patch release differs"
    assert f"{PYTHONS[minor]} on Render, {image.base.python} here" in proc.stdout, _explain(proc)


@pytest.fixture(scope="module")
def python_3_12(
    client: Any,
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> subprocess.CompletedProcess[str]:
    """`--python 3.12.8` as on a machine without a registry (`--no-pull`)."""
    repo = repo_writer(tmp_path_factory.mktemp("python-3.12") / "repo", None)
    return render_sim(
        "simulate",
        str(repo),
        "--python",
        "3.12.8",
        "--no-pull",
        "--build-command",
        "python --version",
    )


def test_python_without_offline_image_exits_5(
    python_3_12: subprocess.CompletedProcess[str],
) -> None:
    assert python_3_12.returncode == 5, _explain(python_3_12)


def test_python_without_offline_image_names_the_ways_out(
    python_3_12: subprocess.CompletedProcess[str],
) -> None:
    message = " ".join(python_3_12.stderr.split())  # unwrapped
    assert "error: no image for Python 3.12.8" in message, _explain(python_3_12)
    assert "fix:" in message, _explain(python_3_12)
    for way_out in ("registry access", "--base-image", "--python", *PYTHONS):
        assert way_out in message, f"{way_out!r} not named:\n{_explain(python_3_12)}"


def test_python_without_offline_image_prints_no_traceback(
    python_3_12: subprocess.CompletedProcess[str],
) -> None:
    assert "Traceback" not in python_3_12.stdout + python_3_12.stderr, _explain(python_3_12)

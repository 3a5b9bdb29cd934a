"""render-sim installed as people install a CLI tool: the built wheel, with `uv tool install`
and with `pipx install`, no checkout on the path.

Each install runs `--version`, `plan`, `check` and one `simulate` of the shipped example, and
must say what the checkout says. The wheel is built from a copy of the checkout's files (a build
writes `*.egg-info` beside the sources; the checkout is left as it is). Needs PyPI: the example
downloads pydantic-core's sdist, check asks the index, and the installers fetch the dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator import __version__

pytestmark = [pytest.mark.docker, pytest.mark.network]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "fastapi-pydantic"
BIN = Path(sys.executable).parent
INSTALL_TIMEOUT_S = 600
INSTALLERS = ("uv", "pipx")


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> Any:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _checked(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by `uv build` from a copy of the checkout's files."""
    tmp = tmp_path_factory.mktemp("wheel")
    listed = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z", "-co", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    source = tmp / "source"
    for name in filter(None, listed.split("\0")):
        path = PROJECT_ROOT / name
        if path.is_file() and not path.is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    _checked(
        _run(
            [str(BIN / "uv"), "build", "--wheel", "--out-dir", str(tmp / "dist"), str(source)],
            tmp,
            {**os.environ, "UV_CACHE_DIR": str(tmp / "uv-cache")},
            INSTALL_TIMEOUT_S,
        )
    )
    (built,) = (tmp / "dist").glob("render_sim-*.whl")
    return built


@pytest.fixture(scope="module", params=INSTALLERS)
def installed(
    request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The `render-sim` executable of a fresh tool install of the wheel."""
    tmp = tmp_path_factory.mktemp(f"install-{request.param}")
    bin_dir = tmp / "bin"
    python = Path(sys.base_prefix) / "bin" / Path(sys.executable).name
    if request.param == "uv":
        argv = [str(BIN / "uv"), "tool", "install", "--python", str(python), str(wheel)]
        env = {
            "UV_TOOL_DIR": str(tmp / "tools"),
            "UV_TOOL_BIN_DIR": str(bin_dir),
            "UV_CACHE_DIR": str(tmp / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
        }
    else:
        argv = [str(BIN / "pipx"), "install", "--python", str(python), str(wheel)]
        env = {"PIPX_HOME": str(tmp / "pipx"), "PIPX_BIN_DIR": str(bin_dir)}
    _checked(_run(argv, tmp, {**os.environ, **env}, INSTALL_TIMEOUT_S))
    executable = bin_dir / "render-sim"
    assert executable.is_file(), sorted(p.name for p in bin_dir.iterdir())
    return executable


def _tool_env() -> dict[str, str]:
    """The user's environment, without this checkout on Python's path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"COLUMNS": "400", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    return env


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"{proc.args} printed no JSON (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        ) from None


def _untimed(data: Any) -> Any:
    """`data` without its `seconds` fields (how long a step took differs between any two runs)."""
    if isinstance(data, dict):
        return {k: _untimed(v) for k, v in data.items() if k != "seconds"}
    if isinstance(data, list):
        return [_untimed(v) for v in data]
    return data


def _outcome(data: dict[str, Any]) -> dict[str, Any]:
    """What a simulate said, without what differs between any two runs (times, log paths)."""
    (result,) = data["results"]
    diagnosis = result["diagnosis"] or {}
    fixes = [f for f in diagnosis.get("fixes", []) if f.get("action")]
    return {
        "outcome": result["outcome"],
        "exit_code": result["exit_code"],
        "python": result["python"],
        "class": diagnosis.get("class"),
        "package": diagnosis.get("package"),
        "top_fix": fixes[0]["action"] if fixes else None,
    }


@pytest.fixture(scope="module")
def checkout_results(
    built_images: dict[str, Any],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """plan, check and simulate of the example, run from the checkout."""
    cwd = tmp_path_factory.mktemp("checkout-run")
    plan = render_sim("plan", str(EXAMPLE), "--json", cwd=cwd)
    check = render_sim("check", str(EXAMPLE), "--json", cwd=cwd)
    simulate = render_sim("simulate", str(EXAMPLE), "--json", "--no-cache", cwd=cwd)
    return {"plan": plan, "check": check, "simulate": simulate}


def test_installed_tool_prints_its_version(installed: Path, tmp_path: Path) -> None:
    proc = _checked(_run([str(installed), "--version"], tmp_path, _tool_env()))
    assert proc.stdout.strip() == f"render-sim {__version__}"


def test_installed_tool_plans_as_the_checkout_does(
    installed: Path, checkout_results: dict[str, Any], tmp_path: Path
) -> None:
    proc = _run([str(installed), "plan", str(EXAMPLE), "--json"], tmp_path, _tool_env())
    assert proc.returncode == checkout_results["plan"].returncode == 0, proc.stderr[-3000:]
    assert _json(proc) == _json(checkout_results["plan"])


def test_installed_tool_checks_as_the_checkout_does(
    installed: Path, checkout_results: dict[str, Any], tmp_path: Path
) -> None:
    proc = _run([str(installed), "check", str(EXAMPLE), "--json"], tmp_path, _tool_env())
    expected = checkout_results["check"]
    assert proc.returncode == expected.returncode == 1, proc.stderr[-3000:]
    assert _untimed(_json(proc)) == _untimed(_json(expected))


def test_installed_tool_simulates_the_example_as_the_checkout_does(
    installed: Path, checkout_results: dict[str, Any], built_images: dict[str, Any], tmp_path: Path
) -> None:
    proc = _run(
        [str(installed), "simulate", str(EXAMPLE), "--json", "--no-cache"], tmp_path, _tool_env()
    )
    expected = _outcome(_json(checkout_results["simulate"]))
    assert proc.returncode == checkout_results["simulate"].returncode == 1, proc.stderr[-3000:]
    assert _outcome(_json(proc)) == expected
    assert expected["outcome"] == "failed", expected
    assert (expected["package"] or {}).get("name") == "pydantic-core", expected

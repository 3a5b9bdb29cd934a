"""What the wheel carries and how render-sim starts: the package list, its files, the entry points.

The wheel is built from pyproject.toml's explicit package list (the build image's files live in
images/ at the top level and ship as `simulator._images`); a package directory left out of that
list would install as a broken tool while every test of the checkout passed.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import tomllib
from packaging.licenses import canonicalize_license_expression

from simulator import __version__, locations

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=60,
    )


def test_every_package_directory_is_in_the_wheel() -> None:
    found = {
        ".".join(path.relative_to(ROOT).parent.parts)
        for path in (ROOT / "simulator").rglob("__init__.py")
    }
    assert found <= set(SETUPTOOLS["packages"]), sorted(found - set(SETUPTOOLS["packages"]))


def test_the_image_files_ship_inside_the_package() -> None:
    assert SETUPTOOLS["package-dir"]["simulator._images"] == "images"
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["simulator._images"]
    shipped = [p.name for p in (ROOT / "images").iterdir() if p.name != "__init__.py"]
    missing = [n for n in shipped if not any(fnmatch.fnmatch(n, pat) for pat in patterns)]
    assert shipped and not missing, missing


def test_image_files_are_read_as_package_resources() -> None:
    for name in ("render-layer.Dockerfile", "render-layer.sh", "standin-hook.sh"):
        assert locations.image_file(name).read_bytes() == (ROOT / "images" / name).read_bytes()


def test_license_is_an_spdx_expression() -> None:
    license_text = PYPROJECT["project"]["license"]
    assert isinstance(license_text, str)
    assert canonicalize_license_expression(license_text) == license_text
    for name in PYPROJECT["project"]["license-files"]:
        assert (ROOT / name).is_file(), name


def test_version_option_prints_the_package_version() -> None:
    result = _run("-m", "simulator", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"render-sim {__version__}"


def test_python_dash_m_simulator_runs_the_command_line() -> None:
    result = _run("-m", "simulator", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"render-sim {__version__}"


def test_completion_scripts_exist_for_bash_zsh_and_fish() -> None:
    heads = {"bash": "_render_sim_completion()", "zsh": "#compdef render-sim", "fish": "complete"}
    for shell, head in heads.items():
        result = _run("-m", "simulator", _RENDER_SIM_COMPLETE=f"source_{shell}")
        assert result.returncode == 0, (shell, result.stderr)
        assert head in result.stdout and "render-sim" in result.stdout, (shell, result.stdout)


def test_bash_completion_completes_a_command_name() -> None:
    result = _run(
        "-m",
        "simulator",
        _RENDER_SIM_COMPLETE="complete_bash",
        COMP_WORDS="render-sim scen",
        COMP_CWORD="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["scenarios"]


def test_readme_says_render_sim_is_not_affiliated_with_render() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "not affiliated with, endorsed by or supported by Render" in readme

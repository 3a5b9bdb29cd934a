"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit (`try-repo`).

pre-commit installs the hook repository (a copy of this checkout, committed) into its own
virtualenv from PyPI, once for the module (`PRE_COMMIT_HOME` is the module's). Each test runs
the hooks in a small git repo of a Render service. No Docker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from index_fixture import CP313, LocalIndex

from tests.checkout_copy import ROOT, copy_checkout, git

pytestmark = pytest.mark.network  # pre-commit installs the hooks' environment from PyPI

BLUEPRINT = (
    "services:\n  - type: web\n    name: api\n    runtime: python\n"
    "    buildCommand: pip install -r requirements.txt\n    startCommand: python main.py\n"
)
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("hooks") / "render-sim", commit=True)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """demo 2.9.2 pins demo-core 2.23.4, which has wheels for CPython 3.13 only."""
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True)
    with index.serve() as url:
        yield url


def service_repo(root: Path, **files: str) -> Path:
    """A git repo of a Render service, its files committed (what --all-files looks at)."""
    root.mkdir()
    for name, text in {"render.yaml": BLUEPRINT, "requirements.txt": "", **files}.items():
        (root / name).write_text(text)
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "the service", cwd=root)
    return root


def try_repo(
    repo: Path, hooks: Path, home: Path, hook: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENDER_SIM_", "GIT_"))}
    env.update({"PRE_COMMIT_HOME": str(home), "RENDER_SIM_HOME": str(home / "render-sim")})
    env.update({"PRE_COMMIT_COLOR": "never", "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(hooks), hook, "--all-files", "--verbose", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_every_hook_runs_render_sim_from_python() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {hook["id"]: hook["language"] for hook in hooks} == {
        "render-sim-plan": "python",
        "render-sim-check": "python",
    }
    assert all(hook["entry"].startswith("render-sim ") for hook in hooks)


def test_plan_hook_passes_a_well_configured_repo(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    repo = service_repo(tmp_path / "repo", **{".python-version": "3.13\n"})
    proc = try_repo(repo, hooks_repo, pre_commit_home, "render-sim-plan")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_plan_hook_fails_on_an_ignored_runtime_txt(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    repo = service_repo(tmp_path / "repo", **{"runtime.txt": "python-3.11.9\n"})
    proc = try_repo(repo, hooks_repo, pre_commit_home, "render-sim-plan")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout and "runtime.txt is ignored by Render" in proc.stdout


def test_plan_hook_is_skipped_when_no_build_file_is_in_the_commit(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "main.py").write_text("print('hello')\n")
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    proc = try_repo(root, hooks_repo, pre_commit_home, "render-sim-plan")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Skipped" in proc.stdout


def test_check_hook_does_not_run_at_commit_time(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    repo = service_repo(tmp_path / "repo")
    proc = try_repo(repo, hooks_repo, pre_commit_home, "render-sim-check")
    assert proc.returncode == 1
    assert "No hook with id `render-sim-check` in stage `pre-commit`" in proc.stdout + proc.stderr


def test_check_hook_fails_on_a_source_build_with_the_repos_settings(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path, index_url: str
) -> None:
    settings = f'created = 2026-03-01\nindex-url = "{index_url}"\n'
    repo = service_repo(
        tmp_path / "repo", **{".render-sim.toml": settings, "requirements.txt": "demo==2.9.2\n"}
    )
    proc = try_repo(repo, hooks_repo, pre_commit_home, "render-sim-check", "--hook-stage", "manual")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "demo-core 2.23.4" in proc.stdout and "compiled from source" in proc.stdout

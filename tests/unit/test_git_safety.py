"""A repo render-sim is pointed at runs nothing on the host through git, and its .git is not written.

Git runs programs that a repo's own config names (core.fsmonitor, clean filters, ...) and
`git status` rewrites .git/index; these tests use the real git on a hostile repo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.config import source

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
BLUEPRINT = """\
services:
  - type: web
    name: app
    runtime: python
    buildCommand: pip install -r requirements.txt
    startCommand: python app.py
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return done.stdout.decode()


def hostile_repo(root: Path, marker_dir: Path) -> Path:
    """A committed repo whose config runs `touch` through fsmonitor and a clean filter."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "render.yaml").write_text(BLUEPRINT)
    (repo / "requirements.txt").write_text("six==1.16.0\n")
    (repo / "app.py").write_text("print(1)\n")
    (repo / ".gitattributes").write_text("*.py filter=evil\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "config", "core.fsmonitor", f"touch {marker_dir / 'fsmonitor'}; echo")
    git(repo, "config", "filter.evil.clean", f"touch {marker_dir / 'filter'}; cat")
    git(repo, "config", "filter.evil.required", "true")
    git(repo, "config", "core.hooksPath", str(marker_dir / "hooks"))
    # a stat-dirty file: `git status` would re-read it (running the clean filter) and then
    # refresh and rewrite the index
    later = time.time() + 5
    os.utime(repo / "app.py", (later, later))
    return repo


def dot_git(repo: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted((repo / ".git").rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    return hostile_repo(tmp_path, markers), markers


def _render_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE},
        cwd=ROOT,
        timeout=300,
    )


# check asks PyPI for six's files
COMMANDS = ["plan", pytest.param("check", marks=pytest.mark.network)]


@pytest.mark.parametrize("command", COMMANDS)
def test_repo_config_runs_nothing_on_the_host(command: str, hostile: tuple[Path, Path]) -> None:
    repo, markers = hostile
    result = _render_sim(command, str(repo), "--json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert sorted(p.name for p in markers.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_dot_git_is_left_byte_identical(command: str, hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    before = dot_git(repo)
    result = _render_sim(command, str(repo), "--json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert dot_git(repo) == before
    assert not (repo / ".git" / "index.lock").exists()


def test_git_info_still_names_a_changed_file_under_a_filter(hostile: tuple[Path, Path]) -> None:
    repo, markers = hostile
    (repo / "app.py").write_text("print(2)\n")
    info = source.git_info(repo)
    assert info.dirty == ("app.py",)
    assert len(info.commit) == 40 and info.branch == "main"
    assert list(markers.iterdir()) == []


def test_git_dir_of_the_callers_environment_is_ignored(
    hostile: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = hostile
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "elsewhere")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert source.git_info(repo).branch == "main"
    assert "app.py" in source.list_files(repo)

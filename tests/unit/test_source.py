"""Which files Render's checkout would hold, and the archive render-sim copies in."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from simulator.config import source


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_git_repo(repo: Path) -> Path:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "app.py").write_text("print(1)\n")
    (repo / "requirements.txt").write_text("flask\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def test_git_repo_copies_tracked_files_only(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    (repo / "notes.txt").write_text("untracked")
    assert source.list_files(repo) == ("app.py", "requirements.txt")


def test_non_git_directory_copies_all_but_venv(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    (tmp_path / "app.py").write_text("")
    assert source.list_files(tmp_path) == ("app.py",)


def test_git_info_reports_commit_branch_and_dirty_files(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    (repo / "app.py").write_text("print(2)\n")
    (repo / "new.py").write_text("")
    info = source.git_info(repo)
    assert len(info.commit) == 40
    assert info.branch == "main"
    assert info.dirty == ("app.py",)
    assert info.untracked == 1


def test_archive_keeps_modes_and_owns_files_by_root(tmp_path: Path) -> None:
    script = tmp_path / "build.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    data = source.archive(tmp_path, ("build.sh",))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmember("build.sh")
    assert member.mode & 0o111
    assert member.uid == 0 and member.uname == "root"


def test_subdirectory_of_a_git_repo_is_copied_whole(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    (repo / "example").mkdir()
    (repo / "example" / "render.yaml").write_text("services: []\n")
    assert source.list_files(repo / "example") == ("render.yaml",)

"""A build never sees the host's files through the repo: links are copied as links, not followed.

A tracked directory replaced by a symbolic link to a host directory is, for git, a deleted
directory; copying what the link points at would put the host's files in the container (and in
the build log). The build here lists and prints what it finds there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

HOST_SECRET = "host-only-file-content-4711"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def test_tracked_directory_replaced_by_a_link_to_the_host_reaches_no_build(
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    host = tmp_path / "host-config"
    host.mkdir()
    (host / "settings.ini").write_text(f"{HOST_SECRET}\n")
    repo = make_repo(
        "ls -la .config/ 2>&1; cat .config/settings.ini 2>&1; cat latest; echo listed",
        service="boundary-web",
    )
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    (repo / ".config" / "settings.ini").unlink()
    (repo / ".config").rmdir()
    (repo / ".config").symlink_to(host, target_is_directory=True)
    proc = render_sim(
        "simulate", str(repo), "--python", "3.13.4", "--no-pull", "--no-cache", "--offline",
        "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "listed" in proc.stderr  # the build ran and printed what it found
    assert "hello from the app" in proc.stderr  # `latest`, a tracked link inside the repo
    assert HOST_SECRET not in proc.stdout + proc.stderr
    log_path = Path(__import__("json").loads(proc.stdout)["results"][0]["log_path"])
    assert HOST_SECRET not in log_path.read_text(encoding="utf-8")

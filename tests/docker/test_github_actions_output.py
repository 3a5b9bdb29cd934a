"""Under GitHub Actions a failed simulate leaves an `::error` annotation and a job summary, and
the build log is folded and fenced so that the build cannot issue workflow commands."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

SECRET = "gh-actions-s3cr3t-91x"


def simulate_args(repo: Path) -> tuple[str, ...]:
    """A first deploy of `repo` on Render's default Python, with local images and no index."""
    return ("simulate", str(repo), "--python", "3.14.3", "--no-pull", "--no-cache", "--offline")


def test_failed_build_is_annotated_and_summarised_without_its_secret(
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    repo = make_repo(
        "echo installing; echo token=$API_TOKEN; echo 'ERROR: No matching distribution found "
        "for rsim-nothing==9.9' >&2; exit 1",
        service="gha-web",
    )
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"API_TOKEN={SECRET}\n")
    summary = tmp_path / "summary.md"
    proc = render_sim(
        *simulate_args(repo),
        "--env-file",
        str(env_file),
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_WORKSPACE=str(repo),
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1, proc.stdout[-3000:]
    assert "file=render.yaml" in errors[0]
    assert "gha-web no-matching-distribution" in errors[0]
    table = summary.read_text(encoding="utf-8")
    assert "gha-web" in table and "no-matching-distribution" in table
    assert SECRET not in proc.stdout + proc.stderr + table


def test_outside_github_actions_there_is_no_workflow_command(
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    repo = make_repo("exit 1", service="plain-web")
    proc = render_sim(*simulate_args(repo), GITHUB_ACTIONS="")
    assert proc.returncode == 1
    assert "::error" not in proc.stdout + proc.stderr


# The lines a package's build output could print to take over the workflow.
INJECTED = (
    "::error title=injected::a package's build says the workflow failed",
    "::add-mask::hello",
    "::set-output name=deploy::yes",
    "::endgroup::",
    "::stop-commands::guessed-token",
    "::guessed-token::",
    "::warning::still injected",
)


def test_build_log_is_fenced_from_workflow_commands_and_folded(
    built_images: dict[str, Any],
    make_repo: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    script = "cat <<'END'\n" + "\n".join(INJECTED) + "\nEND\necho build done\n"
    repo = make_repo("bash inject.sh", service="gha-fence", files={"inject.sh": script})
    proc = render_sim(
        *simulate_args(repo),
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_WORKSPACE=str(repo),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    group = lines.index("::group::render-sim: build log")
    stop = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[group + 1])
    assert stop, lines[group : group + 3]
    resume = lines.index(f"::{stop[1]}::")
    assert lines[resume + 1] == "::endgroup::"
    fenced = lines[group + 2 : resume]
    assert [line for line in INJECTED if line not in fenced] == [], fenced
    assert "build done" in fenced
    outside = lines[:group] + lines[resume + 2 :]
    assert not [line for line in outside if line.startswith("::")], outside  # nothing escaped

"""Render's limits, enforced for real: memory (--memory), total time (--timeout), silence.

The CLI runs are shared with test_cleanup.py (conftest's `cli_runs`), which checks that each of
them left no container, no volume and an unchanged repo.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build.simulation import BuildResult, simulate_service
from simulator.plan.build_plan import Options, make_plan

pytestmark = pytest.mark.docker

OOM_EVENT = "Ran out of memory (used over 256MB) while building your code."


# -- memory -------------------------------------------------------------------------------------


def test_build_over_memory_limit_exits_1(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.returncode == 1, run.explain()


def test_build_over_memory_limit_is_reported_out_of_memory(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.result()["outcome"] == "out-of-memory", run.explain()


def test_out_of_memory_is_said_in_renders_words(cli_runs: Any) -> None:
    run = cli_runs.get("out-of-memory")
    assert run.result()["event"] == OOM_EVENT, run.explain()
    assert OOM_EVENT in run.stderr, run.explain()


@pytest.fixture(scope="module")
def shell_survives_oom(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> BuildResult:
    """A build whose big allocation is OOM-killed while its shell goes on and exits 0."""
    repo = repo_writer(
        tmp_path_factory.mktemp("oom-survives") / "repo",
        'python -c "bytearray(1024**3)"; echo survived',
    )
    plan = make_plan(repo, Options(python="3.14.3", memory_bytes=256 * 1024**2), client=client)
    image = built_images["3.14"]
    return simulate_service(
        client, plan, plan.services[0], image=image.tag, base=image.base, echo=lambda *_: None
    )


def test_oom_is_read_from_the_cgroup_when_the_shell_survives(
    shell_survives_oom: BuildResult,
) -> None:
    result = shell_survives_oom
    # The build command itself succeeded: only the cgroup's oom_kill counter tells.
    assert result.exit_code == 0, result.log_text[-3000:]
    assert "survived" in result.log_text.splitlines()
    assert result.outcome == "out-of-memory", result.log_text[-3000:]
    assert result.event == OOM_EVENT


# -- time ---------------------------------------------------------------------------------------


def test_build_over_time_limit_exits_1(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")
    assert run.returncode == 1, run.explain()


def test_build_over_time_limit_is_reported_as_timeout(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")
    assert run.result()["outcome"] == "timeout", run.explain()


def test_build_over_time_limit_is_stopped_well_under_its_sleep(cli_runs: Any) -> None:
    run = cli_runs.get("timeout")  # `sleep 120` with --timeout 5s
    assert 5 <= run.result()["duration_s"] < 60, run.explain()


def test_silent_build_is_stopped_by_the_no_output_watchdog(cli_runs: Any) -> None:
    run = cli_runs.get("no-output")  # `sleep 60` with --idle-timeout 3s
    assert run.returncode == 1, run.explain()
    assert run.result()["outcome"] == "no-output", run.explain()
    assert 3 <= run.result()["duration_s"] < 45, run.explain()

"""Whatever way a simulation ends, nothing is left behind and the user's repo is untouched.

Each `render-sim simulate` run (conftest's `cli_runs`) gets its own repo; its containers and
volumes carry `render-sim.repo=<resolved repo path>`, which is how leftovers are found here.
The repo is snapshotted (every path, its bytes and its mode) before and after the run; the
builds write, delete and chmod files in their checkout to prove the checkout is a copy.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.docker

ENDINGS = ["success", "failure", "out-of-memory", "timeout", "no-output", "sigint", "sigterm"]


def test_successful_simulation_exits_0(cli_runs: Any) -> None:
    run = cli_runs.get("success")
    assert run.returncode == 0, run.explain()
    assert run.result()["outcome"] == "succeeded", run.explain()


def test_failing_build_exits_1_with_its_status(cli_runs: Any) -> None:
    run = cli_runs.get("failure")  # the build command ends with `exit 3`
    assert run.returncode == 1, run.explain()
    assert run.result()["outcome"] == "failed", run.explain()
    assert run.result()["exit_code"] == 3, run.explain()


@pytest.mark.parametrize("signal_name", ["sigint", "sigterm"])
def test_signal_stops_simulate_with_exit_130_within_seconds(
    cli_runs: Any, signal_name: str
) -> None:
    run = cli_runs.get(signal_name)
    assert run.returncode == 130, run.explain()
    assert run.signal_to_exit_s is not None and run.signal_to_exit_s < 20, run.explain()


@pytest.mark.parametrize("signal_name", ["sigint", "sigterm"])
def test_running_build_carries_the_repo_label_on_container_and_volumes(
    cli_runs: Any, signal_name: str
) -> None:
    # What the leftover checks below look for really is there while a build runs.
    run = cli_runs.get(signal_name)
    assert len(run.seen_containers) == 1, run.seen_containers
    assert len(run.seen_volumes) >= 1, run.seen_volumes


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_container_survives(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.containers == [], run.explain()


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_volume_survives(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.volumes == [], run.explain()


@pytest.mark.parametrize("ending", ENDINGS)
def test_repo_is_byte_for_byte_unchanged(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert run.before, "the test repo has files"
    changed = sorted(
        path
        for path in run.before.keys() | run.after.keys()
        if run.before.get(path) != run.after.get(path)
    )
    assert not changed, f"changed in the repo: {changed}"


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_venv_appears_in_repo(cli_runs: Any, ending: str) -> None:
    run = cli_runs.get(ending)
    assert ".venv" not in run.after

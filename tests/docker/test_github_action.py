"""The GitHub Action (action.yml), run step by step as GitHub's runner runs a composite action.

The action installs render-sim from its own checkout (a copy of this one, so what is tested is
the working tree), runs the command with `--json` into a report, and turns it into outputs, a
job summary and annotations. `check` runs against a local package index (no Docker); one
`simulate` of a small failing repo uses the real engine.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from simulator.report.schemas import schema_for
from tests.checkout_copy import copy_checkout
from tests.github_runner import ActionRun, run_action
from tests.unit.index_fixture import CP313, LocalIndex

pytestmark = pytest.mark.network  # the action's install step reads PyPI

BLUEPRINT = """\
services:
  - type: web
    name: {name}
    runtime: python
    buildCommand: {build}
    startCommand: python main.py
"""
NOT_FOUND = "ERROR: No matching distribution found for rsim-nothing==9.9"


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("action") / "render-sim")


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job's RUNNER_TEMP: the runs of this module share it, as steps of one job do."""
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """demo 2.9.2 pins demo-core 2.23.4, which has wheels for CPython 3.13 only."""
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True)
    with index.serve() as url:
        yield url


def write_repo(root: Path, name: str, build: str, requirements: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "render.yaml").write_text(BLUEPRINT.format(name=name, build=json.dumps(build)))
    (root / "requirements.txt").write_text(requirements)
    (root / "main.py").write_text("print('hello')\n")
    return root


@pytest.fixture(scope="module")
def check_run(
    action_path: Path, runner_temp: Path, index_url: str, tmp_path_factory: pytest.TempPathFactory
) -> ActionRun:
    workspace = write_repo(
        tmp_path_factory.mktemp("check") / "repo",
        "shop",
        "pip install -r requirements.txt",
        "demo==2.9.2\n",
    )
    return run_action(
        action_path,
        {
            "command": "check",
            "created": "2026-03-01",  # Render's default Python 3.14.3: demo-core has no wheel
            "args": f'--index-url "{index_url}"',
            "junit": "reports/render-sim.xml",
        },
        workspace=workspace,
        runner_temp=runner_temp,
    )


@pytest.fixture(scope="module")
def simulate_run(
    action_path: Path,
    runner_temp: Path,
    built_images: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> ActionRun:
    workspace = write_repo(tmp_path_factory.mktemp("simulate") / "repo", "web", "true")
    failing = f"echo installing; echo '{NOT_FOUND}' >&2; exit 1"
    return run_action(
        action_path,
        {
            "command": "simulate",
            "python": "3.14.3",
            # quoted as in a shell: the build command is one argument
            "args": f'--no-pull --no-cache --offline --build-command "{failing}"',
        },
        workspace=workspace,
        runner_temp=runner_temp,
    )


def report_of(run: ActionRun) -> dict[str, Any]:
    path = Path(run.outputs["report"])
    assert path.is_file(), run.explain()
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# -- check (no Docker) ----------------------------------------------------------------------------


def test_check_sets_exit_code_outcome_and_class_outputs(check_run: ActionRun) -> None:
    assert check_run.outputs["exit-code"] == "1", check_run.explain()
    assert check_run.outputs["outcome"] == "failed"
    assert check_run.outputs["class"] == "source-build"


def test_a_failed_check_fails_the_step(check_run: ActionRun) -> None:
    assert [step.returncode for step in check_run.steps] == [0, 1], check_run.explain()


def test_check_report_is_the_commands_json_and_meets_its_schema(check_run: ActionRun) -> None:
    report = report_of(check_run)
    assert report["command"] == "check"
    Draft202012Validator(schema_for("check")).validate(report)


def test_check_summary_names_the_service_and_the_source_build(check_run: ActionRun) -> None:
    assert "## render-sim check" in check_run.summary, check_run.explain()
    row = next(line for line in check_run.summary.splitlines() if line.startswith("| shop "))
    assert "demo-core 2.23.4" in row and "❌" in row


def test_check_annotates_the_requirements_file_once(check_run: ActionRun) -> None:
    errors = check_run.annotations()
    assert len(errors) == 1, check_run.explain()
    assert "file=requirements.txt" in errors[0] and "demo-core 2.23.4" in errors[0]


def test_check_writes_a_junit_report_with_the_failed_service(check_run: ActionRun) -> None:
    suite = ET.parse(check_run.workspace / "reports" / "render-sim.xml").getroot()[0]
    (case,) = suite.findall("testcase")
    assert case.get("name") == "shop" and case.find("failure") is not None
    assert suite.get("failures") == "1"


def test_install_puts_only_render_sim_on_the_path_of_later_steps(check_run: ActionRun) -> None:
    (added,) = check_run.path_added
    assert sorted(p.name for p in Path(added).iterdir()) == ["render-sim"]


def test_a_second_use_in_the_job_reuses_the_installed_render_sim(
    check_run: ActionRun, action_path: Path, runner_temp: Path, tmp_path: Path
) -> None:
    workspace = write_repo(tmp_path / "repo", "other", "pip install -r requirements.txt")
    run = run_action(action_path, {"command": "nope"}, workspace=workspace, runner_temp=runner_temp)
    assert "pip" not in run.steps[0].stdout + run.steps[0].stderr
    assert run.steps[0].outputs["home"] == check_run.steps[0].outputs["home"]


def test_an_unknown_command_is_an_error_outcome(
    check_run: ActionRun, action_path: Path, runner_temp: Path, tmp_path: Path
) -> None:
    workspace = write_repo(tmp_path / "repo", "other", "true")
    run = run_action(
        action_path, {"command": "deploy"}, workspace=workspace, runner_temp=runner_temp
    )
    assert run.outputs["exit-code"] == "2" and run.outputs["outcome"] == "error"
    assert any("simulate, check or scenarios" in line for line in run.annotations())


def test_scenarios_without_a_scenarios_folder_is_an_error_outcome(
    check_run: ActionRun, action_path: Path, runner_temp: Path, tmp_path: Path
) -> None:
    workspace = write_repo(tmp_path / "repo", "other", "true")
    run = run_action(
        action_path,
        {"command": "scenarios", "junit": "scenarios.xml"},
        workspace=workspace,
        runner_temp=runner_temp,
    )
    assert run.outputs["exit-code"] == "2", run.explain()
    assert (run.outputs["outcome"], run.outputs["class"]) == ("error", "ScenarioError")
    assert report_of(run)["command"] == "scenarios run"


# -- simulate (the real engine) -------------------------------------------------------------------


@pytest.mark.docker
def test_simulate_of_a_failing_build_sets_its_outcome_and_class(simulate_run: ActionRun) -> None:
    assert simulate_run.outputs["exit-code"] == "1", simulate_run.explain()
    assert simulate_run.outputs["outcome"] == "failed"
    assert simulate_run.outputs["class"] == "no-matching-distribution"


@pytest.mark.docker
def test_simulate_summary_has_the_service_row(simulate_run: ActionRun) -> None:
    row = next(line for line in simulate_run.summary.splitlines() if line.startswith("| web "))
    assert "no-matching-distribution" in row and "3.14.3" in row


@pytest.mark.docker
def test_simulate_annotates_the_blueprint(simulate_run: ActionRun) -> None:
    errors = simulate_run.annotations()
    assert len(errors) == 1, simulate_run.explain()
    assert "file=render.yaml" in errors[0] and "web no-matching-distribution" in errors[0]


@pytest.mark.docker
def test_simulate_report_meets_its_schema(simulate_run: ActionRun) -> None:
    Draft202012Validator(schema_for("simulate")).validate(report_of(simulate_run))


@pytest.mark.docker
def test_the_build_log_is_in_the_step_log(simulate_run: ActionRun) -> None:
    assert NOT_FOUND in simulate_run.steps[1].stderr, simulate_run.explain()

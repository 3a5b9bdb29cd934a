"""What the GitHub Action reports of a run (its outputs, JUnit), check's annotations and summary,
and the cap on error annotations GitHub keeps per step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.report import github_actions
from simulator.report.action_outputs import junit_tree, outputs
from simulator.report.check_view import check_annotations, check_summary_markdown


def failed_build(
    service: str, outcome: str = "failed", kind: str = "resolver-conflict"
) -> dict[str, Any]:
    return {
        "service": service,
        "outcome": outcome,
        "duration_s": 2.5,
        "last_error_lines": ["ERROR: ResolutionImpossible"],
        "diagnosis": {"class": kind, "headline": f"{service} cannot resolve", "fixes": []},
    }


def check_service(name: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "ok": True,
        "python": {"version": "3.14.3", "source": "default"},
        "inputs": ["requirements.txt"],
        "source_builds": [],
        "problems": [],
        "lint": [],
        "fixes": [],
    }
    return {**base, **values}


COMPILED = {"name": "demo-core", "version": "2.23.4", "sdist": {"contents": "compiled"}}
PURE = {"name": "tiny", "version": "1.0", "sdist": {"contents": "pure"}}


# -- outputs ----------------------------------------------------------------------------------


def test_simulate_outcome_and_class_are_the_first_failed_services() -> None:
    report = {
        "command": "simulate",
        "results": [
            {"service": "ok", "outcome": "succeeded"},
            failed_build("web", "out-of-memory", "out-of-memory"),
        ],
    }
    assert outputs(report) == {"outcome": "out-of-memory", "class": "out-of-memory"}


def test_a_simulate_where_every_build_passed_succeeded() -> None:
    report = {"command": "simulate", "results": [{"service": "ok", "outcome": "succeeded"}]}
    assert outputs(report) == {"outcome": "succeeded", "class": ""}


@pytest.mark.parametrize(
    ("service", "kind"),
    [
        (check_service("a", ok=False, source_builds=[PURE, COMPILED]), "source-build"),
        (check_service("a", ok=False, problems=[{"message": "no release"}]), "install-failure"),
        (
            check_service("a", ok=False, lint=[{"severity": "error", "where": "build command"}]),
            "build-command",
        ),
    ],
)
def test_check_class_says_what_fails_first(service: dict[str, Any], kind: str) -> None:
    assert outputs({"command": "check", "services": [service]}) == {
        "outcome": "failed",
        "class": kind,
    }


def test_a_passed_check_has_no_class() -> None:
    report = {"command": "check", "services": [check_service("a", source_builds=[PURE])]}
    assert outputs(report) == {"outcome": "passed", "class": ""}


def test_scenarios_class_is_what_the_first_missed_scenario_got() -> None:
    report = {
        "command": "scenarios run",
        "scenarios": [
            {"name": "a", "passed": True, "got": {"class": "x"}},
            {"name": "b", "passed": False, "got": {"class": "no-matching-distribution"}},
        ],
    }
    assert outputs(report) == {"outcome": "failed", "class": "no-matching-distribution"}


def test_an_error_report_is_an_error_outcome_with_its_kind() -> None:
    report = {"command": "simulate", "error": {"code": 4, "kind": "DockerUnavailableError"}}
    assert outputs(report) == {"outcome": "error", "class": "DockerUnavailableError"}


def test_no_report_is_an_error_outcome() -> None:
    assert outputs(None) == {"outcome": "error", "class": ""}


def test_an_output_value_is_one_line() -> None:
    report = {"command": "simulate", "results": [failed_build("web", kind="bad\nclass=injected")]}
    assert outputs(report)["class"] == "badclass=injected"


def test_the_action_entry_point_prints_outputs_and_writes_junit(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"command": "simulate", "results": [failed_build("web")]}))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli.github_action",
            str(report),
            "--junit",
            str(tmp_path / "j" / "r.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.splitlines() == ["outcome=failed", "class=resolver-conflict"]
    assert "web cannot resolve" in (tmp_path / "j" / "r.xml").read_text()


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_has_a_case_per_service_and_a_failure_per_failed_one() -> None:
    report = {
        "command": "simulate",
        "results": [{"service": "ok", "outcome": "succeeded"}, failed_build("web")],
    }
    suite = junit_tree(report).getroot()[0]
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    assert cases["ok"].find("failure") is None
    failure = cases["web"].find("failure")
    assert failure is not None and failure.get("message") == "web cannot resolve"


def test_junit_of_a_failed_check_says_what_would_be_compiled() -> None:
    report = {
        "command": "check",
        "services": [check_service("api", ok=False, source_builds=[COMPILED])],
    }
    failure = junit_tree(report).getroot()[0].find("testcase/failure")
    assert failure is not None and "demo-core 2.23.4" in str(failure.get("message"))


def test_junit_of_an_error_is_one_failed_case() -> None:
    report = {"command": "check", "error": {"message": "render.yaml:3: bad", "hint": "fix it"}}
    failure = junit_tree(report).getroot()[0].find("testcase/failure")
    assert failure is not None and "render.yaml:3: bad" in str(failure.get("message"))


# -- check under GitHub Actions ---------------------------------------------------------------


def test_check_annotates_a_failing_service_on_its_requirements_file(tmp_path: Path) -> None:
    report = {
        "repo": str(tmp_path),
        "services": [
            check_service("ok"),
            check_service(
                "api", ok=False, source_builds=[COMPILED], fixes=[{"title": "Use Python 3.13"}]
            ),
        ],
    }
    (line,) = check_annotations(report, workspace=str(tmp_path))
    assert line.startswith("::error file=requirements.txt,title=render-sim check%3A api::")
    assert "demo-core 2.23.4" in line and "Fix: Use Python 3.13" in line


def test_check_summary_has_a_row_per_service() -> None:
    report = {
        "services": [
            check_service("ok"),
            check_service("api", ok=False, problems=[{"message": "no <b>release</b>"}]),
        ]
    }
    markdown = check_summary_markdown(report)
    assert "| ok | 3.14.3 | ✅ ok |" in markdown
    assert "install fails: no &lt;b&gt;release&lt;/b&gt;" in markdown


def test_at_most_ten_error_annotations_the_last_saying_how_many_more() -> None:
    lines = [github_actions.error_annotation(f"t{n}", "m") for n in range(14)]
    kept = github_actions.capped(lines)
    assert len(kept) == github_actions.MAX_ERRORS == 10
    assert kept[:9] == lines[:9]
    assert "5 more failures are not annotated" in kept[9]


def test_ten_error_annotations_are_kept_as_they_are() -> None:
    lines = [github_actions.error_annotation(f"t{n}", "m") for n in range(10)]
    assert github_actions.capped(lines) == lines

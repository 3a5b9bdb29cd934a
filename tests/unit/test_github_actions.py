"""GitHub Actions output: escaping, `::error` annotations and the job summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.build.simulation import BuildResult
from simulator.diagnose.diagnosis import Diagnosis, Fix, PackageRef, SetEnv
from simulator.report import github_actions
from simulator.report.github_actions import (
    active,
    annotate_build,
    annotate_scenarios,
    error_annotation,
    escape_data,
    escape_property,
    group_end,
    group_start,
    step_summary_markdown,
    stop_commands,
    write_step_summary,
)

HEADLINE = "pydantic-core 2.23.4 has no wheel for Python 3.14.3, so pip compiled it from source"
FIX = "Use Python 3.13: pydantic-core 2.23.4 has wheels for it"


def result(service: str = "api", outcome: str = "failed", diagnosed: bool = True) -> dict[str, Any]:
    diagnosis = Diagnosis(
        failure_class="rust-readonly-cargo",
        root_cause="Python too new for the package's wheels",
        headline=HEADLINE,
        explanation="...",
        package=PackageRef("pydantic-core", "2.23.4"),
        fixes=(
            Fix(FIX, "...", SetEnv("PYTHON_VERSION", "3.13.4"), checked=True),
            Fix("Upgrade pydantic to 2.12.0 or newer", "..."),
        ),
    )
    return BuildResult(
        service=service,
        outcome=outcome,
        exit_code=0 if outcome == "succeeded" else 1,
        duration_s=42.0,
        peak_memory_bytes=None,
        log_path=Path("/tmp/build.log"),
        image="render-sim/python:3.14.3",
        python="3.14.3",
        image_python="3.14.3",
        event="Build failed" if outcome != "succeeded" else "Build successful",
        last_error_lines=["error: failed to create directory `/usr/local/cargo/registry`"],
        diagnosis=diagnosis if diagnosed and outcome != "succeeded" else None,
    ).to_dict()


def simulate_json(*results: dict[str, Any]) -> dict[str, Any]:
    return {
        "plan": {"repo": "/work/app", "blueprint": "/work/app/render.yaml", "services": []},
        "results": list(results),
    }


# -- detection and escaping -------------------------------------------------------------------


def test_active_only_when_github_actions_is_true() -> None:
    assert active({"GITHUB_ACTIONS": "true"})
    assert not active({})
    assert not active({"GITHUB_ACTIONS": "false"})
    assert not active({"CI": "true"})


def test_escape_data_escapes_percent_and_line_ends() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"


def test_escape_data_keeps_colons_and_commas() -> None:
    assert escape_data("a: b, c") == "a: b, c"


def test_escape_property_also_escapes_colons_and_commas() -> None:
    assert escape_property("render-sim: api, web\n%") == "render-sim%3A api%2C web%0A%25"


def test_percent_is_escaped_first_so_escapes_are_not_doubled() -> None:
    assert escape_data("%0A") == "%250A"


# -- annotations ------------------------------------------------------------------------------


def test_error_annotation_has_file_line_and_title() -> None:
    line = error_annotation("render-sim: api", "it failed\nFix: pin", file="render.yaml", line=3)
    assert line == "::error file=render.yaml,line=3,title=render-sim%3A api::it failed%0AFix: pin"


def test_error_annotation_without_file_has_only_a_title() -> None:
    assert error_annotation("t", "m") == "::error title=t::m"


def test_error_annotation_ignores_a_line_without_a_file() -> None:
    assert error_annotation("t", "m", line=4) == "::error title=t::m"


def test_annotate_build_gives_one_line_per_failed_service() -> None:
    lines = annotate_build(
        simulate_json(result("api"), result("web", "succeeded"), result("worker"))
    )
    assert len(lines) == 2
    assert lines[0].startswith(
        "::error file=render.yaml,title=render-sim%3A api rust-readonly-cargo::"
    )
    assert "render-sim%3A worker" in lines[1]


def test_annotation_message_is_the_headline_and_the_first_fix() -> None:
    (line,) = annotate_build(simulate_json(result()))
    assert line.endswith(f"::{HEADLINE}%0AFix: {FIX}")


def test_annotate_build_accepts_a_single_result_without_a_file() -> None:
    (line,) = annotate_build(result())
    assert line.startswith("::error title=render-sim%3A api rust-readonly-cargo::")


def test_annotation_points_at_the_blueprint_relative_to_the_workspace() -> None:
    data = simulate_json(result())
    data["plan"] = {"repo": "/work/app/backend", "blueprint": "/work/app/backend/render.yaml"}
    (line,) = annotate_build(data, workspace="/work/app")
    assert line.startswith("::error file=backend/render.yaml,")


def test_undiagnosed_failure_is_annotated_with_its_outcome_and_event() -> None:
    failed = result("api", "timeout", diagnosed=False)
    (line,) = annotate_build(simulate_json(failed))
    assert "title=render-sim%3A api timeout::Build failed" in line


def test_successful_builds_give_no_annotation() -> None:
    assert annotate_build(simulate_json(result("api", "succeeded"))) == []


def test_a_message_cannot_start_another_workflow_command() -> None:
    hostile = result()
    hostile["diagnosis"]["headline"] = "x\n::add-mask::secret\r\n::error::fake"
    (line,) = annotate_build(hostile)
    assert "\n" not in line and "\r" not in line  # so `::add-mask::` cannot start a line
    assert line.startswith("::error ") and "%0A::add-mask::secret%0D%0A::error::fake" in line


def test_group_and_stop_commands_lines() -> None:
    assert group_start("Build api") == "::group::Build api"
    assert group_end() == "::endgroup::"
    start, end = stop_commands("t0k3n")
    assert (start, end) == ("::stop-commands::t0k3n", "::t0k3n::")
    assert stop_commands()[0] != stop_commands()[0]


# -- step summary -----------------------------------------------------------------------------


def test_summary_has_a_row_per_service_with_class_package_and_top_fix() -> None:
    markdown = step_summary_markdown([result("api"), result("web", "succeeded")])
    assert "1 of 2 service build(s) succeeded" in markdown
    assert "| Service | Python | Outcome | Class | Package | Top fix |" in markdown
    assert f"| api | 3.14.3 | ❌ failed | rust-readonly-cargo | pydantic-core 2.23.4 | {FIX} |" in (
        markdown
    )
    assert "| web | 3.14.3 | ✅ succeeded |" in markdown


def test_summary_lists_scenarios_with_expected_got_passed_and_duration() -> None:
    markdown = step_summary_markdown(
        [],
        [
            {
                "name": "fastapi-py314",
                "expected": "rust-readonly-cargo",
                "got": "rust-readonly-cargo",
                "passed": True,
                "duration_s": 61.25,
            },
            {"name": "old-pin", "expected": "succeeded", "got": "failed", "passed": False},
        ],
    )
    assert "1 of 2 scenario(s) met their expectation." in markdown
    assert "| fastapi-py314 | rust-readonly-cargo | rust-readonly-cargo | ✅ | 61.2 s |" in markdown
    assert "| old-pin | succeeded | failed | ❌ |" in markdown
    assert "| Service |" not in markdown


def test_summary_cells_cannot_break_the_table_or_inject_html() -> None:
    hostile = result()
    hostile["diagnosis"]["fixes"][0]["title"] = "a | b\n<script>alert(1)</script> `x`"
    markdown = step_summary_markdown([hostile])
    row = next(line for line in markdown.splitlines() if line.startswith("| api "))
    assert "a \\| b &lt;script&gt;alert(1)&lt;/script&gt; \\`x\\`" in row
    assert row.count(" | ") == 5


def test_long_cells_are_cut() -> None:
    hostile = result()
    hostile["diagnosis"]["fixes"][0]["title"] = "x" * 1000
    assert "x" * 1000 not in step_summary_markdown([hostile])


# -- writing the summary ---------------------------------------------------------------------


def test_summary_is_appended_to_the_step_summary_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert write_step_summary("## render-sim", env)
    assert write_step_summary("second\n", env)
    assert summary.read_text(encoding="utf-8") == "# earlier step\n## render-sim\nsecond\n"


def test_no_summary_is_written_without_the_variable(tmp_path: Path) -> None:
    assert not write_step_summary("## render-sim", {})
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_summary_file_is_reported_not_raised(tmp_path: Path) -> None:
    assert not write_step_summary("x", {"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "file")})


# -- scenarios --------------------------------------------------------------------------------


def scenario(name: str, passed: bool, **extra: Any) -> dict[str, Any]:
    """The shape of `ScenarioResult.to_dict()` (the `scenarios` of `scenarios run --json`)."""
    return {
        "name": name,
        "path": f"/work/app/scenarios/{name}",
        "status": "passed" if passed else "failed",
        "passed": passed,
        "expected": {"outcome": "failed", "class": "rust-readonly-cargo", "package": None},
        "got": {"outcome": "failed", "class": "rust-readonly-cargo" if passed else "unknown"},
        "mismatches": [] if passed else ["class: expected rust-readonly-cargo, got unknown"],
        "error": None,
        "duration_s": 61.25,
        **extra,
    }


def test_summary_shows_scenario_expectations_as_outcome_and_class() -> None:
    markdown = step_summary_markdown([], [scenario("py314", True), scenario("old-pin", False)])
    assert "1 of 2 scenario(s) met their expectation." in markdown
    assert (
        "| py314 | failed/rust-readonly-cargo | failed/rust-readonly-cargo | ✅ | 61.2 s |"
        in markdown
    )
    assert "| old-pin | failed/rust-readonly-cargo | failed/unknown | ❌ | 61.2 s |" in markdown


def test_summary_marks_a_scenario_that_could_not_run() -> None:
    broken = scenario("no-engine", False, status="error", got={"outcome": None})
    assert "| no-engine | failed/rust-readonly-cargo | - | ⚠️ error |" in step_summary_markdown(
        [], [broken]
    )


def test_scenarios_that_missed_are_annotated_on_their_manifest() -> None:
    lines = annotate_scenarios(
        [scenario("py314", True), scenario("old-pin", False)], workspace="/work/app"
    )
    assert lines == [
        "::error file=scenarios/old-pin/scenario.yaml,title=render-sim scenario%3A old-pin::"
        "class: expected rust-readonly-cargo, got unknown"
    ]


def test_a_scenario_error_is_the_annotation_message() -> None:
    broken = scenario("x", False, mismatches=[], error="Docker engine unavailable")
    (line,) = annotate_scenarios([broken])
    assert line == "::error title=render-sim scenario%3A x::Docker engine unavailable"


def test_publish_build_annotates_and_summarises_only_under_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary_file = tmp_path / "summary.md"
    result = {
        "service": "web",
        "outcome": "failed",
        "diagnosis": {
            "class": "rust-readonly-cargo",
            "headline": "cargo cannot write",
            "fixes": [],
        },
    }
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    github_actions.publish_build({"plan": {}, "results": [result]})
    assert capsys.readouterr().out == ""
    assert not summary_file.exists()

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    github_actions.publish_build({"plan": {}, "results": [result]}, json_out=True)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays pure JSON
    assert captured.err.startswith("::error ") and "rust-readonly-cargo" in captured.err
    assert "rust-readonly-cargo" in summary_file.read_text()


def test_publish_scenarios_annotates_the_missed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    github_actions.publish_scenarios(
        [
            {"name": "ok", "passed": True},
            {"name": "bad", "passed": False, "mismatches": ["class: expected a, got b"]},
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "bad" in out[0] and "expected a, got b" in out[0]
    assert "bad" in (tmp_path / "summary.md").read_text()

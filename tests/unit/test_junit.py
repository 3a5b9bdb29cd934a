"""JUnit XML of scenario results: parses back, counts right, carries only masked text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from junitparser import JUnitXml

from simulator.build.buildlog import MASK, BuildLog
from simulator.build.simulation import BuildResult
from simulator.diagnose.diagnosis import Diagnosis
from simulator.plan.models import Options
from simulator.report.junit import LOG_TAIL_LINES, junit_tree, write_junit
from simulator.scenarios.manifest import Expectation, Scenario
from simulator.scenarios.run import ScenarioResult

SECRET = "s3cr3t-token-value"
MANIFEST_ENV_VALUE = "manifest-env-value-42"


def scenario(name: str, network: str = "none", outcome: str = "failed") -> Scenario:
    options = Options(env={"GREETING": MANIFEST_ENV_VALUE})
    return Scenario(name, Path(f"/scenarios/{name}"), "d", network, options, Expectation(outcome))


def build(log_text: str, outcome: str = "failed", exit_code: int = 1) -> BuildResult:
    return BuildResult(
        service="app",
        outcome=outcome,
        exit_code=exit_code,
        duration_s=1.0,
        peak_memory_bytes=None,
        log_path=Path("/logs/app.log"),
        image="img",
        python="3.14.3",
        image_python="3.14.3",
        event="",
        last_error_lines=["error: maturin failed"],
        log_text=log_text,
        diagnosis=Diagnosis("rust-readonly-cargo", "cause", "headline", "explanation"),
    )


def three_results() -> list[ScenarioResult]:
    return [
        ScenarioResult(scenario("ok"), True, [], build("all good"), [], 1.5),
        ScenarioResult(
            scenario("missed", network="internet"),
            False,
            ["outcome: expected failed, got succeeded", "exit_code: expected 1, got 0"],
            build("it built", outcome="succeeded", exit_code=0),
            [],
            2.25,
        ),
        ScenarioResult(
            scenario("broken"), False, [], None, [], 0.5, "no image for Python 3.12 (fix: ...)"
        ),
    ]


def parse(results: list[ScenarioResult], **kwargs: object) -> ET.Element:
    text = ET.tostring(junit_tree(results, **kwargs).getroot(), encoding="unicode")  # type: ignore[arg-type]
    return ET.fromstring(text)


def test_counts_and_test_cases() -> None:
    root = parse(three_results(), duration_s=3.0)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    for element in (root, suite):
        assert element.get("tests") == "3"
        assert element.get("failures") == "1"
        assert element.get("errors") == "1"
        assert element.get("skipped") == "0"
        assert element.get("time") == "3.000"
    assert suite.get("name") and suite.get("timestamp")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("time")) for c in cases] == [
        ("scenarios.hermetic", "ok", "1.500"),
        ("scenarios.online", "missed", "2.250"),
        ("scenarios.hermetic", "broken", "0.500"),
    ]


def test_a_missed_expectation_is_a_failure_with_every_mismatch() -> None:
    cases = parse(three_results()).findall("testsuite/testcase")
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    failure = cases[1].find("failure")
    assert failure is not None and cases[1].find("error") is None
    assert failure.get("message") == "outcome: expected failed, got succeeded"
    assert failure.get("type")
    assert "exit_code: expected 1, got 0" in (failure.text or "")
    assert "/logs/app.log" in (failure.text or "")


def test_a_scenario_that_could_not_run_is_an_error() -> None:
    case = parse(three_results()).findall("testsuite/testcase")[2]
    error = case.find("error")
    assert error is not None and case.find("failure") is None
    assert error.get("message") == "no image for Python 3.12 (fix: ...)"
    assert case.find("system-out") is None  # no build, no log


def test_system_out_holds_the_tail_of_the_log() -> None:
    lines = [f"line {i}" for i in range(LOG_TAIL_LINES + 50)]
    results = [ScenarioResult(scenario("long"), True, [], build("\n".join(lines)), [], 1.0)]
    out = parse(results).find("testsuite/testcase/system-out")
    assert out is not None and out.text is not None
    assert f"line {LOG_TAIL_LINES + 49}" in out.text
    assert "line 49\n" not in out.text and "line 50" in out.text
    assert "50 earlier lines" in out.text


def test_control_characters_and_colours_do_not_break_the_xml(tmp_path: Path) -> None:
    log = "\x1b[31merror\x1b[0m: bad byte \x00 and \x08 backspace; ünïcode ✓"
    results = [ScenarioResult(scenario("noisy"), True, [], build(log), [], 1.0)]
    path = tmp_path / "reports" / "junit.xml"
    write_junit(path, results, timestamp=datetime(2026, 3, 1, 12, 0, 0))
    assert path.read_bytes().startswith(b"<?xml")
    root = ET.parse(path).getroot()
    assert root.find("testsuite").get("timestamp") == "2026-03-01T12:00:00"  # type: ignore[union-attr]
    out = root.find("testsuite/testcase/system-out")
    assert out is not None
    assert out.text == "error: bad byte  and  backspace; ünïcode ✓"


def test_only_masked_text_is_written(tmp_path: Path) -> None:
    # The runner's log comes from BuildLog, which masks secret values as it writes.
    with BuildLog(tmp_path / "build.log", secrets=[SECRET]) as log:
        log.output(f"using token {SECRET}")
    result = build(log.text())
    results = [ScenarioResult(scenario("secret"), False, ["outcome: x"], result, [], 1.0)]
    path = tmp_path / "junit.xml"
    write_junit(path, results)
    text = path.read_text(encoding="utf-8")
    assert f"using token {MASK}" in text
    assert SECRET not in text
    assert MANIFEST_ENV_VALUE not in text  # the build's environment is never written


def test_a_ci_reporter_reads_the_file(tmp_path: Path) -> None:
    """junitparser (behind GitHub's publish-unit-test-result action) reads what we write."""
    path = tmp_path / "junit.xml"
    write_junit(path, three_results(), duration_s=4.25)
    report = JUnitXml.fromfile(str(path))
    (suite,) = list(report)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 1, 1, 0)
    assert suite.time == 4.25
    outcomes = {case.name: [type(entry).__name__ for entry in case.result] for case in suite}
    assert outcomes == {"ok": [], "missed": ["Failure"], "broken": ["Error"]}
    (missed,) = [case for case in suite if case.name == "missed"]
    assert missed.result[0].message == "outcome: expected failed, got succeeded"
    assert "it built" in (missed.system_out or "")

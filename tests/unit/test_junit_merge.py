"""Merging the shards' JUnit reports: every case once, one verdict, incomplete sets refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from junitparser import JUnitXml

from simulator.build.simulation import BuildResult
from simulator.errors import InputError, ScenarioError
from simulator.plan.models import Options
from simulator.report.junit import write_junit
from simulator.report.junit_merge import merge_junit, write_merged
from simulator.report.schemas import schema_for
from simulator.scenarios.manifest import Expectation, Scenario
from simulator.scenarios.run import ScenarioResult
from simulator.scenarios.shards import Shard, read_durations, shard_properties, split

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
SUITE = ["alpha", "bravo", "charlie", "delta", "echo"]


def result(
    name: str, status: str = "passed", engine: str = "a", image_s: float = 0.0
) -> ScenarioResult:
    scenario = Scenario(name, Path(f"/s/{name}"), "", "none", Options(), Expectation("succeeded"))
    build = BuildResult(
        service="app",
        outcome="succeeded" if status != "failed" else "failed",
        exit_code=0 if status != "failed" else 1,
        duration_s=1.0,
        peak_memory_bytes=None,
        log_path=Path(f"/logs/{name}.log"),
        image="img",
        python="3.14.3",
        image_python="3.14.3",
        event="",
        last_error_lines=[],
        log_text="log",
    )
    mismatches = ["outcome: expected succeeded, got failed"] if status == "failed" else []
    error = "no image (fix: ...)" if status == "error" else None
    return ScenarioResult(
        scenario,
        status == "passed",
        mismatches,
        None if error else build,
        [],
        2.0,
        error,
        engine=engine,
        image_s=image_s,
    )


def shard_reports(
    root: Path,
    total: int = 2,
    statuses: dict[str, str] | None = None,
    durations: dict[str, float] | None = None,
) -> list[Path]:
    """The JUnit file of each shard of SUITE, as `scenarios run --shard I/N --junit` writes."""
    paths = []
    for index, names in enumerate(split(SUITE, total, durations), start=1):
        path = root / f"shard-{index}.xml"
        results = [result(n, (statuses or {}).get(n, "passed"), f"engine-{index}") for n in names]
        properties = shard_properties(Shard(index, total), SUITE, durations)
        write_junit(path, results, duration_s=3.0, properties=properties)
        paths.append(path)
    return paths


def test_the_merge_holds_every_case_of_every_shard_once(tmp_path: Path) -> None:
    merged = merge_junit(shard_reports(tmp_path, total=3))
    assert [case.name for case in merged.cases] == SUITE
    assert merged.shards == 3
    assert merged.passed and merged.exit_code == 0
    assert {case.engine for case in merged.cases} == {"engine-1", "engine-2", "engine-3"}


def test_a_failure_or_error_in_any_shard_fails_the_merge(tmp_path: Path) -> None:
    statuses = {"bravo": "failed", "echo": "error"}
    merged = merge_junit(shard_reports(tmp_path, statuses=statuses))
    assert {case.name: case.status for case in merged.cases} == {
        "alpha": "passed",
        "bravo": "failed",
        "charlie": "passed",
        "delta": "passed",
        "echo": "error",
    }
    assert merged.exit_code == 1


def test_a_case_in_two_shards_is_an_error(tmp_path: Path) -> None:
    first, second = shard_reports(tmp_path)
    twice = tmp_path / "again.xml"
    write_junit(twice, [result("alpha")])
    with pytest.raises(ScenarioError, match="alpha .* is in .* and in .*: two shards ran it"):
        merge_junit([first, second, twice])


def test_a_missing_shard_is_an_error(tmp_path: Path) -> None:
    first, _second, third = shard_reports(tmp_path, total=3)
    with pytest.raises(ScenarioError, match="2/3 missing"):
        merge_junit([first, third])


def test_the_same_shard_twice_is_an_error(tmp_path: Path) -> None:
    first, _ = shard_reports(tmp_path)
    copy = tmp_path / "copy.xml"  # shard 1/2 again, of another run
    write_junit(copy, [result("zulu")], properties=shard_properties(Shard(1, 2), SUITE))
    with pytest.raises(ScenarioError, match="both shard 1/2"):
        merge_junit([first, copy])


def test_shards_that_split_the_suite_differently_are_an_error(tmp_path: Path) -> None:
    # shard 1 balanced by one durations file, shard 2 by none: "charlie" is in neither
    by_time = shard_reports(tmp_path / "a", durations={"alpha": 9.0, "bravo": 1.0})
    by_name = shard_reports(tmp_path / "b")
    with pytest.raises(ScenarioError, match="split the suite differently|two shards ran it"):
        merge_junit([by_time[0], by_name[1]])


def test_a_file_that_is_not_junit_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "log.xml").write_text("<html><body>502</body></html>")
    (tmp_path / "cut.xml").write_text("<testsuites><testsuite name='x'><testcase")
    for name in ("log.xml", "cut.xml", "absent.xml"):
        with pytest.raises(InputError) as caught:
            merge_junit([tmp_path / name])
        assert name in str(caught.value) and caught.value.hint


def test_the_merged_file_reads_back_with_a_ci_reporter(tmp_path: Path) -> None:
    merged = merge_junit(shard_reports(tmp_path, statuses={"delta": "failed"}))
    path = tmp_path / "out" / "all.xml"
    write_merged(path, merged)
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert (suite.tests, suite.failures, suite.errors) == (5, 1, 0)
    assert sorted(case.name for case in suite) == SUITE
    (delta,) = [case for case in suite if case.name == "delta"]
    assert delta.result[0].message == "outcome: expected succeeded, got failed"


def run_merge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "scenarios", "merge", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE},
        timeout=60,
    )


def test_merge_exits_0_only_when_every_case_passed(tmp_path: Path) -> None:
    green = run_merge(*map(str, shard_reports(tmp_path / "green")), "--json")
    red = run_merge(*map(str, shard_reports(tmp_path / "red", statuses={"echo": "failed"})))
    assert green.returncode == 0, green.stderr
    assert json.loads(green.stdout)["tests"] == len(SUITE)
    Draft202012Validator(schema_for("scenarios merge")).validate(json.loads(green.stdout))
    assert red.returncode == 1, red.stderr
    assert "echo" in red.stdout and "1 failed" in red.stdout


def test_merge_of_a_duplicated_case_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = shard_reports(tmp_path)[0]
    result = run_merge(str(path), str(path))
    assert result.returncode == 2
    assert "two shards ran it" in result.stderr and "Traceback" not in result.stderr


def test_merge_folds_case_times_without_image_waits_into_durations(tmp_path: Path) -> None:
    path = tmp_path / "one.xml"
    write_junit(path, [result("alpha", image_s=1.5), result("bravo")])  # each case took 2.0 s
    durations = tmp_path / "durations.json"
    assert run_merge(str(path), "--durations", str(durations)).returncode == 0
    assert read_durations(durations) == {"alpha": 0.5, "bravo": 2.0}

"""Regression scenarios without Docker: manifests, discovery, comparison, errors, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from simulator.build.simulation import BuildResult
from simulator.diagnose.diagnosis import Diagnosis, Fix, PackageRef, Pin, SetEnv
from simulator.errors import ConfigurationError, ScenarioError, UsageError
from simulator.plan.models import Options
from simulator.scenarios.discovery import discover
from simulator.scenarios.manifest import MANIFEST, Expectation, Scenario, load_scenario
from simulator.scenarios.run import (
    FIXTURES_NEEDED,
    ScenarioResult,
    compare,
    copy_scenario,
    run_scenarios,
)

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}

MINIMAL = "expect: {outcome: succeeded}\n"


def write(folder: Path, manifest: str, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(textwrap.dedent(manifest))
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)
    return folder


def load(tmp_path: Path, manifest: str) -> Scenario:
    return load_scenario(write(tmp_path / "case", manifest))


# -- reading a manifest -------------------------------------------------------------------------


def test_options_are_read_as_on_the_command_line(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        """
        description: pydantic on 3.13
        network: none
        options:
          service: app
          created: 2026-03-01
          python: 3.13
          build_command: pip install -r requirements.txt
          memory: 512m
          cpus: 1.5
          timeout: 30s
          idle_timeout: 5m
          env: {GREETING: hello, WORKERS: 4}
        expect: {outcome: failed}
        """,
    )
    options = scenario.options
    assert scenario.name == "case" and scenario.description == "pydantic on 3.13"
    assert options.service == "app"
    assert options.created == date(2026, 3, 1)
    assert options.python == "3.13"  # as written, not the float 3.13
    assert options.build_command == "pip install -r requirements.txt"
    assert options.memory_bytes == 512 * 1024**2
    assert options.cpus == 1.5
    assert options.timeout_s == 30
    assert options.idle_timeout_s == 300
    assert dict(options.env) == {"GREETING": "hello", "WORKERS": "4"}
    assert options.network == "none"
    assert options.build_cache is False


def test_tmp_size_makes_tmp_a_tmpfs_of_that_size(tmp_path: Path) -> None:
    scenario = load(tmp_path, "options: {tmp_size: 64m}\n" + MINIMAL)
    assert scenario.volume_options == {
        "/tmp": {"type": "tmpfs", "device": "tmpfs", "o": f"size={64 * 1024**2}"}
    }


def test_without_tmp_size_no_volume_is_given_options(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL).volume_options == {}


def test_network_defaults_to_the_internet_and_the_scenario_is_online(tmp_path: Path) -> None:
    scenario = load(tmp_path, MINIMAL)
    assert scenario.network == "internet"
    assert scenario.options.network == ""
    assert scenario.options.probe_network is True
    assert not scenario.hermetic and scenario.kind == "online"


def test_fixtures_scenario_reaches_nothing_until_given_the_fixture_network(
    tmp_path: Path,
) -> None:
    scenario = load(tmp_path, "network: fixtures\n" + MINIMAL)
    assert scenario.hermetic and scenario.kind == "hermetic"
    assert scenario.options.network == "none"
    assert scenario.options.probe_network is False


def test_expectation_is_read_whole(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        """
        expect:
          outcome: failed
          class: rust-readonly-cargo
          package: pydantic-core
          exit_code: 1
          log: ["Read-only file system (os error 30)", "maturin failed"]
          not_log: [Successfully installed]
          warnings: [runtime.txt]
          fix: {kind: set-env, key: PYTHON_VERSION, value: 3.13.4}
        """,
    )
    assert scenario.expect == Expectation(
        outcome="failed",
        failure_class="rust-readonly-cargo",
        package="pydantic-core",
        exit_code=1,
        log=("Read-only file system (os error 30)", "maturin failed"),
        not_log=("Successfully installed",),
        warnings=("runtime.txt",),
        fix={"kind": "set-env", "key": "PYTHON_VERSION", "value": "3.13.4"},
    )


BROKEN = {
    "bad-yaml": ("expect: [outcome\n  : x\n", "YAML syntax error", None),
    "unknown-top-key": ("expext: {outcome: failed}\n", "unknown key 'expext'", 1),
    "unknown-option": ("options:\n  memroy: 1g\n" + MINIMAL, "unknown key 'memroy'", 2),
    "unknown-expect-key": (
        "expect:\n  outcome: failed\n  clas: unknown\n",
        "unknown key 'clas'",
        3,
    ),
    "cpus-not-a-number": ("options: {cpus: many}\n" + MINIMAL, "must be a number", 1),
    "log-not-a-list": ("expect:\n  outcome: failed\n  log: maturin\n", "must be a list", 3),
    "exit-code-not-a-number": (
        "expect:\n  outcome: failed\n  exit_code: one\n",
        "must be a whole number",
        3,
    ),
    "options-not-a-mapping": ("options: [a, b]\n" + MINIMAL, "must be a mapping", 1),
    "env-value-a-list": ("options:\n  env: {A: [1]}\n" + MINIMAL, "must be a single value", 2),
    "unknown-outcome": ("expect: {outcome: fail}\n", "'fail' is not one of", 1),
    "unknown-class": (
        "expect: {outcome: failed, class: rust-readonly}\n",
        "'rust-readonly' is not a failure class",
        1,
    ),
    "unknown-network": ("network: offline\n" + MINIMAL, "'offline' is not one of", 1),
    "missing-expect": ("description: nothing expected\n", "no `expect`", None),
    "missing-outcome": ("expect:\n  class: unknown\n", "no `outcome`", 2),
    "class-for-success": (
        "expect:\n  outcome: succeeded\n  class: unknown\n",
        "`class` is given for outcome succeeded",
        3,
    ),
    "package-for-success": (
        "expect:\n  outcome: succeeded\n  package: numpy\n",
        "`package` is given for outcome succeeded",
        3,
    ),
    "exit-code-against-outcome": (
        "expect: {outcome: failed, exit_code: 0}\n",
        "exit code 0 cannot go with outcome failed",
        1,
    ),
    "bad-memory": ("options:\n  memory: lots\n" + MINIMAL, "memory 'lots' is not a size", 2),
    "bad-timeout": ("options:\n  timeout: soon\n" + MINIMAL, "timeout 'soon' is not a duration", 2),
    "bad-date": ("options:\n  created: March\n" + MINIMAL, "created 'March' is not a date", 2),
    "duplicate-key": (
        "expect: {outcome: failed}\nexpect: {outcome: succeeded}\n",
        "'expect' is given twice (first on line 1)",
        2,
    ),
    "empty-log-text": ("expect:\n  outcome: failed\n  log: ['']\n", "is empty", 3),
    "unknown-fix-kind": ("expect: {outcome: failed, fix: {kind: upgrade}}\n", "'upgrade'", 1),
    "empty-file": ("", "the manifest is empty", None),
    "not-a-mapping": ("- outcome: failed\n", "must be a mapping", 1),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_manifest_names_the_file_the_line_and_the_fix(tmp_path: Path, case: str) -> None:
    text, message, line = BROKEN[case]
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    error = caught.value
    manifest = str(tmp_path / "case" / MANIFEST)
    assert message in error.message, str(error)
    assert str(error).startswith(manifest), str(error)
    if line is not None:
        assert str(error).startswith(f"{manifest}:{line}:"), str(error)
    assert error.hint, f"{case}: no fix given"


def test_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, "options:\n  idle_timout: 5m\n" + MINIMAL)
    assert "did you mean 'idle_timeout'" in (caught.value.hint or "")


def test_scenario_errors_are_configuration_errors_with_exit_code_2() -> None:
    assert issubclass(ScenarioError, ConfigurationError)
    assert ScenarioError("x").return_code == 2


# -- finding scenarios --------------------------------------------------------------------------


def test_discover_finds_every_folder_with_a_manifest_sorted(tmp_path: Path) -> None:
    write(tmp_path / "b-second", MINIMAL)
    write(tmp_path / "a-first", MINIMAL)
    (tmp_path / "shared-files").mkdir()  # no manifest: not a scenario, and no error
    assert [s.name for s in discover([tmp_path])] == ["a-first", "b-second"]


def test_discover_selects_by_kind(tmp_path: Path) -> None:
    write(tmp_path / "online", MINIMAL)
    write(tmp_path / "sealed", "network: none\n" + MINIMAL)
    write(tmp_path / "fixtures", "network: fixtures\n" + MINIMAL)
    assert [s.name for s in discover([tmp_path], kind="hermetic")] == ["fixtures", "sealed"]
    assert [s.name for s in discover([tmp_path], kind="online")] == ["online"]
    with pytest.raises(UsageError):
        discover([tmp_path], kind="sealed")


def test_discover_selects_by_name_and_pattern_in_the_order_given(tmp_path: Path) -> None:
    for name in ("rust-a", "rust-b", "oom"):
        write(tmp_path / name, MINIMAL)
    assert [s.name for s in discover([tmp_path], ["oom", "rust-*", "rust-a"])] == [
        "oom",
        "rust-a",
        "rust-b",
    ]


def test_an_unknown_name_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path / "rust-readonly", MINIMAL)
    with pytest.raises(ScenarioError) as caught:
        discover([tmp_path], ["rust-readonli"])
    assert "no scenario named 'rust-readonli'" in caught.value.message
    assert "did you mean 'rust-readonly'" in (caught.value.hint or "")


def test_a_pattern_matching_nothing_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "oom", MINIMAL)
    with pytest.raises(ScenarioError, match="no scenario matches 'rust-\\*'"):
        discover([tmp_path], ["rust-*"])


def test_naming_a_folder_without_manifest_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "half-done").mkdir()
    with pytest.raises(ScenarioError) as caught:
        discover([tmp_path], ["half-done"])
    assert str(tmp_path / "half-done") in caught.value.message
    assert MANIFEST in caught.value.message


def test_one_name_in_two_directories_is_an_error_naming_both_files(tmp_path: Path) -> None:
    write(tmp_path / "one" / "same", MINIMAL)
    write(tmp_path / "two" / "same", MINIMAL)
    with pytest.raises(ScenarioError) as caught:
        discover([tmp_path / "one", tmp_path / "two"])
    assert str(tmp_path / "one" / "same" / MANIFEST) in caught.value.message
    assert str(tmp_path / "two" / "same" / MANIFEST) in caught.value.message


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="does not exist"):
        discover([tmp_path / "nowhere"])


def test_a_broken_manifest_stops_discovery(tmp_path: Path) -> None:
    write(tmp_path / "good", MINIMAL)
    write(tmp_path / "bad", "expect: {outcome: maybe}\n")
    with pytest.raises(ScenarioError, match="bad"):
        discover([tmp_path])
    assert [s.name for s in discover([tmp_path], ["good"])] == ["good"]


def test_the_copy_holds_every_file_but_the_manifest(tmp_path: Path) -> None:
    folder = write(tmp_path / "src" / "app", MINIMAL, requirements__txt="numpy\n")
    (folder / "pkg").mkdir()
    (folder / "pkg" / MANIFEST).write_text("not the manifest: a repo file of the same name")
    copy = copy_scenario(load_scenario(folder), tmp_path / "out")
    assert copy == tmp_path / "out" / "app"
    files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert files == ["pkg/scenario.yaml", "requirements.txt"]
    assert (folder / MANIFEST).is_file()


# -- comparing a build with the expectation -----------------------------------------------------


def build(outcome: str = "failed", exit_code: int | None = 1, **fields: object) -> BuildResult:
    values: dict[str, object] = {
        "service": "app",
        "outcome": outcome,
        "exit_code": exit_code,
        "duration_s": 1.0,
        "peak_memory_bytes": None,
        "log_path": Path("/logs/app.log"),
        "image": "render-sim/build:3.14.3-x",
        "python": "3.14.3",
        "image_python": "3.14.3",
        "event": "",
        "log_text": "Collecting pydantic\nRead-only file system (os error 30)\nmaturin failed\n",
    }
    values.update(fields)
    return BuildResult(**values)  # type: ignore[arg-type]


def diagnosis(
    failure_class: str = "rust-readonly-cargo",
    package: str | None = "pydantic-core",
    fixes: tuple[Fix, ...] = (),
    warnings: tuple[str, ...] = (),
) -> Diagnosis:
    return Diagnosis(
        failure_class=failure_class,
        root_cause="cause",
        headline="headline",
        explanation="explanation",
        package=PackageRef(package, "2.23.4") if package else None,
        fixes=fixes,
        warnings=warnings,
    )


def test_a_build_meeting_every_expectation_has_no_mismatch() -> None:
    fixes = (
        Fix("read the docs", "no action"),
        Fix("use 3.13", "wheels exist", SetEnv("PYTHON_VERSION", "3.13.4"), checked=True),
    )
    result = build(diagnosis=diagnosis(fixes=fixes, warnings=("runtime.txt is ignored",)))
    expect = Expectation(
        outcome="failed",
        failure_class="rust-readonly-cargo",
        package="Pydantic_Core",  # compared normalised
        exit_code=1,
        log=("Read-only file system (os error 30)", "maturin failed"),
        not_log=("Successfully installed",),
        warnings=("runtime.txt", "PYTHON_VERSION"),
        fix={"kind": "set-env", "key": "PYTHON_VERSION"},
    )
    plan_warnings = ["PYTHON_VERSION is set in runtime.txt, which Render ignores"]
    assert compare(expect, result, plan_warnings) == []


def test_each_mismatch_is_one_readable_line() -> None:
    result = build(
        outcome="failed",
        exit_code=2,
        diagnosis=diagnosis("no-wheel-python-too-new", "pydantic"),
        log_text="Successfully installed nothing\n",
    )
    expect = Expectation(
        outcome="out-of-memory",
        failure_class="rust-readonly-cargo",
        package="pydantic-core",
        exit_code=1,
        log=("maturin failed",),
        not_log=("Successfully installed",),
        warnings=("runtime.txt",),
    )
    assert compare(expect, result, []) == [
        "outcome: expected out-of-memory, got failed",
        "class: expected rust-readonly-cargo, got no-wheel-python-too-new",
        "package: expected pydantic-core, got pydantic",
        "exit_code: expected 1, got 2",
        "log: 'maturin failed' is not in the build log",
        "not_log: 'Successfully installed' is in the build log: 'Successfully installed nothing'",
        "warnings: no warning contains 'runtime.txt' (warnings: none)",
    ]


def test_a_build_without_diagnosis_misses_class_and_package() -> None:
    result = build(outcome="succeeded", exit_code=0)
    expect = Expectation(outcome="failed", failure_class="unknown", package="numpy")
    assert compare(expect, result, []) == [
        "outcome: expected failed, got succeeded",
        "class: expected unknown, got no diagnosis",
        "package: expected numpy, got none",
    ]


def test_fix_is_compared_with_the_first_fix_that_has_an_action() -> None:
    fixes = (
        Fix("pin", "upgrade", Pin("pydantic", ">=2.12.0")),
        Fix("python", "3.13", SetEnv("PYTHON_VERSION", "3.13.4")),
    )
    result = build(diagnosis=diagnosis(fixes=fixes))
    assert (
        compare(Expectation("failed", fix={"kind": "pin", "package": "pydantic"}), result, []) == []
    )
    assert compare(Expectation("failed", fix={"kind": "set-env"}), result, []) == [
        "fix: expected kind=set-env, got kind=pin, package=pydantic, specifier=>=2.12.0"
    ]


def test_expecting_a_fix_when_none_has_an_action_is_a_mismatch() -> None:
    result = build(diagnosis=diagnosis(fixes=(Fix("think", "no action"),)))
    assert compare(Expectation("failed", fix={"kind": "set-env"}), result, []) == [
        "fix: expected kind=set-env, got no fix with an action"
    ]


def test_result_status_and_json() -> None:
    scenario = Scenario("s", Path("/s"), "d", "none", Options(), Expectation("failed"))
    passed = ScenarioResult(scenario, True, [], build(diagnosis=diagnosis()), [], 2.0)
    failed = ScenarioResult(scenario, False, ["outcome: x"], build(), [], 2.0)
    errored = ScenarioResult(scenario, False, [], None, [], 0.1, "no image (fix: pass one)")
    assert [r.status for r in (passed, failed, errored)] == ["passed", "failed", "error"]
    data = json.loads(json.dumps(passed.to_dict()))
    assert data["got"] == {
        "outcome": "failed",
        "exit_code": 1,
        "class": "rust-readonly-cargo",
        "package": {"name": "pydantic-core", "version": "2.23.4"},
    }
    assert data["kind"] == "hermetic" and data["log_path"] == "/logs/app.log"
    assert errored.to_dict()["error"] == "no image (fix: pass one)"


# -- running without Docker: what fails before any container ------------------------------------


def test_fixtures_scenario_without_the_network_is_an_error_not_a_pass(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(tmp_path / "needs-index", "network: fixtures\n" + "expect: {outcome: failed}\n")
    )
    (result,) = run_scenarios(None, [scenario])  # nothing reaches the engine
    assert result.status == "error" and not result.passed
    assert result.error == FIXTURES_NEEDED
    assert "--fixtures-network NAME" in FIXTURES_NEEDED


def test_a_render_sim_error_in_one_scenario_is_its_result_not_a_crash(tmp_path: Path) -> None:
    broken = load_scenario(write(tmp_path / "no-command", "network: none\n" + MINIMAL))
    fixtures = load_scenario(write(tmp_path / "fixtures", "network: fixtures\n" + MINIMAL))
    results = run_scenarios(None, [broken, fixtures], jobs=2)
    assert [r.scenario.name for r in results] == ["no-command", "fixtures"]
    error = results[0].error or ""
    assert "has no render.yaml" in error and "(fix: " in error
    assert results[1].error == FIXTURES_NEEDED


# -- the command line ---------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "scenarios", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE, "COLUMNS": "200"},
        cwd=ROOT,
        timeout=60,
    )


def test_cli_lists_scenarios(tmp_path: Path) -> None:
    write(
        tmp_path / "rust-cargo",
        "description: cargo cannot write\nnetwork: fixtures\n"
        "expect: {outcome: failed, class: rust-readonly-cargo}\n",
    )
    write(tmp_path / "plain", "description: builds\n" + MINIMAL)
    result = cli("list", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "rust-cargo" in line or "plain" in line]
    assert len(rows) == 2
    assert "hermetic" in rows[1] and "fixtures" in rows[1]
    assert "failed/rust-readonly-cargo" in rows[1] and "cargo cannot write" in rows[1]
    assert "online" in rows[0] and "internet" in rows[0] and "succeeded" in rows[0]


def test_cli_lists_scenarios_as_json(tmp_path: Path) -> None:
    write(tmp_path / "one", "network: none\n" + MINIMAL)
    write(tmp_path / "two", MINIMAL)
    result = cli("list", "--dir", str(tmp_path), "--kind", "hermetic", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(s["name"], s["kind"], s["network"]) for s in data["scenarios"]] == [
        ("one", "hermetic", "none")
    ]
    assert data["scenarios"][0]["expect"]["outcome"] == "succeeded"


@pytest.mark.parametrize("command", ["list", "run"])
def test_cli_reports_a_broken_manifest_without_traceback_exit_2(
    tmp_path: Path, command: str
) -> None:
    write(tmp_path / "bad", "expect:\n  outcome: failed\n  clas: unknown\n")
    result = cli(command, "--dir", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"{tmp_path / 'bad' / MANIFEST}:3: expect.clas" in result.stderr
    assert "fix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_run_without_engine_exits_4(tmp_path: Path) -> None:
    write(tmp_path / "ok", MINIMAL)
    result = cli("run", "--dir", str(tmp_path))
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_run_with_nothing_selected_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "ok", MINIMAL)
    result = cli("run", "--dir", str(tmp_path), "--kind", "hermetic")
    assert result.returncode == 2
    assert "no hermetic scenario to run" in result.stderr


@pytest.mark.parametrize("command", ["list", "run"])
def test_cli_scenario_commands_accept_json(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0
    assert "--json" in result.stdout

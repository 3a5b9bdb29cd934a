"""`render-sim check DIR...`: many repos at once, one table row per service. No Docker.

The index (tests/unit/index_fixture.py) has the example's shape: demo 2.9.2 pins demo-core
2.23.4, whose only wheels are for CPython 3.13, so on Render's default 3.14 pip compiles it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_fixture import CP313, CP314, LocalIndex
from jsonschema import Draft202012Validator
from rich.console import Console

from simulator.check import pip_resolve
from simulator.check.fleet import FleetReport, check_fleet, find_repos, split_python
from simulator.config import python_version
from simulator.errors import UsageError
from simulator.plan import build_plan as plan_mod
from simulator.plan.models import Options
from simulator.report.fleet_view import fleet_junit_tree, print_fleet, rows
from simulator.report.schemas import schema_for
from simulator.units import parse_date

CREATED = parse_date("2026-03-01")  # Render's default then: Python 3.14.3
NEWEST_313 = python_version.load_releases().newest("3.13")
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4", "tinydep>=1"])
    index.add("demo", "2.12.0", requires=["demo-core==2.41.1", "tinydep>=1"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True, requires=["tinydep>=1"])
    index.add("demo-core", "2.41.1", wheels=[CP313, CP314], sdist=True)
    index.add("tinydep", "1.0")
    with index.serve() as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(plan_mod, "crates_io_reachable", lambda: True)
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RENDER_SIM_CACHE", str(tmp_path / "cache"))


def repo(root: Path, name: str, requirements: str, **files: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text(requirements)
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def fleet(root: Path) -> Path:
    """on-default: demo 2.9.2 on the default; pinned: the same, Python 3.14.3 in .python-version;
    clean: wheels only; broken: a render.yaml Render rejects."""
    repo(root, "on-default", "demo==2.9.2\n")
    repo(root, "pinned", "demo==2.9.2\n", **{".python-version": "3.14.3\n"})
    repo(root, "clean", "tinydep\n")
    broken = root / "broken"
    broken.mkdir()
    (broken / "render.yaml").write_text(
        "services:\n  - type: web\n    name: api\n    runtime: python\n    pythonVersion: '3.12'\n"
        "    buildCommand: pip install -r requirements.txt\n"
    )
    return root


def check(root: Path, url: str, python: str | None = None) -> FleetReport:
    pinned, moved = split_python(python)
    options = Options(created=CREATED, python=pinned, probe_network=False)
    return check_fleet([root], options, index_url=url, default_python=moved, jobs=3)


def by_repo(report: FleetReport) -> dict[str, dict[str, str]]:
    return {row["repo"]: row for row in rows(report)}


def test_the_table_has_python_and_source_builds_and_top_fix_per_service(
    tmp_path: Path, index_url: str
) -> None:
    table = by_repo(check(fleet(tmp_path / "repos"), index_url))
    assert list(table) == ["broken", "clean", "on-default", "pinned"]  # sorted, every repo
    failing = table["on-default"]
    assert (failing["service"], failing["python"]) == ("on-default", "3.14.3 (default)")
    assert failing["source_builds"] == "demo-core 2.23.4"
    assert failing["top_fix"].startswith("Use Python 3.13")
    assert failing["status"] == "fails"
    assert table["pinned"]["python"] == "3.14.3 (.python-version)"
    assert (table["clean"]["status"], table["clean"]["source_builds"]) == ("ok", "-")


def test_a_repo_that_cannot_be_checked_is_a_row_saying_why(tmp_path: Path, index_url: str) -> None:
    report = check(fleet(tmp_path / "repos"), index_url)
    broken = by_repo(report)["broken"]
    assert broken["status"] == "error"
    assert "pythonVersion" in broken["detail"] and "render.yaml:5" in broken["detail"]
    assert broken["top_fix"] != "-"
    assert report.exit_code == 1


def test_moving_the_default_changes_only_services_on_the_default(
    tmp_path: Path, index_url: str
) -> None:
    table = by_repo(check(fleet(tmp_path / "repos"), index_url, python="3.13"))
    assert table["on-default"]["python"] == f"{NEWEST_313} (default, moved)"
    assert (table["on-default"]["status"], table["on-default"]["source_builds"]) == ("ok", "-")
    assert table["pinned"]["python"] == "3.14.3 (.python-version)"
    assert table["pinned"]["status"] == "fails"


def test_a_resolution_is_made_once_across_repos_with_the_same_inputs(
    tmp_path: Path, index_url: str
) -> None:
    before = pip_resolve._RUNS[0]
    check(repo(tmp_path / "one", "a", "demo==2.9.2\ntinydep\n").parent, index_url)
    alone = pip_resolve._RUNS[0] - before
    for name in ("b", "c", "d"):
        repo(tmp_path / "four", name, "demo==2.9.2\ntinydep\n")
    repo(tmp_path / "four", "e", "demo==2.9.2\ntinydep\n")
    before = pip_resolve._RUNS[0]
    report = check(tmp_path / "four", index_url)
    assert len(report.repos) == 4 and all(r.report for r in report.repos)
    assert pip_resolve._RUNS[0] - before == 0  # resolved by the first fleet already: none again
    assert alone >= 1


def test_the_junit_report_has_a_case_per_service_and_a_failure_each_that_fails(
    tmp_path: Path, index_url: str
) -> None:
    root = ET.fromstring(
        ET.tostring(fleet_junit_tree(check(fleet(tmp_path / "repos"), index_url)).getroot())
    )
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    cases = {case.get("classname"): case for case in suite.findall("testcase")}
    failure = cases["check.pinned"].find("failure")
    assert failure is not None and "demo-core 2.23.4" in (failure.get("message") or "")
    assert cases["check.broken"].find("error") is not None
    assert cases["check.clean"].find("failure") is None


def test_the_printed_table_shows_every_row(tmp_path: Path, index_url: str) -> None:
    console = Console(record=True, width=200, color_system=None)
    print_fleet(check(fleet(tmp_path / "repos"), index_url, python="3.13"), console)
    text = console.export_text()
    assert f"as if Render's default Python were {NEWEST_313}" in text
    for cell in (
        "on-default",
        "pinned",
        "demo-core 2.23.4",
        "Use Python 3.13",
        "✗ fails",
        "! error",
    ):
        assert cell in text
    assert (
        "4 repo(s), 3 service(s): 1 would not build as is, 1 repo(s) could not be checked" in text
    )


def test_a_folder_without_repos_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / "docs").mkdir(parents=True)
    with pytest.raises(UsageError, match="holds none"):
        find_repos([tmp_path / "empty"])


def test_a_python_series_render_sim_does_not_know_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no release of Python 3.99"):
        split_python("3.99")


def test_check_of_several_repos_prints_json_and_exits_1_when_one_fails(
    tmp_path: Path, index_url: str
) -> None:
    root = tmp_path / "repos"
    a, b = repo(root, "a", "tinydep\n"), repo(root, "b", "demo==2.9.2\n")
    command = ["check", str(a), str(b), "--created", "2026-03-01", "--index-url", index_url]
    result = subprocess.run(
        [sys.executable, "-m", "simulator", *command, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE, "RENDER_SIM_HOME": str(tmp_path / "home")},
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    Draft202012Validator(schema_for("check")).validate(data)
    assert [row["status"] for row in data["table"]] == ["ok", "fails"]
    assert data["summary"] == {
        "repos": 2,
        "services": 2,
        "failing_services": 1,
        "repos_in_error": 0,
    }

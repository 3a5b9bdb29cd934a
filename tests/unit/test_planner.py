"""The fix planner against a local index: every fix it offers was resolved with pip first, and
leaves every package installing from a wheel (pure-Python sdists allowed)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_fixture import CP313, CP314, LocalIndex

from simulator.check.pip_resolve import resolve_requirements
from simulator.check.planner import PlanInput, load_swaps, plan_fixes, reachable
from simulator.check.service import render_versions
from simulator.config.dep_files import Requirements
from simulator.diagnose.actions import Replace
from simulator.diagnose.diagnosis import Fix, Pin, Requirement, SetEnv
from simulator.render.target import Target
from tests.hermetic.cli_support import cli_argv, cli_env

TARGET = Target("3.14.3")
CP312 = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    # a parent pinning its compiled child exactly (pydantic and pydantic-core)
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4"])
    index.add("demo", "2.12.0", requires=["demo-core==2.41.1"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True)
    index.add("demo-core", "2.41.1", wheels=[CP313, CP314], sdist=True)
    # two packages built against each other (numpy and pandas)
    index.add("numb", "1.24", wheels=[], sdist=True)
    index.add("numb", "2.1", wheels=[CP314], sdist=True)
    index.add("pand", "2.0", wheels=[], sdist=True, requires=["numb<2"])
    index.add("pand", "2.2", wheels=[CP314], sdist=True, requires=["numb>=2"])
    # the release with a wheel needs a newer helper than the one pinned: a second round
    index.add("base", "1.0", wheels=[], sdist=True)
    index.add("base", "2.0", wheels=[CP314], sdist=True, requires=["helper>=2"])
    index.add("helper", "1.0")
    index.add("helper", "2.0")
    # a C extension needing a system library, with a binary twin
    index.add("psycopg2", "2.9.9", wheels=[], sdist=True)
    index.add("psycopg2-binary", "2.9.9", wheels=[CP313, CP314])
    # a conflict between an old framework and a new model library
    index.add("model", "1.0")
    index.add("model", "2.0")
    index.add("web", "1.0", requires=["model<2"])
    index.add("web", "1.1", requires=["model>=1,<3"])
    # a framework that accepts model 2 for a while, then raises its minimum past it
    index.add("model", "3.0")
    index.add("frame", "1.0", requires=["model<2"])
    for version in ("1.1", "1.2", "1.3"):
        index.add("frame", version, requires=["model>=2"])
    for version in ("2.0", "2.1", "2.2", "2.3"):
        index.add("frame", version, requires=["model>=3"])
    # wheels for 3.12 only; pure Python sdists
    index.add("legacy", "1.0", wheels=[CP312], sdist=True)
    index.add("puresdist", "0.3", wheels=[], sdist=True, sdist_files={"puresdist/__init__.py": ""})
    with index.serve() as url:
        yield url


def plan(index_url: str, *lines: str, target: Target = TARGET) -> list[Fix]:
    requirements = Requirements(
        lines=[(line, f"requirements.txt:{n}") for n, line in enumerate(lines, 1)]
    )
    given = PlanInput(requirements, target, index_url, render_versions=render_versions())
    return list(plan_fixes(given).fixes)


def test_a_python_with_wheels_for_everything_comes_first(index_url: str) -> None:
    fixes = plan(index_url, "demo==2.9.2")
    newest_313 = render_versions()["3.13"]
    assert fixes[0].action == SetEnv("PYTHON_VERSION", newest_313)
    assert fixes[0].title == "Use Python 3.13: every package then installs from a wheel"
    assert all(fix.checked for fix in fixes)


def test_a_child_pinned_by_its_parent_moves_with_the_parent(index_url: str) -> None:
    fixes = plan(index_url, "demo==2.9.2")
    upgrade = next(f for f in fixes if isinstance(f.action, Pin))
    assert upgrade.action == Pin("demo", ">=2.12.0")
    assert "demo 2.9.2 pins demo-core to 2.23.4" in upgrade.detail


def test_two_packages_built_against_each_other_move_together(index_url: str) -> None:
    (fix,) = plan(index_url, "numb==1.24", "pand==2.0")
    assert fix.action == Pin("numb", ">=2.1", (Requirement("pand", ">=2.2"),))
    assert fix.title == "Upgrade numb to 2.1 and pand to 2.2 together"


def test_an_upgrade_that_conflicts_is_extended_with_the_other_party(index_url: str) -> None:
    (fix,) = plan(index_url, "base==1.0", "helper==1.0")
    assert fix.action == Pin("base", ">=2.0", (Requirement("helper", ">=2"),))
    assert "2 rounds of resolution" in fix.detail


def test_a_missing_system_library_is_fixed_by_the_standard_swap(index_url: str) -> None:
    (fix,) = plan(index_url, "psycopg2==2.9.9")
    assert fix.action == Replace("psycopg2", "psycopg2-binary==2.9.9")
    assert "psycopg.org" in fix.detail  # the swap names its source


def test_every_swap_names_its_source() -> None:
    assert all(swap.cited.startswith("http") for swap in load_swaps().values())


def test_a_conflict_gets_the_forward_fix_before_the_backward_one(index_url: str) -> None:
    forward, backward = plan(index_url, "web==1.0", "model==2.0")
    assert forward.action == Pin("web", ">=1.1")
    assert "the first release whose requirement (model<3,>=1) accepts model 2.0" in forward.detail
    assert backward.action == Pin("model", "<2")
    assert backward.title == "Only if your code works with it: pin model<2"


def test_the_forward_fix_is_the_first_release_that_accepts_the_pin(index_url: str) -> None:
    forward, _ = plan(index_url, "frame==1.0", "model==2.0")
    assert forward.action == Pin("frame", ">=1.1")


def test_pythons_are_offered_newest_first_for_a_pinned_release(index_url: str) -> None:
    fixes = plan(index_url, "legacy==1.0")
    assert [f.action for f in fixes] == [SetEnv("PYTHON_VERSION", render_versions()["3.12"])]


def test_a_pure_python_sdist_needs_no_fix(index_url: str) -> None:
    assert plan(index_url, "puresdist==0.3") == []


def test_a_pure_python_sdist_is_told_from_a_compiled_one(index_url: str) -> None:
    requirements = Requirements(lines=[("puresdist==0.3", "r:1"), ("psycopg2==2.9.9", "r:2")])
    resolution = resolve_requirements(requirements, TARGET, index_url)
    kinds = {b.name: b.compiled for b in resolution.builds}
    assert kinds == {"puresdist": "pure", "psycopg2": "compiled"}


def test_an_upgrade_to_a_pure_python_wheel_says_so(
    index_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    index = LocalIndex(tmp_path_factory.mktemp("pure"))
    index.add("oldc", "1.0", wheels=[], sdist=True)
    index.add("oldc", "2.0")
    with index.serve() as url:
        (fix,) = plan(url, "oldc==1.0")
    assert "a pure-Python wheel (py3-none-any)" in fix.detail
    assert "manylinux" not in fix.detail


def test_an_index_of_the_build_network_is_reached_by_address() -> None:
    hosts = {"index": "172.18.0.2"}
    assert reachable("http://index:8000/simple/", hosts) == "http://172.18.0.2:8000/simple/"
    assert reachable("https://pypi.org/simple", hosts) == "https://pypi.org/simple"


def test_explain_with_the_repo_plans_the_fixes_for_the_whole_service(
    index_url: str, tmp_path: Path
) -> None:
    (tmp_path / "render.yaml").write_text(
        "services:\n  - type: web\n    name: app\n    runtime: python\n"
        "    buildCommand: pip install -r requirements.txt\n    startCommand: python app.py\n"
    )
    (tmp_path / "requirements.txt").write_text(f"--index-url {index_url}\nnumb==1.24\npand==2.0\n")
    log = tmp_path / "build.log"
    log.write_text(
        "==> Using Python version 3.14.3 (default)\n"
        "      numb/_speedups.c:2:10: fatal error: longintrepr.h: No such file or directory\n"
        "ERROR: Failed building wheel for numb\n"
    )
    done = subprocess.run(
        cli_argv("explain", str(log), "--repo", str(tmp_path), "--json"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    planned = json.loads(done.stdout)["planned_fixes"]
    assert [f["title"] for f in planned["fixes"]] == [
        "Upgrade numb to 2.1 and pand to 2.2 together"
    ]

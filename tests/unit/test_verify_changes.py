"""--verify-fix beyond one action: render.yaml edited line by line, swaps, several steps as one
change, the order fixes are tried in. No Docker (the rebuilds are tests/docker's)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml

from simulator.check.planner import FixPlan
from simulator.config.blueprint import load_blueprint
from simulator.diagnose.actions import Replace, SetRootDir, Several
from simulator.diagnose.diagnosis import Diagnosis, Fix, Pin, SetEnv
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from simulator.verify.blueprint_edit import BlueprintNotEditable, set_env_var, set_service_key
from simulator.verify.changes import Change, FixNotApplicable, apply_fix, env_into_blueprint
from simulator.verify.loop import candidates

OPTIONS = Options(probe_network=False, created=date(2026, 3, 1))

BLUEPRINT = textwrap.dedent(
    """\
    # the app
    services:
      - type: web
        name: api
        runtime: python
        buildCommand: pip install -r requirements.txt
        startCommand: python app.py  # served by gunicorn later

      - type: worker
        name: jobs
        runtime: python
        buildCommand: pip install -r requirements.txt
        startCommand: python jobs.py
        envVars:
          - key: MODE
            value: batch
    """
)


def repo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def service_line(text: str, name: str, tmp_path: Path) -> int:
    path = tmp_path / "probe.yaml"
    path.write_text(text)
    return next(s.line for s in load_blueprint(path).services if s.name == name)


# -- render.yaml, line by line ------------------------------------------------------------------


def test_root_dir_is_added_after_the_service_name_and_nothing_else_moves(tmp_path: Path) -> None:
    after = set_service_key(
        BLUEPRINT, service_line(BLUEPRINT, "api", tmp_path), "rootDir", "backend"
    )
    added = [line for line in after.splitlines() if line not in BLUEPRINT.splitlines()]
    assert added == ["    rootDir: backend"]
    assert after.splitlines().index("    rootDir: backend") == 4  # right after `name: api`
    assert yaml.safe_load(after)["services"][1] == yaml.safe_load(BLUEPRINT)["services"][1]


def test_an_existing_key_is_changed_in_place(tmp_path: Path) -> None:
    line = service_line(BLUEPRINT, "jobs", tmp_path)
    after = set_service_key(BLUEPRINT, line, "buildCommand", "pip install -r jobs.txt")
    assert yaml.safe_load(after)["services"][1]["buildCommand"] == "pip install -r jobs.txt"
    assert len(after.splitlines()) == len(BLUEPRINT.splitlines())


def test_an_env_var_is_added_to_a_service_without_env_vars(tmp_path: Path) -> None:
    after = set_env_var(
        BLUEPRINT, service_line(BLUEPRINT, "api", tmp_path), "PYTHON_VERSION", "3.13.18"
    )
    assert yaml.safe_load(after)["services"][0]["envVars"] == [
        {"key": "PYTHON_VERSION", "value": "3.13.18"}
    ]


def test_an_env_var_is_appended_to_existing_env_vars(tmp_path: Path) -> None:
    after = set_env_var(
        BLUEPRINT, service_line(BLUEPRINT, "jobs", tmp_path), "PYTHON_VERSION", "3.13.18"
    )
    assert yaml.safe_load(after)["services"][1]["envVars"] == [
        {"key": "MODE", "value": "batch"},
        {"key": "PYTHON_VERSION", "value": "3.13.18"},
    ]


def test_an_env_var_given_on_one_line_is_not_edited(tmp_path: Path) -> None:
    text = BLUEPRINT.replace(
        "    envVars:\n      - key: MODE\n        value: batch\n",
        "    envVars: [{key: MODE, value: batch}]\n",
    )
    with pytest.raises(BlueprintNotEditable):
        set_env_var(text, service_line(text, "jobs", tmp_path), "A", "b")


# -- actions -----------------------------------------------------------------------------------


def test_root_dir_fix_writes_render_yaml_and_the_rebuild_reads_it(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "render.yaml": BLUEPRINT,
            "backend/requirements.txt": "flask\n",
            "requirements.txt": "x\n",
        },
    )
    service = make_plan(repo, OPTIONS).services[0]
    change = apply_fix(SetRootDir("backend"), repo, service, OPTIONS)
    assert change.summary == "rootDir: backend"
    again = make_plan(repo, change.options).services[0]
    assert again.root_dir == "backend"
    assert "+    rootDir: backend" in change.diff()


def test_root_dir_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"render.yaml": BLUEPRINT, "requirements.txt": "x\n"})
    service = make_plan(repo, OPTIONS).services[0]
    with pytest.raises(FixNotApplicable, match="not a directory"):
        apply_fix(SetRootDir("backend"), repo, service, OPTIONS)


def test_a_swap_replaces_the_whole_requirement_where_it_is_declared(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {"render.yaml": BLUEPRINT, "requirements.txt": "flask==3.0\npsycopg2==2.9.9  # db\n"},
    )
    service = make_plan(repo, OPTIONS).services[0]
    change = apply_fix(Replace("psycopg2", "psycopg2-binary==2.9.9"), repo, service, OPTIONS)
    assert (repo / "requirements.txt").read_text() == "flask==3.0\npsycopg2-binary==2.9.9  # db\n"
    assert change.summary == "psycopg2-binary==2.9.9 instead of psycopg2"


def test_several_steps_are_one_change_with_one_diff(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {"render.yaml": BLUEPRINT, "requirements.txt": "numb==1.24\npand==2.0\npsycopg2\n"},
    )
    original = tmp_path.parent / "original"
    shutil.copytree(repo, original)
    service = make_plan(repo, OPTIONS).services[0]
    action = Several(
        (Pin("numb", ">=2.1"), Pin("pand", ">=2.2"), Replace("psycopg2", "psycopg2-binary"))
    )
    change = apply_fix(action, repo, service, OPTIONS)
    assert [f.path for f in change.files] == ["requirements.txt"]
    patch = tmp_path.parent / "fix.patch"
    patch.write_text(change.diff())
    subprocess.run(["git", "apply", str(patch)], cwd=original, check=True, capture_output=True)
    assert (original / "requirements.txt").read_text() == "numb>=2.1\npand>=2.2\npsycopg2-binary\n"


def test_a_change_that_sets_a_variable_and_edits_files_is_one_diff(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"render.yaml": BLUEPRINT, "requirements.txt": "numb==1.24\n"})
    service = make_plan(repo, OPTIONS).services[0]
    first = apply_fix(SetEnv("PYTHON_VERSION", "3.13.18"), repo, service, OPTIONS)
    both = first.then(apply_fix(Pin("numb", ">=2.1"), repo, service, first.options))
    whole = env_into_blueprint(both, repo, "api")
    paths = sorted(f.path for f in whole.files)
    assert paths == ["render.yaml", "requirements.txt"]
    assert "+      - key: PYTHON_VERSION" in whole.diff()


def test_a_variable_alone_is_a_snippet_not_a_diff(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"render.yaml": BLUEPRINT, "requirements.txt": "x\n"})
    service = make_plan(repo, OPTIONS).services[0]
    change = env_into_blueprint(
        apply_fix(SetEnv("PYTHON_VERSION", "3.13.18"), repo, service, OPTIONS), repo, "api"
    )
    assert change.diff() == ""
    assert "  - key: PYTHON_VERSION\n    value: 3.13.18" in change.instructions


def test_a_file_changed_twice_keeps_its_first_before() -> None:
    first = Change("a", "", OPTIONS, files=(_file("r.txt", "x==1\n", "x==2\n"),))
    second = Change("b", "", OPTIONS, files=(_file("r.txt", "x==2\n", "x==3\n"),))
    (merged,) = first.then(second).files
    assert (merged.before, merged.after) == ("x==1\n", "x==3\n")


def _file(path: str, before: str, after: str):  # type: ignore[no-untyped-def]
    from simulator.verify.changes import FileChange

    return FileChange(path, before, after)


# -- which fixes, in which order ------------------------------------------------------------------

PYTHON_FIX = Fix("Use Python 3.13", "d", SetEnv("PYTHON_VERSION", "3.13.18"), True)
PIN_FIX = Fix("Upgrade x", "d", Pin("x", ">=2"), True)


def test_the_planned_fixes_come_first_for_a_failure_about_packages() -> None:
    diagnosis = Diagnosis(
        "rust-readonly-cargo", "c", "h", "e", fixes=(PIN_FIX, Fix("by hand", "d"))
    )
    tried = candidates(diagnosis, FixPlan((PYTHON_FIX,)))
    assert [(origin, fix.title) for origin, fix in tried] == [
        ("plan", "Use Python 3.13"),
        ("diagnosis", "Upgrade x"),
    ]


def test_the_diagnosis_fixes_come_first_for_other_failures() -> None:
    cache = Fix("No cache", "d", SetEnv("PIP_NO_CACHE_DIR", "1"))
    diagnosis = Diagnosis("out-of-memory", "c", "h", "e", fixes=(cache,))
    tried = candidates(diagnosis, FixPlan((PYTHON_FIX,)))
    assert [fix.title for _, fix in tried] == ["No cache", "Use Python 3.13"]


def test_a_fix_given_twice_is_tried_once() -> None:
    same = Fix("Use an older Python", "d", SetEnv("PYTHON_VERSION", "3.13.18"))
    diagnosis = Diagnosis("no-wheel-python-too-new", "c", "h", "e", fixes=(same,))
    assert [origin for origin, _ in candidates(diagnosis, FixPlan((PYTHON_FIX,)))] == ["plan"]

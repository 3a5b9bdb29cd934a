"""`--verify-fix`, the pure parts: copying, applying an action, the diff, the exact change. No Docker."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml

from simulator.build.simulation import BuildResult
from simulator.config.dep_files import pinned_requirement, tomllib
from simulator.config.env_vars import EnvVar
from simulator.diagnose.diagnosis import (
    BuildCommand,
    Diagnosis,
    Fix,
    Pin,
    PythonVersionFile,
    Requirement,
    SetEnv,
)
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options, ServicePlan
from simulator.verify.changes import (
    Change,
    FileChange,
    FixNotApplicable,
    apply_fix,
    copy_files,
    files_to_copy,
)
from simulator.verify.outcome import (
    NO_ACTION,
    NOT_APPLIED,
    NOT_NEEDED,
    STILL_FAILS,
    VERIFIED,
    Verification,
    first_actionable_fix,
)
from simulator.verify.text import build_command_instructions, env_instructions, yaml_scalar

OPTIONS = Options(probe_network=False, created=date(2026, 3, 1))


def blueprint(build_command: str = "pip install -r requirements.txt", extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        services:
          - type: web
            name: api
            runtime: python
            buildCommand: {build_command}
            startCommand: uvicorn main:app
        """
    ) + textwrap.indent(textwrap.dedent(extra), "    ")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def service_of(repo: Path, options: Options = OPTIONS) -> ServicePlan:
    return make_plan(repo, options).services[0]


def copy_of(repo: Path, tmp_path: Path) -> Path:
    """The copy verify_fix would build: the files the plan copies, in a fresh directory."""
    built = make_plan(repo, OPTIONS)
    copy = tmp_path / "copy" / repo.name
    copy.mkdir(parents=True)
    copy_files(built.repo, files_to_copy(built, built.services[0]), copy)
    return copy


def apply_to(repo: Path, action: object, tmp_path: Path) -> tuple[Path, Change]:
    copy = copy_of(repo, tmp_path)
    change = apply_fix(action, copy, service_of(repo), OPTIONS)  # type: ignore[arg-type]
    return copy, change


def result(outcome: str = "failed", diagnosis: Diagnosis | None = None) -> BuildResult:
    return BuildResult(
        service="api",
        outcome=outcome,
        exit_code=0 if outcome == "succeeded" else 1,
        duration_s=1.0,
        peak_memory_bytes=None,
        log_path=Path("/tmp/x.log"),
        image="img",
        python="3.14.3",
        image_python="3.14.3",
        event="" if outcome == "succeeded" else "Exited with status 1 while building your code.",
        diagnosis=diagnosis,
    )


def diagnosis(*fixes: Fix, headline: str = "pydantic-core has no wheel") -> Diagnosis:
    return Diagnosis("rust-readonly-cargo", "cause", headline, "why", fixes=fixes)


# -- which fix ---------------------------------------------------------------------------------


def test_first_fix_with_an_action_is_chosen_and_numbered() -> None:
    fixes = (
        Fix("read the docs", "no action here"),
        Fix("Use Python 3.13", "d", SetEnv("PYTHON_VERSION", "3.13.18")),
        Fix("Upgrade pydantic", "d", Pin("pydantic", ">=2.12.0")),
    )
    assert first_actionable_fix(diagnosis(*fixes)) == (2, fixes[1])


def test_no_fix_with_an_action_gives_none() -> None:
    assert first_actionable_fix(diagnosis(Fix("by hand", "d"))) is None
    assert first_actionable_fix(None) is None


# -- the copy ---------------------------------------------------------------------------------


def test_copy_keeps_modes_and_symlinks_and_leaves_out_venv(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint("./build.sh"),
            "build.sh": "#!/bin/sh\npip install -r requirements.txt\n",
            "requirements.txt": "fastapi==0.115.0\n",
            ".venv/lib/junk.py": "x = 1\n",
        },
    )
    (repo / "build.sh").chmod(0o755)
    (repo / "latest").symlink_to("build.sh")
    copy = copy_of(repo, tmp_path)
    assert os.stat(copy / "build.sh").st_mode & stat.S_IXUSR
    assert os.readlink(copy / "latest") == "build.sh"
    assert not (copy / ".venv").exists()
    assert (copy / "requirements.txt").read_text() == "fastapi==0.115.0\n"


def test_copy_of_a_root_dir_service_keeps_the_blueprint_and_root_python_version(
    tmp_path: Path,
) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(extra="rootDir: backend\n"),
            ".python-version": "3.13\n",
            "backend/requirements.txt": "fastapi==0.115.0\n",
            "frontend/package.json": "{}\n",
        },
    )
    built = make_plan(repo, OPTIONS)
    files = files_to_copy(built, built.services[0])
    assert files == (".python-version", "backend/requirements.txt", "render.yaml")


def test_planning_the_copy_chooses_the_same_python(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(extra="rootDir: backend\n"),
            ".python-version": "3.13\n",
            "backend/requirements.txt": "fastapi==0.115.0\n",
        },
    )
    copy = copy_of(repo, tmp_path)
    assert service_of(copy).python == service_of(repo).python


# -- SetEnv -----------------------------------------------------------------------------------


def test_python_version_fix_sets_python_for_the_rebuild_and_touches_no_file(
    tmp_path: Path,
) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "x==1\n"})
    copy, change = apply_to(repo, SetEnv("PYTHON_VERSION", "3.13.18"), tmp_path)
    assert change.summary == "PYTHON_VERSION=3.13.18"
    assert change.files == () and change.diff() == ""
    again = service_of(copy, change.options)
    assert (again.python.version, again.python.source) == ("3.13.18", "PYTHON_VERSION")


def test_python_version_fix_wins_over_a_python_given_on_the_command_line(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "x==1\n"})
    copy = copy_of(repo, tmp_path)
    asked = Options(probe_network=False, python="3.14.3")
    change = apply_fix(SetEnv("PYTHON_VERSION", "3.13.18"), copy, service_of(repo, asked), asked)
    assert service_of(copy, change.options).python.version == "3.13.18"


def test_other_variables_go_into_the_rebuild_env(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "x==1\n"})
    copy, change = apply_to(repo, SetEnv("PIP_NO_CACHE_DIR", "1"), tmp_path)
    assert service_of(copy, change.options).env["PIP_NO_CACHE_DIR"] == "1"


def test_instructions_add_the_variable_to_render_yaml_envvars(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "x==1\n"})
    _, change = apply_to(repo, SetEnv("PYTHON_VERSION", "3.13.18"), tmp_path)
    assert change.instructions.startswith("add to render.yaml, under service api, envVars:\n")
    snippet = "\n".join(change.instructions.splitlines()[1:3])
    assert yaml.safe_load(snippet) == [{"key": "PYTHON_VERSION", "value": "3.13.18"}]
    assert "Render Dashboard" in change.instructions


def test_instructions_name_the_line_of_an_existing_entry(tmp_path: Path) -> None:
    extra = "envVars:\n  - key: PYTHON_VERSION\n    value: 3.14.3\n"
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(extra=extra), "requirements.txt": "x==1\n"}
    )
    _, change = apply_to(repo, SetEnv("PYTHON_VERSION", "3.13.18"), tmp_path)
    line = next(
        n
        for n, text in enumerate((repo / "render.yaml").read_text().splitlines(), 1)
        if "key: PYTHON_VERSION" in text
    )
    assert f"change the envVars entry for PYTHON_VERSION (line {line})" in change.instructions


def test_instructions_without_render_yaml_point_to_the_dashboard() -> None:
    text = env_instructions("PYTHON_VERSION", "3.13.18", "app", None, None)
    assert text == (
        "set PYTHON_VERSION=3.13.18 in the service's Environment page in the Render Dashboard "
        "(the repo has no render.yaml)"
    )


def test_instructions_for_a_variable_of_an_env_group() -> None:
    var = EnvVar("PYTHON_VERSION", "3.14.3", "value", False, "group:shared", line=12)
    text = env_instructions("PYTHON_VERSION", "3.13.18", "api", "render.yaml", var)
    assert text.startswith("render.yaml sets PYTHON_VERSION in env group shared")


@pytest.mark.parametrize("value", ["3.13", "1", "yes", "a: b", "3.13.18", "# x", " padded"])
def test_yaml_scalar_reads_back_as_the_same_string(value: str) -> None:
    assert yaml.safe_load(f"value: {yaml_scalar(value)}") == {"value": value}


# -- PythonVersionFile --------------------------------------------------------------------------


def test_python_version_file_is_written_in_the_service_root_of_the_copy(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(extra="rootDir: backend\n"), "backend/requirements.txt": "x\n"},
    )
    copy, change = apply_to(repo, PythonVersionFile("3.13"), tmp_path)
    assert (copy / "backend" / ".python-version").read_text() == "3.13\n"
    assert not (repo / "backend" / ".python-version").exists()
    again = service_of(copy, change.options)
    assert again.python.source == ".python-version" and again.python.version.startswith("3.13.")
    assert change.diff().splitlines()[:3] == [
        "--- /dev/null",
        "+++ b/backend/.python-version",
        "@@ -0,0 +1 @@",
    ]


def test_python_version_file_instructions_warn_when_python_version_is_set(
    tmp_path: Path,
) -> None:
    extra = "envVars:\n  - key: PYTHON_VERSION\n    value: 3.14.3\n"
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(extra=extra), "requirements.txt": "x"}
    )
    _, change = apply_to(repo, PythonVersionFile("3.13"), tmp_path)
    assert "PYTHON_VERSION is set on the service (3.14.3) and wins over the file" in (
        change.instructions
    )


# -- BuildCommand -------------------------------------------------------------------------------


def test_build_command_fix_replaces_the_command_for_the_rebuild(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "x==1\n"})
    command = "pip install --no-cache-dir -r requirements.txt"
    copy, change = apply_to(repo, BuildCommand(command), tmp_path)
    assert service_of(copy, change.options).build_command == command
    assert "buildCommand: pip install --no-cache-dir -r requirements.txt" in change.instructions


def test_build_command_instructions_quote_what_yaml_would_misread() -> None:
    text = build_command_instructions("pip install x # y: z", "api", "render.yaml")
    line = next(t for t in text.splitlines() if "buildCommand:" in t)
    assert yaml.safe_load(line) == {"buildCommand": "pip install x # y: z"}


# -- Pin ----------------------------------------------------------------------------------------


def test_pinned_requirement_keeps_name_extras_and_marker() -> None:
    assert (
        pinned_requirement('Pydantic[email]==2.9.2; python_version >= "3.8"', ">=2.12.0")
        == 'Pydantic[email]>=2.12.0; python_version >= "3.8"'
    )


def test_pin_rewrites_the_line_that_declares_the_package(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "fastapi==0.115.0\npydantic==2.9.2  # api models\nuvicorn\n",
        },
    )
    copy, change = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    assert (copy / "requirements.txt").read_text() == (
        "fastapi==0.115.0\npydantic>=2.12.0  # api models\nuvicorn\n"
    )
    assert (repo / "requirements.txt").read_text().count("pydantic==2.9.2") == 1
    assert change.summary == "pydantic>=2.12.0"
    assert "in requirements.txt, line 2, change pydantic==2.9.2 to pydantic>=2.12.0" in (
        change.instructions
    )
    assert change.diff() == (
        "--- a/requirements.txt\n"
        "+++ b/requirements.txt\n"
        "@@ -1,3 +1,3 @@\n"
        " fastapi==0.115.0\n"
        "-pydantic==2.9.2  # api models\n"
        "+pydantic>=2.12.0  # api models\n"
        " uvicorn\n"
    )


def test_pin_follows_includes_and_constraints(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "-r base.txt\n-c constraints.txt\nuvicorn\n",
            "base.txt": "fastapi\npydantic>=2,<2.10\n",
            "constraints.txt": "pydantic==2.9.2\n",
        },
    )
    copy, change = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    assert (copy / "base.txt").read_text() == "fastapi\npydantic>=2.12.0\n"
    assert (copy / "constraints.txt").read_text() == "pydantic>=2.12.0\n"
    assert sorted(f.path for f in change.files) == ["base.txt", "constraints.txt"]


def test_pin_of_a_dependency_of_a_dependency_adds_a_line(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(), "requirements.txt": "fastapi==0.115.0\npydantic==2.9.2"},
    )
    copy, change = apply_to(
        repo, Pin("pydantic", ">=2.12.0", (Requirement("pydantic-core", ">=2.41.1"),)), tmp_path
    )
    assert (copy / "requirements.txt").read_text() == (
        "fastapi==0.115.0\npydantic>=2.12.0\npydantic-core>=2.41.1\n"
    )
    assert change.summary == "pydantic>=2.12.0 and pydantic-core>=2.41.1"
    assert "add pydantic-core>=2.41.1 to requirements.txt" in change.instructions


def test_diff_applies_with_git_apply(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(), "requirements.txt": "fastapi==0.115.0\npydantic==2.9.2"},
    )
    copy, change = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    target = tmp_path / "target"
    shutil.copytree(repo, target)
    patch = tmp_path / "fix.patch"
    patch.write_text(change.diff())
    subprocess.run(["git", "apply", str(patch)], cwd=target, check=True, capture_output=True)
    assert (target / "requirements.txt").read_text() == (copy / "requirements.txt").read_text()


def test_pin_rewrites_pyproject_project_dependencies(tmp_path: Path) -> None:
    pyproject = textwrap.dedent(
        """\
        [project]
        name = "app"
        version = "1"
        dependencies = [
            "fastapi==0.115.0",
            'pydantic==2.9.2',
        ]
        """
    )
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint("pip install ."), "pyproject.toml": pyproject},
    )
    copy, _ = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    assert "'pydantic>=2.12.0'," in (copy / "pyproject.toml").read_text()


def test_pin_adds_a_transitive_pin_to_pyproject_dependencies(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "app"\nversion = "1"\ndependencies = ["pydantic==2.9.2"]\n'
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint("pip install ."), "pyproject.toml": pyproject}
    )
    copy, _ = apply_to(repo, Pin("pydantic-core", ">=2.41.1"), tmp_path)
    assert tomllib is not None
    data = tomllib.loads((copy / "pyproject.toml").read_text())
    assert data["project"]["dependencies"] == ["pydantic-core>=2.41.1", "pydantic==2.9.2"]


POETRY_PROJECT = textwrap.dedent(
    """\
    [tool.poetry]
    name = "app"

    [tool.poetry.dependencies]
    python = "^3.11"
    pydantic = "2.9.2"
    fastapi = {version = "0.115.0", extras = ["standard"]}
    """
)


@pytest.mark.parametrize(
    ("pin", "line"),
    [
        (Pin("pydantic", ">=2.12.0"), 'pydantic = ">=2.12.0"\n'),
        (Pin("fastapi", ">=0.120.0"), 'fastapi = {version = ">=0.120.0", extras = ["standard"]}\n'),
    ],
)
def test_pin_rewrites_a_poetry_dependency(tmp_path: Path, pin: Pin, line: str) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint("poetry install"), "pyproject.toml": POETRY_PROJECT},
    )
    copy, change = apply_to(repo, pin, tmp_path)
    text = (copy / "pyproject.toml").read_text()
    assert line in text
    changed = [t for t in change.diff().splitlines()[2:] if t[:1] in "+-"]
    assert len(changed) == 2 and changed[0].startswith(f"-{pin.package} = ")
    assert changed[1] == f"+{line.rstrip()}"


def test_pin_in_the_build_command_changes_the_command(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint("pip install fastapi==0.115.0 'pydantic==2.9.2'")},
    )
    copy, change = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    assert change.options.build_command == "pip install fastapi==0.115.0 'pydantic>=2.12.0'"
    assert change.files == ()
    assert "buildCommand:" in change.instructions


def test_pin_in_a_build_script_rewrites_the_script_and_keeps_its_mode(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint("./build.sh"),
            "build.sh": "#!/bin/sh\nset -e\npip install --only-binary :all: pydantic==2.9.2\n",
        },
    )
    (repo / "build.sh").chmod(0o755)
    copy, change = apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)
    assert "pip install --only-binary :all: pydantic>=2.12.0\n" in (copy / "build.sh").read_text()
    assert os.stat(copy / "build.sh").st_mode & stat.S_IXUSR
    assert [f.path for f in change.files] == ["build.sh"]


def test_pin_refuses_a_lockfile_build(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "app"\nversion = "1"\ndependencies = ["pydantic==2.9.2"]\n'
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint("uv sync --locked"),
            "pyproject.toml": pyproject,
            "uv.lock": 'version = 1\nrequires-python = ">=3.11"\n',
        },
    )
    with pytest.raises(FixNotApplicable, match=r"uv lock --upgrade-package pydantic"):
        apply_to(repo, Pin("pydantic", ">=2.12.0"), tmp_path)


# -- diff, messages, JSON -----------------------------------------------------------------------


def test_diff_of_a_file_without_final_newline_says_so() -> None:
    text = FileChange("requirements.txt", "a==1", "a==2").diff()
    assert text.endswith(
        "-a==1\n\\ No newline at end of file\n+a==2\n\\ No newline at end of file\n"
    )


def test_messages_say_verified_or_why_not() -> None:
    change = Change("PYTHON_VERSION=3.13.18", "add ...", OPTIONS)
    original = result(diagnosis=diagnosis())
    rebuilt = result(diagnosis=diagnosis(headline="numpy needs distutils"))
    verified = Verification("api", VERIFIED, original, change=change, result=result("succeeded"))
    assert verified.message == "verified: the build passes with PYTHON_VERSION=3.13.18"
    assert verified.passed
    failing = Verification("api", STILL_FAILS, original, change=change, result=rebuilt)
    assert failing.message == "not verified: still fails: numpy needs distutils"
    assert not failing.passed
    assert "none has an action" in Verification("api", NO_ACTION, original).message
    not_applied = Verification("api", NOT_APPLIED, original, reason="uv.lock pins it")
    assert not_applied.message == "not verified: the fix could not be applied: uv.lock pins it"
    assert Verification("api", NOT_NEEDED, result("succeeded")).passed


def test_json_names_the_status_the_fix_and_the_rebuild() -> None:
    fix = Fix("Use Python 3.13", "d", SetEnv("PYTHON_VERSION", "3.13.18"), True)
    change = Change("PYTHON_VERSION=3.13.18", "add ...", OPTIONS)
    original = result(diagnosis=diagnosis(fix))
    data = Verification("api", VERIFIED, original, fix, 1, change, result("succeeded")).to_dict()
    assert data["status"] == "verified" and data["verified"] is True
    assert data["original"] == {
        "outcome": "failed",
        "class": "rust-readonly-cargo",
        "headline": "pydantic-core has no wheel",
    }
    assert data["fix"]["action"] == {
        "kind": "set-env",
        "key": "PYTHON_VERSION",
        "value": "3.13.18",
    }
    assert data["result"]["outcome"] == "succeeded"
    assert data["change"]["summary"] == "PYTHON_VERSION=3.13.18"

"""Nothing outside the repo is read through it, and no message quotes what it could not read.

A repo render-sim is pointed at may hold symbolic links to the host's files (`render.yaml ->
/etc/shadow`), a tracked directory replaced by a link to a host directory, or a requirements
file that includes `-r /etc/shadow`. Each is refused (or left out) without reading the file, and
no error message prints its content. The "host" here is a directory beside the repo holding a
marker that must never show up.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from simulator.config import source
from simulator.config.blueprint import find_blueprint
from simulator.config.build_command import read_service_plan
from simulator.config.python_version import choose_python
from simulator.errors import ConfigurationError
from simulator.render.target import Target

HOST_SECRET = "root:$6$hostOnlyShadowLine4711"
PYTHON_WEB = """\
services:
  - type: web
    name: web
    runtime: python
    buildCommand: pip install -r requirements.txt
    startCommand: gunicorn app:app
"""


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A host directory outside the repo, with a file render-sim must never read."""
    directory = tmp_path / "host"
    directory.mkdir()
    (directory / "shadow").write_text(f"{HOST_SECRET}\n", encoding="utf-8")
    return directory


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    directory = tmp_path / "repo"
    directory.mkdir()
    return directory


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def refused(call: object, *args: object) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def shows(error: ConfigurationError) -> str:
    return f"{error} {error.hint}"


def test_tracked_directory_replaced_by_a_link_to_the_host_is_not_copied(
    repo: Path, host: Path
) -> None:
    (repo / "conf").mkdir()
    (repo / "conf" / "shadow").write_text("committed\n")
    (repo / "main.py").write_text("print('app')\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    (repo / "conf" / "shadow").unlink()
    (repo / "conf").rmdir()
    (repo / "conf").symlink_to(host, target_is_directory=True)
    files = source.list_files(repo)
    assert files == ("main.py",)
    assert HOST_SECRET.encode() not in source.archive(repo, files)


def test_tracked_link_is_copied_as_a_link_not_as_what_it_points_at(repo: Path, host: Path) -> None:
    (repo / "shadow").symlink_to(host / "shadow")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    assert source.list_files(repo) == ("shadow",)
    assert HOST_SECRET.encode() not in source.archive(repo, ("shadow",))


def test_blueprint_linked_to_a_host_file_is_refused_without_reading_it(
    repo: Path, host: Path
) -> None:
    (host / "render.yaml").write_text(f"services: [{HOST_SECRET}\n", encoding="utf-8")
    (repo / "render.yaml").symlink_to(host / "render.yaml")
    error = refused(find_blueprint, repo)
    assert error.where is not None and error.where.file == "render.yaml"
    assert "symbolic link" in str(error) and "would not resolve either" in str(error)
    assert HOST_SECRET not in shows(error)


def test_blueprint_linked_inside_the_repo_is_read(repo: Path) -> None:
    (repo / "deploy").mkdir()
    (repo / "deploy" / "render.yaml").write_text(PYTHON_WEB)
    (repo / "render.yaml").symlink_to("deploy/render.yaml")
    assert find_blueprint(repo) == repo / "render.yaml"


def test_python_version_file_linked_to_a_host_file_is_refused_without_reading_it(
    repo: Path, host: Path
) -> None:
    (repo / ".python-version").symlink_to(host / "shadow")
    error = refused(choose_python, {}, repo)
    assert error.where is not None and error.where.file == ".python-version"
    assert "would not resolve either" in str(error)
    assert HOST_SECRET not in shows(error)


def test_python_version_file_that_is_not_a_version_is_named_by_line_not_quoted(
    repo: Path,
) -> None:
    (repo / ".python-version").write_text(f"# pinned\n{HOST_SECRET}\n")
    error = refused(choose_python, {}, repo)
    assert error.where is not None and (error.where.file, error.where.line) == (
        ".python-version",
        2,
    )
    assert HOST_SECRET not in shows(error)


def test_python_version_variable_that_is_not_a_version_is_not_quoted(repo: Path) -> None:
    error = refused(choose_python, {"PYTHON_VERSION": HOST_SECRET}, repo)
    assert "must provide a major, minor, and patch version" in str(error)
    assert HOST_SECRET not in shows(error)


def test_runtime_txt_linked_to_a_host_file_is_not_read(repo: Path, host: Path) -> None:
    (repo / "runtime.txt").symlink_to(host / "shadow")
    choice = choose_python({}, repo)
    warning = next(w for w in choice.warnings if "runtime.txt" in w)
    assert "outside the repository" in warning
    assert HOST_SECRET not in " ".join(choice.warnings)


def test_runtime_txt_that_is_not_a_version_is_described_not_quoted(repo: Path) -> None:
    (repo / "runtime.txt").write_text(f"{HOST_SECRET}\n")
    choice = choose_python({}, repo)
    assert any("not python-X.Y.Z" in w for w in choice.warnings), choice.warnings
    assert HOST_SECRET not in " ".join(choice.warnings)


def plan_of(repo: Path, command: str) -> object:
    return read_service_plan(repo, repo, command, {}, Target("3.13.4"))


def test_requirements_include_of_a_host_path_is_refused_without_reading_it(
    repo: Path, host: Path
) -> None:
    (repo / "requirements.txt").write_text(f"flask==3.0.0\n-r {host / 'shadow'}\n")
    error = refused(plan_of, repo, "pip install -r requirements.txt")
    assert error.where is not None and str(error.where) == "requirements.txt:2"
    assert "outside the repository" in str(error)
    assert HOST_SECRET not in shows(error)


def test_requirements_include_leading_out_of_the_repo_by_dots_is_refused(
    repo: Path, host: Path
) -> None:
    (repo / "requirements.txt").write_text("-r ../host/shadow\n")
    error = refused(plan_of, repo, "pip install -r requirements.txt")
    assert "outside the repository" in str(error)
    assert HOST_SECRET not in shows(error)


def test_requirements_file_linked_to_a_host_file_is_refused_without_reading_it(
    repo: Path, host: Path
) -> None:
    (repo / "requirements.txt").symlink_to(host / "shadow")
    error = refused(plan_of, repo, "pip install -r requirements.txt")
    assert "symbolic link" in str(error) and "would not resolve either" in str(error)
    assert HOST_SECRET not in shows(error)


def test_uv_lock_linked_to_a_host_file_is_refused_without_reading_it(
    repo: Path, host: Path
) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    (repo / "uv.lock").symlink_to(host / "shadow")
    from simulator.config.lockfiles import read_uv_lock

    error = refused(lambda: read_uv_lock(repo / "uv.lock", "uv.lock", Target("3.13.4"), repo=repo))
    assert HOST_SECRET not in shows(error)


def test_build_script_outside_the_repo_is_not_read(repo: Path, host: Path) -> None:
    (host / "build.sh").write_text(f"pip install -r {host / 'shadow'}\n")
    (repo / "requirements.txt").write_text("flask==3.0.0\n")
    plan = plan_of(repo, "bash ../host/build.sh")
    notes = " ".join(plan.notes)  # type: ignore[attr-defined]
    assert "outside the repository: not read" in notes
    assert HOST_SECRET not in notes


def test_requirement_line_that_cannot_be_parsed_is_named_not_quoted(repo: Path) -> None:
    (repo / "requirements.txt").write_text(f"flask==3.0.0\n{HOST_SECRET} extra words\n")
    error = refused(plan_of, repo, "pip install -r requirements.txt")
    assert error.where is not None and str(error.where) == "requirements.txt:2"
    assert HOST_SECRET not in shows(error)

"""The build-command lint: one finding per way a build command misleads, each read with pip's
own option parser (simulator.config.pip_options), and shown by `plan` and `check`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from index_fixture import LocalIndex
from rich.console import Console

from simulator.check.preflight import check_repo
from simulator.config.pip_options import PipUsageError, parse_install
from simulator.diagnose.actions import SetRootDir
from simulator.diagnose.diagnosis import BuildCommand, SetEnv
from simulator.plan.build_plan import make_plan
from simulator.plan.lint import Lint, LintInput, lint
from simulator.plan.models import Options
from simulator.report.check_view import print_check
from simulator.report.console import print_plan

OPTIONS = Options(probe_network=False, created=date(2026, 3, 1))


def lints(
    tmp_path: Path,
    command: str,
    files: dict[str, str] | None = None,
    *,
    root_dir: str = "",
    env: dict[str, str] | None = None,
    newest_pip: str | None = "26.0.1",
) -> list[Lint]:
    files = {"requirements.txt": "flask\n", **(files or {})} if files is None else files
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    given = LintInput(
        tmp_path, root_dir, command, env or {}, sorted(files), "3.14.3", "default", newest_pip
    )
    return lint(given)


def codes(found: list[Lint]) -> list[str]:
    return [item.code for item in found]


def one(found: list[Lint], code: str) -> Lint:
    (item,) = [i for i in found if i.code == code]
    return item


# -- pip's own reading --------------------------------------------------------------------------


def test_pip_reads_only_binary_all_as_a_package_named_all() -> None:
    assert parse_install(["--only-binary=all", "-r", "r.txt"]).only_binary == {"all"}
    assert parse_install(["--only-binary", ":all:", "x"]).only_binary == {":all:"}


def test_pip_reads_an_abbreviated_option_as_the_whole_one() -> None:
    assert parse_install(["--only-bin=all", "x"]).names_only_binary_all()


def test_pip_refuses_an_unknown_option() -> None:
    with pytest.raises(PipUsageError, match="no such option: --bogus"):
        parse_install(["--bogus"])


# -- one finding per item -----------------------------------------------------------------------


def test_only_binary_all_is_a_package_named_all(tmp_path: Path) -> None:
    item = one(
        lints(tmp_path, "pip install --only-binary=all -r requirements.txt"), "only-binary-all"
    )
    assert 'names a package called "all"' in item.message
    assert item.action == BuildCommand("pip install --only-binary=:all: -r requirements.txt")


def test_only_binary_with_the_special_all_is_not_flagged(tmp_path: Path) -> None:
    found = lints(tmp_path, "pip install --only-binary :all: -r requirements.txt")
    assert "only-binary-all" not in codes(found)


def test_no_compile_only_stops_pyc_files(tmp_path: Path) -> None:
    item = one(lints(tmp_path, "pip install --no-compile -r requirements.txt"), "no-compile")
    assert ".pyc" in item.message and "does not stop a source build" in item.message


def test_no_cache_dir_does_not_stop_a_source_build(tmp_path: Path) -> None:
    item = one(lints(tmp_path, "pip install --no-cache-dir -r requirements.txt"), "no-cache-dir")
    assert "does not stop a source build" in item.message


def test_cd_into_the_root_directory_it_already_is(tmp_path: Path) -> None:
    found = lints(
        tmp_path,
        "cd backend && pip install -r requirements.txt",
        {"backend/requirements.txt": "flask\n"},
        root_dir="backend",
    )
    item = one(found, "cd-into-root-dir")
    assert item.severity == "error"
    assert item.action == BuildCommand("pip install -r requirements.txt")


def test_cd_into_a_real_subfolder_is_fine(tmp_path: Path) -> None:
    found = lints(
        tmp_path,
        "cd api && pip install -r requirements.txt",
        {"backend/api/requirements.txt": "flask\n"},
        root_dir="backend",
    )
    assert codes(found) == []


def test_unpinned_pip_upgrade_changes_pip_under_you(tmp_path: Path) -> None:
    command = "pip install --upgrade pip && pip install -r requirements.txt"
    item = one(lints(tmp_path, command), "unpinned-pip-upgrade")
    assert item.action == BuildCommand(
        "pip install --upgrade pip==26.0.1 && pip install -r requirements.txt"
    )


def test_a_pinned_pip_upgrade_is_fine(tmp_path: Path) -> None:
    command = "python -m pip install -U pip==26.0.1 && pip install -r requirements.txt"
    assert "unpinned-pip-upgrade" not in codes(lints(tmp_path, command))


def test_requirements_file_missing_from_the_service_root_points_at_its_folder(
    tmp_path: Path,
) -> None:
    found = lints(
        tmp_path, "pip install -r requirements.txt", {"backend/requirements.txt": "flask\n"}
    )
    item = one(found, "missing-path")
    assert item.message.startswith("the requirements file requirements.txt does not exist")
    assert item.action == SetRootDir("backend")


def test_misspelled_requirements_file_gets_the_near_name(tmp_path: Path) -> None:
    found = lints(tmp_path, "pip install -r requirement.txt")
    assert "did you mean requirements.txt?" in one(found, "missing-path").fix


def test_cargo_home_workaround_keeps_the_source_build(tmp_path: Path) -> None:
    found = lints(
        tmp_path,
        "export CARGO_HOME=/opt/render/project/.cargo && pip install -r requirements.txt",
    )
    assert "the Rust source build still happens" in one(found, "cargo-home-workaround").message


def test_rustup_home_in_the_service_env_is_the_same_workaround(tmp_path: Path) -> None:
    found = lints(
        tmp_path, "pip install -r requirements.txt", env={"RUSTUP_HOME": "/opt/render/rustup"}
    )
    assert one(found, "cargo-home-workaround").where == "the service's environment"


def test_runtime_txt_is_not_read_by_render(tmp_path: Path) -> None:
    found = lints(
        tmp_path,
        "pip install -r requirements.txt",
        {"requirements.txt": "flask\n", "runtime.txt": "python-3.11.9\n"},
    )
    assert one(found, "runtime-txt").action == SetEnv("PYTHON_VERSION", "3.11.9")


def test_docker_cannot_run_in_the_native_build(tmp_path: Path) -> None:
    found = lints(tmp_path, "docker build -t app .")
    assert one(found, "docker-in-native-build").severity == "error"


def test_pip_in_a_build_script_is_read_with_its_line(tmp_path: Path) -> None:
    script = "#!/bin/sh\nset -e\npip install --only-binary=all -r requirements.txt\n"
    found = lints(tmp_path, "./build.sh", {"requirements.txt": "flask\n", "build.sh": script})
    item = one(found, "only-binary-all")
    assert item.where == "build.sh:3" and item.action is None


# -- shown by plan and check --------------------------------------------------------------------

LINTED = textwrap.dedent(
    """\
    services:
      - type: web
        name: app
        runtime: python
        buildCommand: pip install --upgrade pip && pip install --only-binary=all --no-compile -r requirements.txt
        startCommand: python app.py
    """
)


@pytest.fixture
def linted_repo(tmp_path: Path) -> Path:
    (tmp_path / "render.yaml").write_text(LINTED)
    (tmp_path / "requirements.txt").write_text("tinydep==1.0\n")
    return tmp_path


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("tinydep", "1.0")
    index.add("pip", "26.0.1")
    with index.serve() as url:
        yield url


def test_plan_shows_the_lint_with_its_fix(linted_repo: Path) -> None:
    console = Console(record=True, width=400)
    print_plan(make_plan(linted_repo, OPTIONS), console)
    text = console.export_text()
    assert 'names a package called "all"' in text
    assert "fix: write `--only-binary=:all:`" in text
    assert "`--no-compile` only stops pip writing .pyc files" in text


def test_check_shows_the_lint_with_its_fix(linted_repo: Path, index_url: str) -> None:
    report = check_repo(linted_repo, OPTIONS, index_url=index_url)
    console = Console(record=True, width=400)
    print_check(report, console)
    text = console.export_text()
    assert 'names a package called "all"' in text
    assert "pin the version you tested: `pip install --upgrade pip==26.0.1`" in text
    assert report.exit_code == 0  # warnings: the build itself installs from wheels


def test_check_no_longer_says_only_binary_all_makes_pip_fail(
    linted_repo: Path, index_url: str
) -> None:
    (service,) = check_repo(linted_repo, OPTIONS, index_url=index_url).services
    assert not any("will fail rather than build" in note for note in service.notes)
    assert any('names a package called "all"' in note for note in service.notes)

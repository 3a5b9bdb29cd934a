"""The classifier on the tricky shapes real logs take, the rule catalogue's validation, and the
fixes it builds (with an in-memory package index: no network)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from simulator.diagnose.catalogue import RULES_PATH, RuleCatalogueError, load_rules
from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import (
    FAILURE_CLASSES,
    DiagnosisContext,
    Pin,
    PythonVersionFile,
    Requirement,
    SetEnv,
)
from simulator.diagnose.scan import ScannedLog, required_literal
from simulator.diagnose.text import normalise_text as normalise
from simulator.errors import RenderSimError
from simulator.index.client import PackageIndex
from simulator.index.listing import DistFile
from simulator.report.diagnosis_view import diagnosis_to_json, print_diagnosis

RENDER_VERSIONS = {"3.14": "3.14.3", "3.13": "3.13.4", "3.12": "3.12.11", "3.11": "3.11.13"}

# A Render build of a pydantic-core sdist with the 3.14.3 default (shape of the corpus logs).
RENDER_CARGO = """\
==> Cloning from https://github.com/example/app
==> Using Python version 3.14.3 (default)
==> Docs on specifying a Python version: https://render.com/docs/python-version
==> Running build command 'pip install -r requirements.txt'...
Collecting fastapi==0.111.0 (from -r requirements.txt (line 1))
  Downloading fastapi-0.111.0-py3-none-any.whl.metadata (25 kB)
Collecting pydantic==2.9.2 (from -r requirements.txt (line 2))
  Downloading pydantic-2.9.2-py3-none-any.whl.metadata (149 kB)
Collecting pydantic-core==2.23.4 (from pydantic==2.9.2->-r requirements.txt (line 2))
  Downloading pydantic_core-2.23.4.tar.gz (402 kB)
  Preparing metadata (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error
  × Preparing metadata (pyproject.toml) did not run successfully.
  ╰─> [14 lines of output]
      error: failed to create directory `/usr/local/cargo/registry/cache/index.crates.io-1949cf8c6b5b557f`

      Caused by:
        Read-only file system (os error 30)
      💥 maturin failed
        Caused by: Cargo metadata failed. Does your crate compile with `cargo build`?
      [end of output]
error: metadata-generation-failed
× Encountered error while generating package metadata.
╰─> See above for output.
==> Build failed 😞
"""


def _lines(diagnosis_text: str) -> list[str]:
    return diagnosis_text.splitlines()


# -- normalisation ------------------------------------------------------------------------------


def test_prefixes_and_colours_are_stripped_but_lines_are_kept() -> None:
    raw = (
        "2025-09-30T15:24:41.906116331Z ==> Uploading build...\r\n"
        "#12 2.185 error: externally-managed-environment\r\n"
        "5.628   error: subprocess-exited-with-error\r\n"
        "Apr 18 05:56:26 PM  info: syncing channel updates\r\n"
        "\x1b[31mERROR: No matching distribution found for foo\x1b[0m\r\n"
        "3.026\r\n"
        "#8 ERROR: process did not complete\r\n"
    )
    assert normalise(raw).split("\n") == [
        "==> Uploading build...",
        "error: externally-managed-environment",
        "  error: subprocess-exited-with-error",
        "info: syncing channel updates",
        "ERROR: No matching distribution found for foo",
        "",
        "ERROR: process did not complete",
        "",
    ]


def test_version_like_text_at_line_start_is_not_taken_for_a_prefix() -> None:
    assert normalise("2.18.4 is the version\n") == "2.18.4 is the version\n"


def test_required_literal_is_the_longest_mandatory_run() -> None:
    assert required_literal(r"Could not open requirements file: \[Errno 2\]") == (
        "Could not open requirements file: [Errno 2]"
    )
    assert required_literal(r"fatal error: (?P<m>\S+\.h): No such file") == ": No such file"
    assert required_literal(r"(?:a|b)cdefg?h") == "cdef"
    assert required_literal(r"foo|barbaz") is None


# -- the tricky cases ---------------------------------------------------------------------------


def test_asyncpg_longintrepr_header_is_python_too_new_not_a_missing_library() -> None:
    log = """\
  x86_64-linux-gnu-gcc -pthread -I/usr/include/python3.11 -c asyncpg/pgproto/pgproto.c -o build/temp.linux-x86_64-cpython-311/asyncpg/pgproto/pgproto.o
  asyncpg/pgproto/pgproto.c:223:12: fatal error: longintrepr.h: No such file or directory
  compilation terminated.
  error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1
  × Building wheel for asyncpg (pyproject.toml) did not run successfully.
  ERROR: Failed building wheel for asyncpg
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert diagnosis.package is not None and diagnosis.package.name == "asyncpg"
    assert diagnosis.python is not None and diagnosis.python.version == "3.11"
    assert "longintrepr.h" in diagnosis.explanation


def test_pillow_keyerror_version_is_python_too_new_with_the_requested_version() -> None:
    log = """\
2.733 Collecting Pillow==10.2.0 (from -r requirements.txt (line 15))
2.740   Downloading pillow-10.2.0.tar.gz (46.2 MB)
5.628       Traceback (most recent call last):
5.628         File "/usr/local/lib/python3.13/site-packages/pip/_vendor/pyproject_hooks/_in_process/_in_process.py", line 389, in <module>
5.628         File "<string>", line 28, in get_version
5.628       KeyError: '__version__'
5.628       [end of output]
5.713 ERROR: Failed to build 'Pillow' when getting requirements to build wheel
ERROR: failed to solve: process "/bin/sh -c pip install --no-cache-dir --user -r requirements.txt" did not complete successfully: exit code: 1
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert (diagnosis.package.name, diagnosis.package.version) == ("Pillow", "10.2.0")  # type: ignore[union-attr]
    assert diagnosis.python is not None and diagnosis.python.version == "3.13"


def test_pydantic_core_forwardref_names_the_crate_built_from_the_pip_dir() -> None:
    log = """\
      error: failed to run custom build command for `pydantic-core v2.14.5 (/tmp/pip-install-b5vc2ac_/pydantic-core_206942d230b04fd198db7a77a33b901f)`
        cargo:rustc-cfg=Py_3_12
        cargo:rustc-cfg=Py_3_13
        TypeError: ForwardRef._evaluate() missing 1 required keyword-only argument: 'recursive_guard'
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert str(diagnosis.package) == "pydantic-core 2.14.5"
    assert diagnosis.python is not None
    assert (diagnosis.python.version, diagnosis.python.source) == ("3.13", "cargo-cfg")


def test_decisive_line_need_not_be_the_last_one() -> None:
    log = RENDER_CARGO + "[notice] A new release of pip is available: 25.3 -> 26.1.2\n" * 3
    assert classify(log).failure_class == "rust-readonly-cargo"


def test_render_paste_with_timestamps_keeps_original_line_numbers() -> None:
    stamped = "".join(
        f"2026-03-01T10:00:{n:02d}.123456789Z {line}\n"
        for n, line in enumerate(RENDER_CARGO.splitlines())
    )
    diagnosis = classify("Menu\n" + stamped)
    assert diagnosis.failure_class == "rust-readonly-cargo"
    assert str(diagnosis.package) == "pydantic-core 2.23.4"
    assert diagnosis.python is not None
    assert diagnosis.python.to_dict() == {
        "version": "3.14.3",
        "source": "render-log",
        "line": 3,
        "selected_by": "default",
    }
    cargo = next(e for e in diagnosis.evidence if "failed to create directory" in e.text)
    assert cargo.line == 16
    assert not cargo.text.startswith("2026")


def test_buildkit_prefixed_docker_log_is_classified() -> None:
    log = """\
 > [spamtrap-system_backend 10/10] RUN pip3 install --upgrade pip:
#12 2.185 error: externally-managed-environment
#12 2.185
#12 2.185 × This environment is externally managed
#12 2.185 ╰─> To install Python packages system-wide, try apt install
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "externally-managed-environment"
    assert diagnosis.evidence[0].line == 2
    assert diagnosis.evidence[0].text == "error: externally-managed-environment"


def test_crlf_and_ansi_colours_do_not_hide_the_failure() -> None:
    log = (
        "\x1b[1mCollecting openbb==2.0.0\x1b[0m\r\n"
        "\x1b[31mERROR: Could not find a version that satisfies the requirement openbb==2.0.0 "
        "(from versions: none)\x1b[0m\r\n"
        "\x1b[31mERROR: No matching distribution found for openbb==2.0.0\x1b[0m\r\n"
    )
    diagnosis = classify(log)
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "openbb 2.0.0"
    assert all("\x1b" not in e.text and "\r" not in e.text for e in diagnosis.evidence)


def test_uv_build_failure_names_the_distribution_uv_built() -> None:
    log = """\
$ uv pip install -p 3.13 'numpy<1.20'
Resolved 1 package in 62ms
  × Failed to build `numpy==1.19.5`
  ├─▶ The build backend returned an error
  ╰─▶ Call to `setuptools.build_meta:__legacy__.build_wheel()` failed (exit status: 1)
      [stderr]
        File "/home/u/.cache/uv/builds-v0/.tmpi4bgKb/lib/python3.13/site-packages/setuptools/__init__.py", line 9, in <module>
          import distutils.core
      ModuleNotFoundError: No module named 'distutils'
      hint: `distutils` was removed from the standard library in Python 3.12.
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "distutils-removed"
    assert str(diagnosis.package) == "numpy 1.19.5"


def test_old_pip_command_errored_out_format_is_understood() -> None:
    log = """\
Collecting psycopg2==2.8.6
  Downloading psycopg2-2.8.6.tar.gz (383 kB)
    ERROR: Command errored out with exit status 1:
     command: /opt/render/project/src/.venv/bin/python -c 'import sys, setuptools; sys.argv[0] = '"'"'/tmp/pip-install-nzrbyhqd/psycopg2/setup.py'"'"'' egg_info
         cwd: /tmp/pip-install-nzrbyhqd/psycopg2/
    Complete output (23 lines):
    running egg_info
    Error: pg_config executable not found.
    ----------------------------------------
ERROR: Command errored out with exit status 1: python setup.py egg_info Check the logs for full command output.
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "missing-system-library"
    assert str(diagnosis.package) == "psycopg2 2.8.6"
    assert "psycopg2-binary" in diagnosis.explanation


def test_uv_nested_caused_by_chain_names_the_distribution() -> None:
    log = """\
error: Failed to download and build: pydantic-core==2.18.4
  Caused by: Failed to build: pydantic-core==2.18.4
  Caused by: Build backend failed to determine metadata through `prepare_metadata_for_build_wheel` (exit status: 1)
--- stderr:
error: failed to create directory `/usr/local/cargo/registry/cache/index.crates.io-6f17d22bba15001f`

Caused by:
  Read-only file system (os error 30)
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "rust-readonly-cargo"
    assert str(diagnosis.package) == "pydantic-core 2.18.4"


def test_poetry_install_failure_names_the_locked_package() -> None:
    log = """\
  - Installing anyio (3.7.1)
  - Installing pydantic-core (2.14.6): Failed

PEP517 build of a dependency failed
    | Running `maturin pep517 build-wheel -i /tmp/tmpcui6iir_/.venv/bin/python --compatibility off`
    | 💥 maturin failed
    |   Caused by: Cargo metadata failed. Do you have cargo in your PATH?
    |   Caused by: No such file or directory (os error 2)
Note: This error originates from the build backend, and is likely not a problem with poetry but one of the following issues with pydantic-core (2.14.6)
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "rust-toolchain-missing"
    assert str(diagnosis.package) == "pydantic-core 2.14.6"


def test_poetry_solver_conflict_names_the_pinning_package() -> None:
    log = """\
Because no versions of fastapi-casbin-auth match >1.4.0,<2.0.0
 and fastapi-casbin-auth (1.4.0) depends on pydantic (2.11.7), fastapi-casbin-auth (>=1.4.0,<2.0.0) requires pydantic (2.11.7).
So, because my project depends on both pydantic (>=2.11.10,<3.0.0) and fastapi-casbin-auth (^1.4.0), version solving failed.
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "resolver-conflict"
    assert str(diagnosis.package) == "fastapi-casbin-auth 1.4.0"
    assert "pydantic==2.11.7" in diagnosis.headline


def test_nested_caused_by_read_only_cargo_home_beats_maturin_failed() -> None:
    log = """\
      💥 maturin failed
        Caused by: Cargo metadata failed. Does your crate compile with `cargo build`?
        Caused by: `cargo metadata` exited with an error:
      error: failed to open: /usr/local/cargo/registry/.package-cache

      Caused by:
        Read-only file system (os error 30)
"""
    assert classify(log).failure_class == "rust-readonly-cargo"


def test_build_failure_beats_the_package_the_user_asked_for() -> None:
    diagnosis = classify(RENDER_CARGO)
    assert diagnosis.package is not None
    assert (diagnosis.package.name, diagnosis.package.version) == ("pydantic-core", "2.23.4")


def test_tarball_name_gives_hyphenated_name_and_version() -> None:
    log = """\
  Using cached pydantic_core-2.18.4.tar.gz (385 kB)
  Preparing metadata (pyproject.toml) ... error
      Cargo, the Rust package manager, is not installed or is not on PATH.
"""
    diagnosis = classify(log)
    assert diagnosis.package is not None
    assert (diagnosis.package.name, diagnosis.package.version) == ("pydantic-core", "2.18.4")


def test_unknown_failure_names_the_failing_step_its_owner_and_its_error() -> None:
    log = """\
Collecting widgets==1.0
Building wheel for widgets (setup.py): started
  running build_ext
  widgets/core.c: warning: unused variable
error: the frobnicator refused to frobnicate
Traceback (most recent call last):
  File "setup.py", line 3, in <module>
FrobError: no frob
ERROR: Failed building wheel for widgets
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "unknown"
    assert str(diagnosis.package) == "widgets 1.0"
    assert diagnosis.headline == (
        "The build of widgets 1.0 failed while building its wheel: FrobError: no frob"
    )
    assert diagnosis.fixes == ()
    lines = {e.line for e in diagnosis.evidence}
    assert {5, 6, 8, 9} <= lines
    assert 4 not in lines and 1 not in lines


def test_unknown_without_a_failing_step_says_no_known_cause() -> None:
    diagnosis = classify("something odd happened\nerror: the frobnicator refused\n")
    assert diagnosis.failure_class == "unknown"
    assert diagnosis.package is None
    assert diagnosis.headline.startswith("render-sim found no known cause")


def test_successful_install_is_not_reported_as_a_failure() -> None:
    diagnosis = classify(
        "Collecting six\nSuccessfully installed six-1.16.0\n==> Build successful 🎉\n"
    )
    assert diagnosis.failure_class == "unknown"
    assert diagnosis.evidence == ()
    assert "No failure" in diagnosis.headline


def test_huge_download_counts_only_when_the_log_ends_there() -> None:
    download = "Downloading torch-1.13.1-cp37-cp37m-manylinux1_x86_64.whl (887.5 MB)\n"
    assert classify(download).failure_class == "build-timeout"
    later = (
        download + "Installing collected packages: torch\nSuccessfully installed torch-1.13.1\n" * 4
    )
    assert classify(later).failure_class == "unknown"


def test_huge_lines_are_scanned_without_blowing_up() -> None:
    line = "/usr/local/cargo/ " * 60_000 + "Read-only file system"  # ~1 MB, one line
    started = time.perf_counter()
    diagnosis = classify("x\n" + line + "\n")
    assert time.perf_counter() - started < 5
    assert diagnosis.failure_class == "rust-readonly-cargo"
    assert all(len(e.text) < 2100 for e in diagnosis.evidence)


def test_scan_finds_lines_by_needle_not_by_regex_on_every_line() -> None:
    log = ScannedLog("a\nb Read-only file system (os error 30)\nc\n")
    matcher = load_rules().rule("readonly-system-site-packages").context[0]
    assert [hit.text for hit in log.hits(matcher)] == ["b Read-only file system (os error 30)"]
    assert log.line_numbers([hit.start for hit in log.hits(matcher)]) == {2: 2}


# -- fixes --------------------------------------------------------------------------------------


def test_rust_fixes_without_index_are_ordered_and_unchecked() -> None:
    diagnosis = classify(RENDER_CARGO, DiagnosisContext(render_versions=RENDER_VERSIONS))
    titles = [fix.title for fix in diagnosis.fixes]
    assert len(titles) == 3
    assert diagnosis.fixes[0].action == SetEnv("PYTHON_VERSION", "3.13.4")
    assert "pydantic" in titles[1] and diagnosis.fixes[1].action is None
    assert diagnosis.fixes[2].action == SetEnv("CARGO_HOME", "/opt/render/project/.cargo")
    assert "only moves the failure to a slow source build" in diagnosis.fixes[2].detail
    assert not any(fix.checked for fix in diagnosis.fixes)
    assert diagnosis.root_cause == "Python too new for the package's wheels"


def test_without_render_versions_the_fix_writes_python_version_file_and_says_x() -> None:
    diagnosis = classify(RENDER_CARGO)
    top = diagnosis.fixes[0]
    assert top.action == PythonVersionFile("3.13")
    assert "3.13.x" in top.detail


def test_runtime_txt_in_context_gives_a_warning_and_a_fix_note() -> None:
    context = DiagnosisContext(runtime_txt_exists=True, runtime_txt="python-3.11.9\n")
    diagnosis = classify(RENDER_CARGO, context)
    assert any("Render ignores runtime.txt (python-3.11.9)" in w for w in diagnosis.warnings)
    assert "Render ignores runtime.txt: use PYTHON_VERSION or .python-version" in (
        diagnosis.fixes[0].detail
    )


def test_default_python_gives_a_pinning_warning() -> None:
    assert any("default Python 3.14.3" in w for w in classify(RENDER_CARGO).warnings)


def test_context_python_is_used_when_the_log_has_none() -> None:
    log = "      Cargo, the Rust package manager, is not installed or is not on PATH.\n"
    context = DiagnosisContext(python_version="3.13.4", python_source="PYTHON_VERSION")
    python = classify(log, context).python
    assert python is not None
    assert (python.version, python.source, python.selected_by) == (
        "3.13.4",
        "context",
        "PYTHON_VERSION",
    )


class MemoryIndex(PackageIndex):
    """A PackageIndex whose network answers come from dictionaries."""

    def __init__(
        self,
        tmp_path: Path,
        releases: dict[str, dict[str, list[str]]],
        requires: dict[tuple[str, str], list[str]],
    ) -> None:
        super().__init__("https://index.invalid", cache_dir=tmp_path)
        self.releases = releases
        self.requires = requires

    def _fetch_project(self, canonical: str) -> dict[str, tuple[DistFile, ...]]:
        return {
            version: tuple(DistFile(name) for name in files)
            for version, files in self.releases.get(canonical, {}).items()
        }

    def _fetch_requires_online(self, canonical: str, version: str) -> list[str] | None:
        return self.requires.get((canonical, version))


def _wheel(name: str, version: str, tag: str) -> str:
    return f"{name}-{version}-{tag}-{tag}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


@pytest.fixture
def pydantic_index(tmp_path: Path) -> MemoryIndex:
    core = {
        "2.23.4": [_wheel("pydantic_core", "2.23.4", "cp313"), "pydantic_core-2.23.4.tar.gz"],
        "2.33.2": [_wheel("pydantic_core", "2.33.2", "cp313")],
        "2.35.0": [_wheel("pydantic_core", "2.35.0", "cp314")],
        "2.41.1": [
            _wheel("pydantic_core", "2.41.1", "cp313"),
            _wheel("pydantic_core", "2.41.1", "cp314"),
        ],
    }
    pins = {"2.9.2": "2.23.4", "2.11.7": "2.33.2", "2.12.0": "2.41.1"}
    return MemoryIndex(
        tmp_path,
        {
            "pydantic-core": core,
            "pydantic": {v: [f"pydantic-{v}-py3-none-any.whl"] for v in pins},
        },
        {("pydantic", v): [f"pydantic-core=={c}"] for v, c in pins.items()},
    )


def test_rust_fixes_with_index_pin_python_then_upgrade_the_parent(
    pydantic_index: MemoryIndex,
) -> None:
    context = DiagnosisContext(render_versions=RENDER_VERSIONS)
    diagnosis = classify(RENDER_CARGO, context, pydantic_index)
    older, upgrade, cargo = diagnosis.fixes
    assert older.action == SetEnv("PYTHON_VERSION", "3.13.4") and older.checked
    assert upgrade.action == Pin("pydantic", ">=2.12.0") and upgrade.checked
    assert "2.41.1" in upgrade.detail
    assert not cargo.checked and "not recommended" in cargo.title


def test_direct_child_pin_is_raised_together_with_the_parent(pydantic_index: MemoryIndex) -> None:
    log = RENDER_CARGO.replace(
        "(from pydantic==2.9.2->-r requirements.txt (line 2))",
        "(from -r requirements.txt (line 3))",
    )
    upgrade = classify(log, None, pydantic_index).fixes[1]
    assert upgrade.action == Pin(
        "pydantic", ">=2.12.0", also=(Requirement("pydantic-core", ">=2.41.1"),)
    )


def test_unreachable_index_leaves_fixes_unchecked_without_raising(tmp_path: Path) -> None:
    index = PackageIndex("http://127.0.0.1:9", cache_dir=tmp_path, timeout=1)
    diagnosis = classify(RENDER_CARGO, None, index)
    assert [fix.checked for fix in diagnosis.fixes] == [False, False, False]
    assert "could not check" in diagnosis.fixes[1].detail


def test_conflict_fix_upgrades_the_package_that_excludes_the_request(tmp_path: Path) -> None:
    log = """\
ERROR: Cannot install -r requirements.txt (line 3) and sqlalchemy==2.0.20 because these package versions have conflicting dependencies.
The conflict is caused by:
    The user requested sqlalchemy==2.0.20
    sqlmodel 0.0.8 depends on SQLAlchemy<=1.4.41 and >=1.4.17
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""
    versions = ["0.0.8", "0.0.9", "0.0.10", "0.0.11", "0.0.12"]
    index = MemoryIndex(
        tmp_path,
        {"sqlmodel": {v: [f"sqlmodel-{v}-py3-none-any.whl"] for v in versions}},
        {
            ("sqlmodel", "0.0.8"): ["SQLAlchemy<=1.4.41,>=1.4.17"],
            ("sqlmodel", "0.0.9"): ["SQLAlchemy<=2.0.11,>=2.0.0"],
            ("sqlmodel", "0.0.10"): ["SQLAlchemy<=2.0.11,>=2.0.0"],
            ("sqlmodel", "0.0.11"): ["SQLAlchemy<2.1.0,>=2.0.0"],
            ("sqlmodel", "0.0.12"): ["SQLAlchemy<2.1.0,>=2.0.0"],
        },
    )
    diagnosis = classify(log, None, index)
    assert str(diagnosis.package) == "sqlmodel 0.0.8"
    first, align = diagnosis.fixes[:2]
    assert first.action == Pin("sqlmodel", ">=0.0.11") and first.checked
    assert align.action == Pin("SQLAlchemy", "<=1.4.41,>=1.4.17")


def test_local_torch_version_points_at_the_pytorch_index() -> None:
    log = "ERROR: No matching distribution found for torch==1.13.0+cu116\n"
    fix = classify(log).fixes[0]
    assert fix.action == SetEnv("PIP_EXTRA_INDEX_URL", "https://download.pytorch.org/whl/cu116")


def test_readonly_system_install_rewrites_the_build_command() -> None:
    log = (
        "failed to remove file `/usr/local/lib/python3.11/site-packages/crcmod-1.7.dist-info/INSTALLER`\n"
        "  Caused by: Read-only file system (os error 30)\n"
    )
    context = DiagnosisContext(build_command="uv pip sync --system requirements.txt")
    diagnosis = classify(log, context)
    assert str(diagnosis.package) == "crcmod 1.7"
    assert diagnosis.fixes[0].action is not None
    assert diagnosis.fixes[0].action.to_dict() == {
        "kind": "build-command",
        "value": "uv pip sync requirements.txt",
    }


# -- output ------------------------------------------------------------------------------------


def test_to_dict_has_the_documented_keys() -> None:
    data = diagnosis_to_json(classify(RENDER_CARGO))
    assert set(data) == {
        "class",
        "root_cause",
        "package",
        "python",
        "evidence",
        "headline",
        "explanation",
        "fixes",
        "warnings",
        "phase",
        "step",
    }
    assert data["phase"] == "build"
    assert data["step"] == "the build of pydantic-core 2.23.4 (preparing its metadata)"
    assert data["package"] == {"name": "pydantic-core", "version": "2.23.4"}
    assert set(data["fixes"][0]) == {"title", "detail", "action", "checked"}
    assert data["fixes"][0]["action"] == {"kind": "python-version-file", "value": "3.13"}


def test_printed_diagnosis_shows_log_text_verbatim() -> None:
    log = "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'\n"
    console = Console(record=True, width=200)
    print_diagnosis(classify(log), console)
    text = console.export_text()
    assert "[Errno 2]" in text
    assert "requirements-file-missing" in text
    assert re.search(r"1 │ ERROR: Could not open requirements file", text)


# -- the catalogue ------------------------------------------------------------------------------


def test_packaged_catalogue_covers_every_class_once() -> None:
    catalogue = load_rules()
    assert sorted(rule.failure_class for rule in catalogue.rules) == sorted(FAILURE_CLASSES)
    assert all(rule.sources for rule in catalogue.rules)
    assert catalogue.parents["pydantic-core"] == "pydantic"


def _broken_catalogue(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_bad_regex_is_reported_with_the_rule_name(tmp_path: Path) -> None:
    path = _broken_catalogue(
        tmp_path, '- pattern: "ResolutionImpossible"', '- pattern: "Resolution(Impossible"'
    )
    with pytest.raises(RuleCatalogueError, match=r"rule 'resolver-conflict' signal #1: bad regex"):
        load_rules(path)


def test_unknown_rule_key_is_reported_with_the_rule_name(tmp_path: Path) -> None:
    path = _broken_catalogue(
        tmp_path, "    priority: 55\n", "    priority: 55\n    severity: high\n"
    )
    with pytest.raises(
        RuleCatalogueError, match=r"rule 'out-of-memory': unknown key\(s\) \['severity'\]"
    ):
        load_rules(path)


def test_unknown_class_is_rejected(tmp_path: Path) -> None:
    path = _broken_catalogue(tmp_path, "- class: build-timeout", "- class: slow-build")
    with pytest.raises(RuleCatalogueError, match="unknown class 'slow-build'"):
        load_rules(path)


def test_pattern_without_a_needle_is_rejected(tmp_path: Path) -> None:
    path = _broken_catalogue(tmp_path, '- pattern: "oom_kill_process"', '- pattern: "oom|kill"')
    with pytest.raises(RuleCatalogueError, match="rule 'out-of-memory' signal #4: .*needles"):
        load_rules(path)


def test_unknown_template_field_is_rejected(tmp_path: Path) -> None:
    path = _broken_catalogue(tmp_path, 'headline: "pip refused', 'headline: "{pakage} pip refused')
    with pytest.raises(
        RuleCatalogueError, match=r"rule 'externally-managed-environment'.*\['pakage'\]"
    ):
        load_rules(path)


def test_catalogue_errors_are_render_sim_errors(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nrules: [\n", encoding="utf-8")
    with pytest.raises(RenderSimError, match="invalid YAML"):
        load_rules(path)


# -- disk full ----------------------------------------------------------------------------------


def test_pip_out_of_disk_space_is_disk_full_with_no_cache_dir_first() -> None:
    log = (
        "==> Running build command 'pip install -r requirements.txt'...\n"
        "Collecting torch==2.3.0 (from -r requirements.txt (line 1))\n"
        "  Downloading torch-2.3.0-cp312-cp312-manylinux1_x86_64.whl (779.1 MB)\n"
        "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n"
        "==> Build failed 😞\n"
    )
    context = DiagnosisContext(build_command="pip install -r requirements.txt")
    diagnosis = classify(log, context)
    assert diagnosis.failure_class == "disk-full"
    assert "out of disk space" in diagnosis.headline and "torch 2.3.0" in diagnosis.headline
    assert any("No space left on device" in e.text for e in diagnosis.evidence)
    first = diagnosis.fixes[0]
    assert first.action is not None
    assert first.action.to_dict() == {
        "kind": "build-command",
        "value": "pip install --no-cache-dir -r requirements.txt",
    }
    assert any("build artefacts" in fix.title for fix in diagnosis.fixes)


def test_disk_full_in_a_source_build_beats_the_compile_errors_after_it() -> None:
    # A full /tmp during a Rust build: what follows ENOSPC are its symptoms.
    log = (
        "  Building wheel for tokenizers (pyproject.toml): started\n"
        "  error: failed to write /tmp/pip-install-x1/tokenizers_0a1b/target/release/deps/libx.rlib:"
        " No space left on device (os error 28)\n"
        "  error: could not compile `tokenizers` (lib) due to 1 previous error\n"
        "  💥 maturin failed\n"
        "  ERROR: Failed building wheel for tokenizers\n"
    )
    diagnosis = classify(log)
    assert diagnosis.failure_class == "disk-full"
    assert diagnosis.package is not None and diagnosis.package.name == "tokenizers"


def test_enospc_by_name_is_disk_full_and_the_fix_without_pip_sets_pip_no_cache_dir() -> None:
    log = "npm ERR! code ENOSPC\nnpm ERR! syscall write\n"
    diagnosis = classify(log, DiagnosisContext(build_command="poetry install"))
    assert diagnosis.failure_class == "disk-full"
    assert diagnosis.fixes[0].action == SetEnv("PIP_NO_CACHE_DIR", "1")


def test_old_setuptools_backend_that_cannot_import_is_distutils_removed() -> None:
    log = """\
==> Using Python version 3.13.18 via environment variable PYTHON_VERSION
Collecting numpy==1.24.4 (from -r requirements.txt (line 1))
  Downloading numpy-1.24.4.tar.gz (10.9 MB)
  Installing build dependencies: started
  Installing build dependencies: finished with status 'done'
  Getting requirements to build wheel: started
ERROR: Exception:
Traceback (most recent call last):
pip._vendor.pyproject_hooks._impl.BackendUnavailable: Cannot import 'setuptools.build_meta'
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "distutils-removed"
    assert diagnosis.package is not None and diagnosis.package.name == "numpy"
    assert "distutils" in diagnosis.headline


def test_a_release_pinned_by_its_parent_is_not_repinned_to_the_newest_wheel() -> None:
    log = """\
==> Using Python version 3.14.3 (default)
Collecting pydantic==2.9.2 (from -r requirements.txt (line 1))
  Downloading pydantic-2.9.2-py3-none-any.whl.metadata (149 kB)
ERROR: Could not find a version that satisfies the requirement pydantic-core==2.23.4 (from pydantic) (from versions: 2.35.0, 2.41.1, 2.41.4)
ERROR: No matching distribution found for pydantic-core==2.23.4
"""
    diagnosis = classify(log)
    assert diagnosis.failure_class == "no-matching-distribution"
    assert diagnosis.package is not None and diagnosis.package.name == "pydantic-core"
    for fix in diagnosis.fixes:
        assert not (isinstance(fix.action, Pin) and fix.action.package == "pydantic-core"), fix

    direct = log.replace("(from pydantic)", "(from -r requirements.txt (line 2))")
    pins = [f.action for f in classify(direct).fixes if isinstance(f.action, Pin)]
    assert (
        pins and pins[0].specifier == "==2.41.4"
    )  # a direct pin may move to a release with wheels
    bare = log.replace(" (from pydantic)", "")  # "(from versions: ...)" names no parent
    bare_pins = [f.action for f in classify(bare).fixes if isinstance(f.action, Pin)]
    assert bare_pins and bare_pins[0].specifier == "==2.41.4"

"""Layer 3: the causes the catalogue names from what the tools print, read inside the failing
step; the culprit of kills, time limits and conflicts; a failure after a successful build.

The snippets use the tools' own wording (pip, uv, Poetry, maturin, gcc, bash, Render);
package names are made up so no rule can know them."""

from __future__ import annotations

from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import Diagnosis, SetEnv


def diagnose(text: str) -> Diagnosis:
    return classify(text)


# -- no wheel, no match --------------------------------------------------------------------


def test_uv_no_wheel_with_a_matching_abi_tag_is_no_matching_distribution() -> None:
    diagnosis = diagnose(
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because gizmo==3.1 has no wheels with a matching Python ABI tag (e.g., `cp314`)"
        " and you require gizmo==3.1, we can conclude that your requirements are unsatisfiable.\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_uv_locked_distribution_without_a_fitting_file_is_no_matching_distribution() -> None:
    diagnosis = diagnose(
        "error: Distribution `gizmo==3.1 @ registry+https://pypi.org/simple` can't be installed "
        "because it doesn't have a source distribution or wheel for the current platform\n"
        "\n"
        "hint: You're using CPython 3.14 (`cp314`), but `gizmo` (v3.1) only has wheels with the "
        "following Python ABI tag: `cp313`\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_uv_requires_python_excluding_the_interpreter_is_no_matching_distribution() -> None:
    diagnosis = diagnose(
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because the current Python version (3.14.3) does not satisfy Python>=3.8,<3.12 "
        "and gizmo==3.1 depends on Python>=3.8,<3.12, we can conclude that gizmo==3.1 cannot be "
        "used.\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_poetry_without_installation_candidates_is_no_matching_distribution() -> None:
    diagnosis = diagnose(
        "  - Installing gizmo (3.1): Failed\n"
        "\n"
        "  RuntimeError\n"
        "\n"
        "  Unable to find installation candidates for gizmo (3.1)\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_a_packages_own_python_guard_is_python_too_new() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==0.40.1\n"
        "  Downloading gizmo-0.40.1.tar.gz (120 kB)\n"
        "  Preparing metadata (setup.py): finished with status 'error'\n"
        "      RuntimeError: Cannot install on Python version 3.14.8; only versions >=3.10,<3.14 "
        "are supported.\n"
    )
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert str(diagnosis.package) == "gizmo 0.40.1"
    assert ">=3.10,<3.14" in diagnosis.explanation


def test_a_message_wrapped_at_the_terminal_width_is_read_as_one_line() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==0.40.1\n"
        "  Preparing metadata (setup.py): finished with status 'error'\n"
        "      RuntimeError: Cannot install on Python version 3.14.8; only versions\n"
        "      >=3.10,<3.14 are supported.\n"
    )
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert ">=3.10,<3.14" in diagnosis.explanation


def test_the_texts_name_the_installer_whose_step_failed() -> None:
    diagnosis = diagnose(
        "  × Failed to build `gadget==2.0`\n"
        "  ├─▶ The build backend returned an error\n"
        "  ╰─▶ Call to `maturin.build_wheel` failed (exit status: 1)\n"
        "\n"
        "      [stderr]\n"
        "      Cargo, the Rust package manager, is not installed or is not on PATH.\n"
    )
    assert diagnosis.failure_class == "rust-toolchain-missing"
    assert diagnosis.explanation.startswith("uv found no wheel of gadget 2.0")


# -- Rust -----------------------------------------------------------------------------------


def test_maturin_fetching_rust_that_fails_is_rust_toolchain_missing() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.0\n"
        "  Preparing metadata (pyproject.toml): finished with status 'error'\n"
        "      Rust not found, installing into a temporary directory\n"
        '        File "/tmp/pip-build-env-x/overlay/lib/python3.14/site-packages/puccinialin/'
        '_setup.py", line 60, in setup_rust\n'
        "      httpx.ConnectError: [Errno -3] Temporary failure in name resolution\n"
    )
    assert diagnosis.failure_class == "rust-toolchain-missing"
    assert str(diagnosis.package) == "gizmo 1.0"


def test_maturin_fetching_rust_is_not_the_cause_when_the_build_fails_later() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.0\n"
        "  Preparing metadata (pyproject.toml): finished with status 'error'\n"
        "      Rust not found, installing into a temporary directory\n"
        "      💥 maturin failed\n"
        "        Caused by: Failed to parse Cargo.toml\n"
    )
    assert diagnosis.failure_class == "unknown"


# -- memory, time, disk ---------------------------------------------------------------------


def test_cc1plus_killed_by_the_kernel_is_out_of_memory() -> None:
    diagnosis = diagnose(
        "  Building wheel for gizmo (setup.py): started\n"
        "    c++: internal compiler error: Killed (program cc1plus)\n"
        "    Please submit a full bug report,\n"
    )
    assert diagnosis.failure_class == "out-of-memory"
    assert diagnosis.package is not None and diagnosis.package.name == "gizmo"


def test_oom_names_the_step_running_when_the_kill_came_not_an_earlier_package() -> None:
    diagnosis = diagnose(
        "==> Running build command 'pip install -r requirements.txt && python prepare.py'...\n"
        "Collecting six==1.16.0\n"
        "  Downloading six-1.16.0-py2.py3-none-any.whl (11 kB)\n"
        "Successfully installed six-1.16.0\n"
        "==> Build failed 😞\n"
        "Ran out of memory (used over 8GB) while building your code.\n"
    )
    assert diagnosis.failure_class == "out-of-memory"
    assert diagnosis.package is None
    assert "the build command" in diagnosis.headline


def test_oom_names_the_package_being_built_when_the_kill_came() -> None:
    diagnosis = diagnose(
        "Collecting small==1.0\n"
        "Building wheels for collected packages: gizmo\n"
        "  Building wheel for gizmo (pyproject.toml): started\n"
        "==> Build failed 😞\n"
        "Ran out of memory (used over 8GB) while building your code.\n"
    )
    assert diagnosis.failure_class == "out-of-memory"
    assert diagnosis.package is not None and diagnosis.package.name == "gizmo"


def test_a_time_limit_names_the_package_being_built() -> None:
    diagnosis = diagnose(
        "  Building wheel for gizmo (pyproject.toml): started\n"
        "==> Build failed 😞\n"
        "Build timed out after 120 minutes.\n"
    )
    assert diagnosis.failure_class == "build-timeout"
    assert diagnosis.package is not None and diagnosis.package.name == "gizmo"


def test_a_recovered_read_timeout_is_not_a_timeout() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.0\n"
        "WARNING: Retrying (Retry(total=4, connect=None, read=None)) after connection broken by "
        "'ReadTimeoutError(\"HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read "
        "timed out.\")': /packages/gizmo-1.0.tar.gz\n"
        "  Downloading gizmo-1.0.tar.gz (5 kB)\n"
        "Successfully installed gizmo-1.0\n"
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'dev.txt'\n"
    )
    assert diagnosis.failure_class == "requirements-file-missing"


def test_uv_network_timeout_is_a_build_timeout_of_the_download() -> None:
    diagnosis = diagnose(
        "  × Failed to download `gizmo==3.1`\n"
        "  ├─▶ Failed to extract archive: gizmo-3.1-py3-none-any.whl\n"
        "  ╰─▶ Failed to download distribution due to network timeout. Try increasing "
        "UV_HTTP_TIMEOUT (current value: 30s).\n"
    )
    assert diagnosis.failure_class == "build-timeout"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_no_space_left_on_device_is_disk_full() -> None:
    diagnosis = diagnose(
        "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n"
    )
    assert diagnosis.failure_class == "disk-full"


def test_pip_build_subprocess_ending_with_minus_9_ran_out_of_memory() -> None:
    diagnosis = diagnose(
        "  Building wheel for gadget (pyproject.toml): finished with status 'error'\n"
        "  error: subprocess-exited-with-error\n"
        "\n"
        "  × Building wheel for gadget (pyproject.toml) did not run successfully.\n"
        "  │ exit code: -9\n"
        "  ╰─> [1 lines of output]\n"
        "      running build_ext\n"
        "      [end of output]\n"
    )
    assert diagnosis.failure_class == "out-of-memory"
    assert str(diagnosis.package) == "gadget"


def test_github_actions_job_past_its_time_limit_is_a_timeout() -> None:
    diagnosis = diagnose(
        "2026-01-01T00:00:00.0000000Z   Building wheel for gadget (pyproject.toml): started\n"
        "##[error]The job running on runner GitHub Actions 2 has exceeded the maximum execution "
        "time of 10 minutes.\n"
    )
    assert diagnosis.failure_class == "build-timeout"
    assert str(diagnosis.package) == "gadget"


# -- conflicts -------------------------------------------------------------------------------


def test_a_conflict_block_cut_before_resolution_impossible_is_a_conflict() -> None:
    diagnosis = diagnose(
        "ERROR: Cannot install gizmo==2.0 and widget==1.0 because these package versions have\n"
        "\n"
        "The conflict is caused by:\n"
        "    The user requested gizmo==2.0\n"
        "    widget 1.0 depends on gizmo<2\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"
    assert str(diagnosis.package) == "widget 1.0"


def test_three_way_conflict_is_blamed_on_a_listed_party_the_user_pinned() -> None:
    diagnosis = diagnose(
        "Collecting alpha==1.0 (from -r requirements.txt (line 1))\n"
        "Collecting beta==2.0 (from -r requirements.txt (line 2))\n"
        "Collecting helper==0.3 (from alpha==1.0->-r requirements.txt (line 1))\n"
        "ERROR: Cannot install -r requirements.txt (line 1), -r requirements.txt (line 2) and "
        "core==3.0 because these package versions have conflicting dependencies.\n"
        "\n"
        "The conflict is caused by:\n"
        "    The user requested core==3.0\n"
        "    helper 0.3 depends on core<3\n"
        "    beta 2.0 depends on core<3\n"
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"
    assert str(diagnosis.package) == "beta 2.0"


# -- distutils and pkg_resources ------------------------------------------------------------


def test_truncated_impimporter_traceback_is_distutils_removed() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.2\n"
        "  Getting requirements to build wheel ... error\n"
        '        File "/tmp/pip-build-env-x/overlay/lib/python3.12/site-packages/pkg_resources/'
        '__init__.py", line 2172, in <module>\n'
        "          register_finder(pkgutil.ImpImporter, find_on_path)\n"
    )
    assert diagnosis.failure_class == "distutils-removed"
    assert str(diagnosis.package) == "gizmo 1.2"


def test_truncated_distutils_import_traceback_is_distutils_removed() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.2\n"
        "  Getting requirements to build wheel ... error\n"
        '        File "/tmp/pip-build-env-x/overlay/lib/python3.13/site-packages/setuptools/'
        '__init__.py", line 10, in <module>\n'
        "          import distutils.core\n"
    )
    assert diagnosis.failure_class == "distutils-removed"


def test_missing_pkg_resources_is_distutils_removed_with_its_own_cause_and_fix() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.2\n"
        "  Getting requirements to build wheel: finished with status 'error'\n"
        "      ModuleNotFoundError: No module named 'pkg_resources'\n"
    )
    assert diagnosis.failure_class == "distutils-removed"
    assert "pkg_resources" in diagnosis.root_cause
    assert "setuptools 82" in diagnosis.headline
    assert any("PIP_CONSTRAINT" in fix.title for fix in diagnosis.fixes)


BACKEND_UNAVAILABLE = (
    "==> Using Python version {python} (default)\n"
    "Collecting gadget==2.0\n"
    "  Getting requirements to build wheel: finished with status 'error'\n"
    "  × Getting requirements to build wheel did not run successfully.\n"
    "  ╰─> [1 lines of output]\n"
    "      pip._vendor.pyproject_hooks._impl.BackendUnavailable: Cannot import "
    "'setuptools.build_meta'\n"
)


def test_setuptools_unimportable_on_a_python_without_distutils_is_distutils_removed() -> None:
    diagnosis = diagnose(BACKEND_UNAVAILABLE.format(python="3.13.4"))
    assert diagnosis.failure_class == "distutils-removed"
    assert str(diagnosis.package) == "gadget 2.0"


def test_setuptools_unimportable_on_a_python_with_distutils_is_not_distutils_removed() -> None:
    diagnosis = diagnose(BACKEND_UNAVAILABLE.format(python="3.11.9"))
    assert diagnosis.failure_class != "distutils-removed"


# -- TLS, scripts, commands ----------------------------------------------------------------


def test_pip_certificate_verify_failed_is_tls_interception_not_a_missing_release() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==1.0\n"
        "  WARNING: Retrying (Retry(total=0)) after connection broken by 'SSLError(SSLCertVerific"
        "ationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
        "certificate in certificate chain'))': /simple/gizmo/\n"
        "ERROR: Could not find a version that satisfies the requirement gizmo==1.0 (from versions:"
        " none)\n"
        "ERROR: No matching distribution found for gizmo==1.0\n"
    )
    assert diagnosis.failure_class == "tls-interception"
    assert diagnosis.package is not None and diagnosis.package.name == "gizmo"


def test_uv_invalid_peer_certificate_is_tls_interception() -> None:
    diagnosis = diagnose(
        "  × Failed to fetch: `https://pypi.org/simple/gizmo/`\n"
        "  ╰─▶ invalid peer certificate: UnknownIssuer\n"
    )
    assert diagnosis.failure_class == "tls-interception"


def test_a_build_script_without_its_execute_bit_is_named_with_both_fixes() -> None:
    diagnosis = diagnose(
        "==> Running build command './build.sh'...\n"
        "bash: line 1: ./build.sh: Permission denied\n"
        "==> Build failed 😞\n"
        "Exited with status 126 while building your code.\n"
    )
    assert diagnosis.failure_class == "build-script-not-executable"
    assert "git update-index --chmod=+x ./build.sh" in diagnosis.fixes[0].title
    assert diagnosis.fixes[1].action is not None
    assert diagnosis.fixes[1].action.to_dict()["value"] == "bash ./build.sh"


def test_docker_on_the_native_runtime_is_command_not_found() -> None:
    diagnosis = diagnose(
        "==> Running build command 'docker build -t app .'...\n"
        "bash: line 1: docker: command not found\n"
        "==> Build failed 😞\n"
    )
    assert diagnosis.failure_class == "command-not-found"
    assert "docker" in diagnosis.headline
    assert any("Docker service" in fix.title for fix in diagnosis.fixes)


def test_a_missing_tool_inside_a_package_build_is_the_packages_missing_library() -> None:
    diagnosis = diagnose(
        "Collecting gizmo==2.2\n"
        "  Getting requirements to build wheel: finished with status 'error'\n"
        "      /bin/sh: 1: pkg-config: not found\n"
    )
    assert diagnosis.failure_class == "missing-system-library"


# -- after a successful build -----------------------------------------------------------------


RUNTIME = (
    "==> Running build command 'pip install -r requirements.txt'...\n"
    "Collecting gizmo==2.0.1 (from -r requirements.txt (line 1))\n"
    "Successfully installed gizmo-2.0.1\n"
    "==> Build successful 🎉\n"
    "==> Deploying...\n"
    "==> Running 'gunicorn app:app'\n"
)


def test_an_app_crash_after_a_successful_build_is_a_runtime_crash() -> None:
    diagnosis = diagnose(
        RUNTIME + "Traceback (most recent call last):\n"
        '  File "/opt/render/project/src/.venv/lib/python3.13/site-packages/gizmo/helpers.py",'
        " line 16, in <module>\n"
        "    from other.urls import url_quote\n"
        "ImportError: cannot import name 'url_quote' from 'other.urls'\n"
        "==> Exited with status 1\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-crash", "runtime")
    assert str(diagnosis.package) == "gizmo 2.0.1"
    assert "ImportError" in diagnosis.headline


def test_killed_after_a_successful_build_is_the_instance_not_the_build() -> None:
    diagnosis = diagnose(RUNTIME + "Killed\n==> Exited with status 137\n")
    assert diagnosis.failure_class == "runtime-out-of-memory"
    assert diagnosis.fixes[0].action == SetEnv("WEB_CONCURRENCY", "1")


def test_a_start_command_ending_with_status_137_ran_out_of_memory() -> None:
    diagnosis = diagnose(RUNTIME + "==> Exited with status 137\n")
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-out-of-memory", "runtime")


def test_bash_reporting_its_child_killed_is_the_instance_out_of_memory() -> None:
    diagnosis = diagnose(
        RUNTIME + "bash: line 1:    42 Killed                  python3 worker.py\n"
        "==> Exited with status 1\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-out-of-memory", "runtime")


def test_a_start_command_ending_with_status_1_is_not_out_of_memory() -> None:
    diagnosis = diagnose(RUNTIME + "==> Exited with status 1\n")
    assert diagnosis.failure_class != "runtime-out-of-memory"


def test_a_successful_build_and_start_is_no_failure() -> None:
    diagnosis = diagnose(RUNTIME + "==> Your service is live 🎉\n")
    assert (diagnosis.failure_class, diagnosis.phase) == ("unknown", "none")


# -- a missing *-config helper ----------------------------------------------------------------

_HELPER_BUILD = """\
Collecting frobnicate==2.1
  Downloading frobnicate-2.1.tar.gz (78 kB)
Building wheels for collected packages: frobnicate
  Building wheel for frobnicate (pyproject.toml) ... error
  error: subprocess-exited-with-error

  × Building wheel for frobnicate (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [6 lines of output]
      running build_ext
      {line}
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for frobnicate
"""


def test_a_config_helper_python_could_not_run_is_a_missing_system_library() -> None:
    diagnosis = diagnose(
        _HELPER_BUILD.format(line="error: [Errno 2] No such file or directory: 'frob-config'")
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert str(diagnosis.package) == "frobnicate 2.1"
    assert "frob-config" in diagnosis.headline + diagnosis.explanation


def test_a_config_helper_the_shell_could_not_find_is_a_missing_system_library() -> None:
    diagnosis = diagnose(_HELPER_BUILD.format(line="sh: 1: zork-config: not found"))
    assert diagnosis.failure_class == "missing-system-library"
    assert "zork-config" in diagnosis.headline + diagnosis.explanation


def test_clangs_file_not_found_names_the_missing_header() -> None:
    line = "src/frob.c:3:10: fatal error: 'frob/core.h' file not found"
    diagnosis = diagnose(_HELPER_BUILD.format(line=line))
    assert diagnosis.failure_class == "missing-system-library"
    assert "frob/core.h" in diagnosis.headline + diagnosis.explanation


def test_cmake_finding_no_c_compiler_is_a_missing_compiler() -> None:
    diagnosis = diagnose(
        "  × Failed to build `frobnicate==2.1`\n"
        "  ├─▶ The build backend returned an error\n"
        "  ╰─▶ Call to `scikit_build_core.build.build_wheel` failed (exit status: 1)\n"
        "\n"
        "      [stderr]\n"
        "      CMake Error at CMakeLists.txt:3 (project):\n"
        "        No CMAKE_C_COMPILER could be found.\n"
        "      CMake Error: CMAKE_C_COMPILER not set, after EnableLanguage\n"
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert str(diagnosis.package) == "frobnicate 2.1"
    assert "C compiler" in diagnosis.headline

"""Layer 3: the same causes in the other wordings the tools print them in (older releases, other
locales, uv beside pip, Poetry beside pip), and the culprit named by pip's last word.

The snippets use the tools' own wording; package names are made up so no rule can know them."""

from __future__ import annotations

import pytest

from simulator.diagnose.classifier import classify

_PIP_BUILD = """\
Collecting frobnicate==2.1
  Downloading frobnicate-2.1.tar.gz (78 kB)
Building wheels for collected packages: frobnicate
  Building wheel for frobnicate (setup.py) ... error
  ERROR: Command errored out with exit status 1:
  running build_ext
  building 'frobnicate._speedups' extension
  {line}
  ----------------------------------------
  ERROR: Failed building wheel for frobnicate
"""


@pytest.mark.parametrize(
    "errno_text",
    ["No such file or directory", "Arquivo ou diretório inexistente", "没有那个文件或目录"],
)
def test_a_missing_requirements_file_is_read_in_any_locale(errno_text: str) -> None:
    diagnosis = classify(
        f"ERROR: Could not open requirements file: [Errno 2] {errno_text}: 'reqs/base.txt'\n"
    )
    assert diagnosis.failure_class == "requirements-file-missing"
    assert "reqs/base.txt" in diagnosis.headline


def test_uvs_externally_managed_interpreter_is_pep_668() -> None:
    diagnosis = classify(
        "Using Python 3.14.0 environment at: /usr/local/opt/python@3.14\n"
        "error: The interpreter at /usr/local/opt/python@3.14 is externally managed, and"
        " indicates the following:\n"
        "  To install Python packages system-wide, try brew install xyz\n"
    )
    assert diagnosis.failure_class == "externally-managed-environment"


def test_older_uvs_unusable_release_without_wheels_is_no_matching_distribution() -> None:
    diagnosis = classify(
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because gizmo==3.1 is unusable because no wheels are available with a matching"
        " Python implementation and you require gizmo==3.1, we can conclude that the"
        " requirements are unsatisfiable.\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "gizmo 3.1"


def test_uvs_name_not_in_the_registry_is_no_matching_distribution_not_a_conflict() -> None:
    diagnosis = classify(
        "  x No solution found when resolving dependencies:\n"
        "  `-> Because wizzbang was not found in the package registry and you require"
        " wizzbang==1.3.5, we can conclude that your\n"
        "      requirements are unsatisfiable.\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert diagnosis.package is not None and diagnosis.package.name == "wizzbang"


def test_pips_requires_python_check_of_the_project_names_it() -> None:
    diagnosis = classify(
        "Processing /home/me/src/dockyard\n"
        "ERROR: Package 'dockyard-2.1' requires a different Python: 3.8.10 not in '>=3.9'\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert str(diagnosis.package) == "dockyard 2.1"


@pytest.mark.parametrize(
    "line",
    [
        "unable to execute 'gcc': No such file or directory",
        "FileNotFoundError: [Errno 2] No such file or directory: 'x86_64-linux-gnu-gcc'",
        "FileNotFoundError: [Errno 2] No such file or directory: '/usr/bin/cc'",
    ],
)
def test_a_compiler_that_is_not_there_is_a_missing_system_library(line: str) -> None:
    diagnosis = classify(_PIP_BUILD.format(line=line))
    assert diagnosis.failure_class == "missing-system-library"
    assert str(diagnosis.package) == "frobnicate 2.1"


_POETRY_CHEF = """\
  • Installing frobnicate (1.24.4): Failed

  ChefBuildError

  Backend 'setuptools.build_meta:__legacy__' is not available.

  Traceback (most recent call last):
    File "/home/me/.pyenv/versions/{python}/lib/python{minor}/importlib/__init__.py", line 90
      return _bootstrap._gcd_import(name[level:], package, level)
  ModuleNotFoundError: No module named 'setuptools'

  at ~/.local/share/pypoetry/venv/lib/python3.11/site-packages/poetry/installation/chef.py:164
"""


def test_poetrys_unavailable_setuptools_backend_on_312_is_distutils_removed() -> None:
    diagnosis = classify(_POETRY_CHEF.format(python="3.12.1", minor="3.12"))
    assert diagnosis.failure_class == "distutils-removed"
    assert str(diagnosis.package) == "frobnicate 1.24.4"


def test_poetrys_unavailable_setuptools_backend_before_312_is_not_distutils() -> None:
    diagnosis = classify(_POETRY_CHEF.format(python="3.11.9", minor="3.11"))
    assert diagnosis.failure_class != "distutils-removed"


def test_a_tool_renders_build_has_is_not_called_missing_from_render() -> None:
    diagnosis = classify(
        "./manage.sh: 5: poetry: not found\nmake: *** [Makefile:78: serve] Error 127\n"
    )
    assert diagnosis.failure_class == "command-not-found"
    assert "does not exist" not in diagnosis.headline
    assert "Render's native Python build has" in diagnosis.headline


def test_a_tool_render_lacks_is_called_missing_from_render() -> None:
    diagnosis = classify("bash: line 1: docker: command not found\n==> Build failed 😞\n")
    assert diagnosis.failure_class == "command-not-found"
    assert "docker, which does not exist on Render's native runtime" in diagnosis.headline


def test_pips_failed_cleaning_line_names_the_package_whose_build_failed() -> None:
    diagnosis = classify(
        "  error: can't find Rust compiler\n"
        "  ----------------------------------------\n"
        "  Failed cleaning build dir for cryptoblob\n"
        "  Running setup.py bdist_wheel for otherpkg ... done\n"
    )
    assert diagnosis.failure_class == "rust-toolchain-missing"
    assert diagnosis.package is not None and diagnosis.package.name == "cryptoblob"


def test_two_pins_of_one_project_are_the_conflict_and_the_culprit() -> None:
    diagnosis = classify(
        "ERROR: Cannot install Zork==6.0.1 and Zork==6.0.2 because these package versions have"
        " conflicting dependencies.\n\n"
        "The conflict is caused by:\n"
        "    The user requested Zork==6.0.1\n"
        "    The user requested Zork==6.0.2\n\n"
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"
    assert diagnosis.package is not None and diagnosis.package.name == "Zork"
    assert "Zork==6.0.1 and Zork==6.0.2 are both requested" in diagnosis.headline


def test_an_untrusted_index_names_the_requirement_pip_gave_up_on() -> None:
    diagnosis = classify(
        "Could not fetch URL https://pypi.org/simple/pip/: There was a problem confirming the ssl"
        " certificate: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed - skipping\n"
        "Could not fetch URL https://pypi.org/simple/flakey/: There was a problem confirming the"
        " ssl certificate: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed - skipping\n"
        "  Could not find a version that satisfies the requirement flakey (from versions: )\n"
        "No matching distribution found for flakey\n"
    )
    assert diagnosis.failure_class == "tls-interception"
    assert diagnosis.package is not None and diagnosis.package.name == "flakey"


def test_pillows_missing_library_message_is_a_missing_system_library() -> None:
    diagnosis = classify(
        _PIP_BUILD.format(
            line="__main__.RequiredDependencyException: jpeg\n"
            "  The headers or library files could not be found for jpeg,\n"
            "  a required dependency when compiling Pillow from source."
        )
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert "jpeg is missing" in diagnosis.headline


@pytest.mark.parametrize(
    "line",
    [
        "ERROR: Could not install packages due to an EnvironmentError: [Errno 13] Permission"
        " denied: '/usr/local/docs'",
        "ERROR: Could not install packages due to an OSError: [Errno 30] Read-only file system:"
        " '/usr/local/lib/python3.13/site-packages/frob'",
    ],
)
def test_pip_writing_under_usr_is_the_read_only_system_python(line: str) -> None:
    diagnosis = classify(f"Installing collected packages: frob\n{line}\n")
    assert diagnosis.failure_class == "readonly-system-site-packages"
    assert "pip run by the system interpreter" in diagnosis.explanation
    titles = [fix.title for fix in diagnosis.fixes]
    assert "Run the virtualenv's pip" in titles
    assert not any("--system" in title for title in titles)  # pip had no --system to drop


def test_renders_port_scan_timing_out_is_a_failure_to_start_not_a_build() -> None:
    diagnosis = classify(
        "==> No open ports detected, continuing to scan...\n"
        "==> Docs on specifying a port: https://render.com/docs/web-services#port-binding\n"
        "==> Port scan timeout reached, no open ports detected. Bind your service to at least"
        " one port.\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-crash", "runtime")
    assert "never opened a port" in diagnosis.headline
    assert any("$PORT" in fix.title for fix in diagnosis.fixes)


def test_renders_exit_line_of_the_start_command_makes_the_log_a_runtime_one() -> None:
    diagnosis = classify(
        "==> Exited with status 1\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/render/project/src/.venv/lib/python3.13/site-packages/frob/db.py", line'
        " 9, in connect\n"
        "frob.OperationalError: max clients reached\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-crash", "runtime")
    assert diagnosis.package is not None and diagnosis.package.name == "frob"


def test_renders_exit_line_while_building_stays_a_build_failure() -> None:
    diagnosis = classify(
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory:"
        " 'requirements.txt'\n"
        "==> Exited with status 1 while building your code.\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("requirements-file-missing", "build")


def test_poetrys_range_with_an_upper_bound_is_quoted_whole() -> None:
    diagnosis = classify(
        "Because no versions of sio-bridge match >0.4.0,<0.5.0\n"
        " and sio-bridge (0.4.0) depends on pydantic (>=1.9.0,<2.0.0), sio-bridge"
        " (>=0.4.0,<0.5.0) requires pydantic (>=1.9.0,<2.0.0).\n"
        "So, because myapp depends on both pydantic (^2.6.1) and sio-bridge (^0.4.0), version"
        " solving failed.\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"
    assert "pydantic>=1.9.0,<2.0.0" in diagnosis.headline


@pytest.mark.parametrize(
    "line",
    [
        'Command /venv/bin/python -c "import setuptools" install failed with error code 1 in'
        " /venv/build/hdfish",
        'Command "python setup.py egg_info" failed with error code 1 in'
        " /tmp/pip-build-k2f9x1/hdfish/",
    ],
)
def test_old_pips_build_directory_names_the_package(line: str) -> None:
    diagnosis = classify(
        "hdfish/api.h:22:18: fatal error: hdf5.h: No such file or directory\n"
        "compilation terminated.\n"
        "error: command 'gcc' failed with exit status 1\n"
        f"{line}\n"
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert diagnosis.package is not None and diagnosis.package.name == "hdfish"


def test_pips_isolated_build_environment_is_not_a_package_directory() -> None:
    diagnosis = classify(
        '  File "/tmp/pip-build-env-p3fet7vd/overlay/lib/python3.12/site-packages/setuptools/'
        'build_meta.py", line 1, in <module>\n'
        "fatal error: hdf5.h: No such file or directory\n"
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert diagnosis.package is None or diagnosis.package.name != "overlay"

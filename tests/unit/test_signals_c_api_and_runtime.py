"""Layer 3: C-API breakage in the forms compilers print it, Poetry's and PDM's other wordings,
and failures after the build (Render's and Heroku's runtime lines).

The snippets use the tools' own wording; package names are made up so no rule can know them."""

from __future__ import annotations

import pytest

from simulator.diagnose.classifier import classify

_UV_BUILD = """\
  × Failed to build `frobnicate==0.28.0`
  ├─▶ The build backend returned an error
  ╰─▶ Call to `setuptools.build_meta.build_wheel` failed (exit status: 1)

      [stderr]
      running build_ext
      {line}
      error: command '/usr/bin/gcc' failed with exit code 1
"""


@pytest.mark.parametrize(
    "line",
    [
        # gcc in a UTF-8 locale quotes with U+2018/U+2019
        "frob/core.c:1667:39: error: implicit declaration of function"
        " \u2018_PyInterpreterState_GetConfig\u2019",
        "frob/hash.c:3228:12: error: too few arguments to function '_Py_HashDouble'",
        "frob/hash.c:3228:27: error: incompatible type for argument 1 of \u2018_Py_HashDouble\u2019",
    ],
)
def test_gcc_on_a_removed_or_changed_c_api_is_python_too_new(line: str) -> None:
    diagnosis = classify(_UV_BUILD.format(line=line))
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert str(diagnosis.package) == "frobnicate 0.28.0"


def test_an_assignment_to_py_type_is_python_too_new() -> None:
    line = (
        "frob/module.c:921:36: error: lvalue required as left operand of assignment\n"
        "         Py_TYPE(typetable[i].type) = &PyType_Type;"
    )
    diagnosis = classify(_UV_BUILD.format(line=line))
    assert diagnosis.failure_class == "no-wheel-python-too-new"
    assert "Py_TYPE" in diagnosis.explanation


def test_rustc_missing_a_pyo3_ffi_item_is_python_too_new() -> None:
    line = (
        "error[E0425]: cannot find function, tuple struct or tuple variant"
        " `PyUnicode_FromKindAndData` in module `pyo3::ffi`"
    )
    diagnosis = classify(_UV_BUILD.format(line=line))
    assert diagnosis.failure_class == "no-wheel-python-too-new"


def test_no_compiler_on_an_arm_build_is_a_missing_compiler() -> None:
    # fewer releases ship aarch64 wheels: without a compiler the build cannot go on, whatever
    # the Python
    line = (
        "creating build/temp.linux-aarch64-cpython-312/frob\n"
        "      error: command 'gcc' failed: No such file or directory"
    )
    diagnosis = classify(_UV_BUILD.format(line=line))
    assert diagnosis.failure_class == "missing-system-library"


def test_the_docker_fix_for_a_missing_compiler_is_a_valid_apt_command() -> None:
    diagnosis = classify(
        _UV_BUILD.format(line="error: command 'gcc' failed: No such file or directory")
    )
    assert diagnosis.failure_class == "missing-system-library"
    docker = [fix for fix in diagnosis.fixes if "Docker" in fix.title]
    assert docker and "apt-get install -y build-essential " in docker[0].detail


def test_mysqlclients_pkg_config_message_is_a_missing_system_library() -> None:
    diagnosis = classify(
        "Processing triggers for libc-bin (2.31-0ubuntu9.9) ...\n"
        "Collecting mysqlclient\n"
        "  Downloading mysqlclient-2.2.0.tar.gz (89 kB)\n"
        "  Exception: Can not find valid pkg-config name.\n"
        "  Specify MYSQLCLIENT_CFLAGS and MYSQLCLIENT_LDFLAGS env vars manually\n"
    )
    assert diagnosis.failure_class == "missing-system-library"
    assert diagnosis.package is not None and diagnosis.package.name == "mysqlclient"


def test_dpkgs_processing_triggers_is_not_a_package_being_installed() -> None:
    diagnosis = classify(
        "Processing triggers for libc-bin (2.31-0ubuntu9.9) ...\n"
        "frob.c:3:10: fatal error: frob.h: No such file or directory\n"
    )
    assert diagnosis.package is None or diagnosis.package.name != "triggers"


def test_poetrys_explanation_cut_before_its_verdict_is_a_conflict() -> None:
    diagnosis = classify(
        "Because no versions of graphkit match >0.2.1,<0.3.0\n"
        " and graphkit (0.2.1) depends on tenacity (>=8.2.0,<8.4.0), graphkit (>=0.2.1,<0.3.0)"
        " is incompatible with llamacore (>=0.10.65,<0.11.0).\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"


def test_poetrys_exception_name_line_heads_the_message_after_it() -> None:
    diagnosis = classify(
        "  SolverProblemError\n\n"
        "  Because myapp depends on airflowish (2.10.2) which requires Python <3.13,~=3.8,"
        " version solving failed.\n\n"
        "  at ~/.local/pipx/venvs/poetry/lib/python3.12/site-packages/poetry/puzzle/solver.py:160\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"


@pytest.mark.parametrize(
    "line",
    [
        "WARNING: Lockfile is not compatible with PDM",
        "[PdmUsageError]: Lockfile hash doesn't match pyproject.toml, packages may be outdated",
    ],
)
def test_pdms_lock_checks_are_a_lockfile_mismatch(line: str) -> None:
    diagnosis = classify(f"{line}\nPlease run `pdm lock` to update the lock file\n")
    assert diagnosis.failure_class == "lockfile-mismatch"
    assert "PDM" in diagnosis.headline


def test_herokus_memory_quota_error_is_the_instance_running_out_of_memory() -> None:
    diagnosis = classify(
        "2022-01-10T10:58:37.19+00:00 heroku[worker.1]: Process running mem=1024M(200.1%)\n"
        "2022-01-10T10:58:37.19+00:00 heroku[worker.1]: Error R15 (Memory quota vastly exceeded)\n"
        "2022-01-10T10:58:37.20+00:00 heroku[worker.1]: Stopping process with SIGKILL\n"
        "2022-01-10T10:58:37.42+00:00 heroku[worker.1]: Process exited with status 137\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-out-of-memory", "runtime")


def test_a_start_command_not_found_after_an_indented_render_paste_is_a_runtime_failure() -> None:
    diagnosis = classify(
        " ==> Build successful 🎉 \n"
        " ==> Deploying... \n"
        " ==> No open ports detected, continuing to scan... \n"
        " ==> Running 'gunicorn app:app' \n"
        " bash: line 1: gunicorn: command not found \n"
        " ==> Exited with status 127 \n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-crash", "runtime")
    assert "gunicorn" in diagnosis.headline
    assert "Port scan" not in diagnosis.headline  # "No open ports" alone is Render still waiting
    assert diagnosis.fixes[0].title == "Install what the start command runs"


def test_a_crash_in_the_apps_own_code_names_no_package() -> None:
    diagnosis = classify(
        "==> Running 'gunicorn app:app'\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/render/project/src/.venv/lib/python3.13/site-packages/gunicorn/util.py",'
        " line 370, in import_app\n"
        "    mod = importlib.import_module(module)\n"
        '  File "/opt/render/project/src/app.py", line 3, in <module>\n'
        "    import gradiox\n"
        "ModuleNotFoundError: No module named 'gradiox'\n"
        "==> Exited with status 1\n"
    )
    assert (diagnosis.failure_class, diagnosis.phase) == ("runtime-crash", "runtime")
    assert diagnosis.package is None
    assert diagnosis.fixes[0].title == "Add the missing module's distribution to the requirements"


def test_gcc_missing_ob_digit_is_python_too_new() -> None:
    line = (
        "frob/_ws.c:3238:53: error: 'PyLongObject' {aka 'struct _longobject'} has no member"
        " named 'ob_digit'"
    )
    diagnosis = classify(_UV_BUILD.format(line=line))
    assert diagnosis.failure_class == "no-wheel-python-too-new"


def test_a_conflict_party_with_an_environment_marker_is_read_by_its_range() -> None:
    diagnosis = classify(
        "ERROR: Cannot install -r requirements.txt (line 3) and pydanticy==2.7.1 because these"
        " package versions have conflicting dependencies.\n\n"
        "The conflict is caused by:\n"
        "    The user requested pydanticy==2.7.1\n"
        "    fastish 0.111.0 depends on pydanticy!=1.8, <3.0.0 and >=1.7.4\n"
        "    chainy-core 0.2.19 depends on pydanticy<3.0.0 and >=2.7.4;"
        ' python_full_version >= "3.12.4"\n\n'
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n"
    )
    assert diagnosis.failure_class == "resolver-conflict"
    assert str(diagnosis.package) == "chainy-core 0.2.19"


def test_poetrys_exception_inside_a_docker_step_keeps_its_message() -> None:
    diagnosis = classify(
        "Step 7/10 : RUN poetry install --no-interaction\n"
        " ---> Running in 3212599f0a54\n"
        "Installing dependencies from lock file\n\n"
        "  SolverProblemError\n\n"
        "  Because celeryx (5.0.5) depends on pycurly (==7.43.0.5) which doesn't match any"
        " versions, celeryx is forbidden.\n\n"
        "  So, because myapp depends on celeryx (5.0.5), version solving failed.\n"
        "The command '/bin/sh -c poetry install --no-interaction' returned a non-zero code: 1\n"
    )
    assert diagnosis.failure_class == "no-matching-distribution"
    assert diagnosis.package is not None and diagnosis.package.name == "pycurly"

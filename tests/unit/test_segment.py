"""Layer 2: each installer's output read as events, the failing event, and whose it is.

The snippets are in the formats the tools print (pip before 20.3, pip 20.3-24, pip 25+, uv,
Poetry 1.x and 2.x, pdm, pipenv, pipx, Render's own lines); package names are made up."""

from __future__ import annotations

from simulator.diagnose.events import Event
from simulator.diagnose.scan import ScannedLog
from simulator.diagnose.segment import Reading, read_log


def reading(text: str) -> Reading:
    return read_log(ScannedLog(text))


def failing(text: str) -> Event:
    found = reading(text).failing
    assert found is not None
    return found


def test_pip_legacy_command_errored_out_belongs_to_the_collected_package() -> None:
    event = failing(
        "Collecting widgets==1.0\n"
        "  Downloading widgets-1.0.tar.gz (10 kB)\n"
        "    ERROR: Command errored out with exit status 1:\n"
        "     command: /venv/bin/python -c 'import setuptools' egg_info\n"
        "         cwd: /tmp/pip-install-ab12/widgets/\n"
        "    Complete output (3 lines):\n"
        "    Error: frob not found.\n"
        "    ----------------------------------------\n"
        "ERROR: Command errored out with exit status 1: python setup.py egg_info Check the logs\n"
    )
    assert (event.owner, event.version, event.kind) == ("widgets", "1.0", "collect")


def test_pip_before_19_complete_output_block_belongs_to_the_collected_package() -> None:
    event = failing(
        "Collecting widgets\n"
        "  Downloading widgets-2.8.tar.gz (367kB)\n"
        "    Complete output from command python setup.py egg_info:\n"
        "    Error: frob not found.\n"
        "    ----------------------------------------\n"
        'Command "python setup.py egg_info" failed with error code 1 in /tmp/pip-build-x/widgets/\n'
    )
    assert (event.owner, event.version) == ("widgets", "2.8")


def test_pip_box_during_metadata_names_the_step() -> None:
    event = failing(
        "Collecting gadget==2.0 (from -r requirements.txt (line 1))\n"
        "  Downloading gadget-2.0.tar.gz (5 kB)\n"
        "  Installing build dependencies: started\n"
        "  Installing build dependencies: finished with status 'done'\n"
        "  Preparing metadata (pyproject.toml): started\n"
        "  Preparing metadata (pyproject.toml): finished with status 'error'\n"
        "  error: subprocess-exited-with-error\n"
        "  × Preparing metadata (pyproject.toml) did not run successfully.\n"
        "  ╰─> [1 lines of output]\n"
        "      boom\n"
        "      [end of output]\n"
    )
    assert (event.owner, event.step) == ("gadget", "metadata")


def test_pip_tty_box_printed_before_its_status_line_names_its_package() -> None:
    event = failing(
        "Building wheels for collected packages: widgets\n"
        "  error: subprocess-exited-with-error\n"
        "  × Building wheel for widgets (pyproject.toml) did not run successfully.\n"
        "  ╰─> See above for output.\n"
        "  Building wheel for widgets (pyproject.toml) ... error\n"
        "  ERROR: Failed building wheel for widgets\n"
    )
    assert (event.owner, event.step) == ("widgets", "wheel")


def test_pip_build_phase_failure_is_the_first_failed_wheel_not_a_later_one() -> None:
    event = failing(
        "Building wheels for collected packages: first, second\n"
        "  Building wheel for first (pyproject.toml): started\n"
        "  Building wheel for first (pyproject.toml): finished with status 'error'\n"
        "  ERROR: Failed building wheel for first\n"
        "  Building wheel for second (pyproject.toml): started\n"
        "  Building wheel for second (pyproject.toml): finished with status 'error'\n"
        "  ERROR: Failed building wheel for second\n"
        "Failed to build first second\n"
    )
    assert event.owner == "first"


def test_pip_25_summary_names_the_package_when_the_excerpt_has_no_build_line() -> None:
    event = failing(
        "error: failed-wheel-build-for-install\n"
        "\n"
        "× Failed to build installable wheels for some pyproject.toml based projects\n"
        "╰─> widgets\n"
    )
    assert event.owner == "widgets"


def test_a_successful_wheel_build_is_not_the_failing_event() -> None:
    found = reading(
        "  Building wheel for good (pyproject.toml): started\n"
        "  Building wheel for good (pyproject.toml): finished with status 'done'\n"
        "  Created wheel for good: filename=good-1.0-py3-none-any.whl\n"
    )
    assert not [event for event in found.events if event.failed]


def test_an_error_nested_in_an_events_output_is_that_events_failure() -> None:
    found = reading(
        "Collecting gadget==2.0\n"
        "  Installing backend dependencies: finished with status 'error'\n"
        "  × installing backend dependencies for gadget did not run successfully.\n"
        "  ╰─> [3 lines of output]\n"
        "      Looking in indexes: http://index:8000/simple/\n"
        "      ERROR: Could not find a version that satisfies the requirement helper\n"
        "      ERROR: No matching distribution found for helper\n"
        "      [end of output]\n"
    )
    assert found.failing is not None and found.failing.owner == "gadget"
    assert found.failing.end > found.log.data.index(b"No matching distribution found for helper")


def test_a_commands_output_before_its_first_event_belongs_to_the_failure_after_it() -> None:
    found = reading(
        "==> Running build command 'pip install gadget'...\n"
        "  warning: building gadget needs a compiler\n"
        "ERROR: Failed building wheel for gadget\n"
    )
    assert found.failing is not None and found.failing.owner == "gadget"
    assert found.failing.start < found.log.data.index(b"warning:")


def test_uv_error_chain_belongs_to_the_distribution_it_names() -> None:
    event = failing(
        "Resolved 3 packages in 10ms\n"
        "  × Failed to build `gadget==2.0`\n"
        "  ├─▶ The build backend returned an error\n"
        "  ╰─▶ Call to `setuptools.build_meta.build_wheel` failed (exit status: 1)\n"
    )
    assert (event.owner, event.version, event.kind, event.tool) == ("gadget", "2.0", "build", "uv")


def test_uv_download_failure_is_a_download_event() -> None:
    event = failing("  × Failed to download `heavy==1.0`\n  ╰─▶ operation timed out\n")
    assert (event.owner, event.kind) == ("heavy", "download")


def test_old_uv_caused_by_chain_names_the_distribution() -> None:
    event = failing(
        "error: Failed to prepare distributions\n"
        "  Caused by: Failed to fetch wheel: gadget==2.0\n"
        "  Caused by: Build backend failed to determine extra requires\n"
    )
    assert (event.owner, event.version) == ("gadget", "2.0")


def test_uv_ascii_box_is_read_like_the_unicode_one() -> None:
    event = failing(
        "  x Failed to build `gadget==2.0`\n  |-> The build backend returned an error\n"
    )
    assert (event.owner, event.tool) == ("gadget", "uv")


def test_poetry_1_failed_install_line_opens_the_failing_event() -> None:
    event = failing(
        "  - Installing anyio (3.7.1)\n"
        "  - Installing gadget (2.0): Failed\n"
        "\n"
        "  ChefBuildError\n"
        "\n"
        "  Backend subprocess exited when trying to invoke build_wheel\n"
    )
    assert (event.owner, event.version, event.tool) == ("gadget", "2.0", "poetry")


def test_poetry_2_note_names_the_package_of_a_bare_pep517_failure() -> None:
    event = failing(
        "PEP517 build of a dependency failed\n"
        "\n"
        "Backend subprocess exited when trying to invoke build_wheel\n"
        "Note: This error originates from the build backend, and is likely not a problem with "
        "poetry but one of the following issues with gadget (2.0)\n"
    )
    assert (event.owner, event.version) == ("gadget", "2.0")


def test_pdm_failed_install_names_the_package() -> None:
    event = failing("  ✔ Install fine 1.0 successful\n  ✖ Install gadget 2.0 failed\n")
    assert (event.owner, event.version) == ("gadget", "2.0")


def test_pipenv_stale_lock_is_a_lock_event() -> None:
    event = failing(
        "Your Pipfile.lock (ab547e) is out of date. Expected: (9d352e).\nERROR:: Aborting deploy\n"
    )
    assert event.kind == "lock"


def test_pipx_summary_names_the_package_below_it() -> None:
    event = failing(
        "Fatal error from pip prevented installation. Full pip output in file:\n"
        "pip seemed to fail to build package:\n"
        "    gadget\n"
    )
    assert event.owner == "gadget"


def test_pip_resolver_failure_after_collecting_is_a_resolve_event_of_its_own() -> None:
    text = (
        "Collecting alpha==1.0\n"
        "Collecting beta==1.0\n"
        "ERROR: Cannot install alpha==1.0 and beta==1.0 because these package versions have "
        "conflicting dependencies.\n"
        "\n"
        "The conflict is caused by:\n"
        "    The user requested alpha==1.0\n"
        "    beta 1.0 depends on alpha>=2\n"
        "\n"
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io\n"
    )
    event = failing(text)
    assert (event.kind, event.owner) == ("resolve", None)
    assert event.start == text.index("ERROR: Cannot install") and event.end == len(text.encode())


def test_pip_21_wheel_build_error_block_is_the_wheel_step_of_its_package() -> None:
    event = failing(
        "Building wheels for collected packages: gadget\n"
        "  Building wheel for gadget (pyproject.toml): started\n"
        "  Building wheel for gadget (pyproject.toml): finished with status 'error'\n"
        "  ERROR: Command errored out with exit status 1:\n"
        "   command: /venv/bin/python /tmp/x.py build_wheel /tmp/tmpab\n"
        "  Complete output (1 lines):\n"
        "  error: boom\n"
        "  ----------------------------------------\n"
        "  ERROR: Failed building wheel for gadget\n"
        "Failed to build gadget\n"
    )
    assert (event.kind, event.owner, event.step) == ("build", "gadget", "wheel")


def test_pip_25_list_of_failed_projects_names_each_of_them() -> None:
    found = reading(
        "error: failed-wheel-build-for-install\n"
        "\n"
        "× Failed to build installable wheels for some pyproject.toml based projects\n"
        "╰─> first, second\n"
    )
    assert found.failing is not None and found.failing.owner == "first"
    assert [owner.others for _, owner in found.summaries if owner] == [("second",)]


def test_pip_box_of_prose_names_no_package() -> None:
    event = failing(
        "error: externally-managed-environment\n"
        "\n"
        "× This environment is externally managed\n"
        "╰─> To install Python packages system-wide, try apt install\n"
        "    python3-xyz, where xyz is the package you are trying to\n"
        "    install.\n"
    )
    assert (event.kind, event.owner) == ("environment", None)


def test_pip_missing_requirements_file_is_a_requirements_event() -> None:
    event = failing(
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory: "
        "'requirements.txt'\n"
    )
    assert (event.kind, event.owner) == ("requirements", None)


def test_uv_no_solution_is_a_resolve_event_with_its_cause_lines() -> None:
    text = (
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because beta==1.0 depends on alpha>=2 and you require alpha==1.0, we\n"
        "      can conclude that your requirements and beta==1.0 are incompatible.\n"
    )
    event = failing(text)
    assert (event.kind, event.tool, event.end) == ("resolve", "uv", len(text.encode()))


def test_uv_sync_names_a_locked_distribution_given_with_its_index() -> None:
    event = failing(
        "  × Failed to build `gadget==2.0 @ registry+http://index:8000/simple/`\n"
        "  ├─▶ The build backend returned an error\n"
        "  ╰─▶ Call to `maturin.build_wheel` failed (exit status: 1)\n"
    )
    assert (event.kind, event.owner, event.version) == ("build", "gadget", "2.0")


def test_uv_hint_after_the_chain_stays_in_the_failing_event() -> None:
    text = (
        "  × Failed to build `gadget==2.0`\n"
        "  ├─▶ The build backend returned an error\n"
        "  ╰─▶ Call to `setuptools.build_meta.build_wheel` failed (exit status: 1)\n"
        "\n"
        "      hint: This usually indicates a problem with the package or the build\n"
        "      environment.\n"
    )
    event = failing(text)
    assert event.owner == "gadget" and event.end == len(text.encode())


def test_uv_stale_lock_refused_by_locked_is_a_lock_event() -> None:
    event = failing(
        "Resolved 4 packages in 51ms\n"
        "The lockfile at `uv.lock` needs to be updated, but `--locked` was provided. To update "
        "the lockfile, run `uv lock`.\n"
    )
    assert (event.kind, event.tool, event.owner) == ("lock", "uv", None)


def test_poetry_version_solving_failure_is_a_resolve_event() -> None:
    event = failing(
        "Updating dependencies\n"
        "Resolving dependencies...\n"
        "\n"
        "Because beta (1.0) depends on alpha (>=2)\n"
        " and app depends on alpha (1.0), beta is forbidden.\n"
        "So, because app depends on beta (1.0), version solving failed.\n"
    )
    assert (event.kind, event.tool) == ("resolve", "poetry")


def test_poetry_stale_lock_is_a_lock_event() -> None:
    event = failing(
        "Installing dependencies from lock file\n"
        "\n"
        "pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry "
        "lock` to fix the lock file.\n"
    )
    assert (event.kind, event.tool) == ("lock", "poetry")


def test_poetry_1_missing_installation_candidates_belong_to_the_package_installed() -> None:
    event = failing(
        "Package operations: 1 install, 0 updates, 0 removals\n"
        "\n"
        "  • Installing gadget (2.0)\n"
        "\n"
        "RuntimeError\n"
        "\n"
        "Unable to find installation candidates for gadget (2.0)\n"
    )
    assert (event.kind, event.owner, event.version) == ("install", "gadget", "2.0")


def test_render_lines_delimit_the_build_section() -> None:
    log = ScannedLog(
        "==> Using Python version 3.14.3 (default)\n"
        "==> Running build command 'pip install -r requirements.txt'...\n"
        "ERROR: boom\n"
        "==> Build failed 😞\n"
    )
    sections = read_log(log).sections
    start, end = sections.build
    assert log.data[start:end] == b"ERROR: boom\n"
    assert (sections.result, sections.runtime) == ("failed", None)


def test_what_follows_a_successful_build_is_the_runtime_section() -> None:
    log = ScannedLog(
        "==> Running build command 'pip install -r requirements.txt'...\n"
        "Successfully installed six-1.16.0\n"
        "==> Build successful 🎉\n"
        "==> Running 'gunicorn app:app'\n"
        "Killed\n"
    )
    sections = read_log(log).sections
    assert sections.result == "succeeded"
    assert sections.runtime is not None
    assert log.data[sections.runtime[0] :].startswith(b"==> Running 'gunicorn")


def test_a_failure_recovered_before_a_successful_install_is_not_the_failing_event() -> None:
    found = reading(
        "Collecting big\n"
        "WARNING: Retrying (Retry(total=4)) after connection broken by 'ReadTimeoutError()'\n"
        "  Downloading big-1.0-py3-none-any.whl (5 MB)\n"
        "ERROR: boom\n"
        "Successfully installed big-1.0\n"
    )
    assert found.failing is None and found.events == []


def test_a_kill_during_a_download_is_charged_to_the_download() -> None:
    found = reading(
        "Collecting small\n"
        "  Downloading small-1.0-py3-none-any.whl (5 kB)\n"
        "Collecting huge\n"
        "  Downloading huge-2.0-cp312-cp312-manylinux1_x86_64.whl (800 MB)\n"
        "Killed\n"
    )
    assert found.failing is not None
    assert (found.failing.owner, found.how) == ("huge", "kill")


def test_a_kill_after_the_install_finished_is_charged_to_no_package() -> None:
    found = reading(
        "Collecting six\n"
        "Successfully installed six-1.16.0\n"
        "+ python -c 'x = bytearray(10**10)'\n"
        "Killed\n"
    )
    assert found.failing is None
    assert found.kills

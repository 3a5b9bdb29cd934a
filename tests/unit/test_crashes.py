"""No traceback reaches the user: each failure is typed, and a bug is a one-line crash report.

The inputs here crashed render-sim before: each must now give its typed error (exit code, a
message and a fix) without a traceback. A crash (any exception that is not a typed error) is
made here on purpose, by making a library call raise, to check what the user then sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import locations
from simulator.build.buildlog import BuildLog, log_path_for
from simulator.errors import CRASHED, OUTPUT_CLOSED, HomeError

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
SECRET = "crash-secret-value-4711"


def run(
    *args: str, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, **NO_ENGINE, **(env or {})}, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def crash(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`render-sim plan` where the plan raises a KeyError carrying a secret (a bug)."""
    code = (
        "import sys\n"
        "import simulator.cli.plan as plan\n"
        f"def broken(*args, **kwargs): raise KeyError({SECRET!r})\n"
        "plan.make_plan = broken\n"
        f"sys.argv = ['render-sim', 'plan', '.', '--build-command', 'true', *{list(args)!r}]\n"
        "from simulator.__main__ import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, **NO_ENGINE, "RENDER_SIM_HOME": str(home)},
    )  # fmt: skip


# -- a crash --------------------------------------------------------------------------------------


def test_a_crash_exits_70_with_one_line_naming_the_saved_traceback(tmp_path: Path) -> None:
    result = crash(tmp_path / "home")
    assert result.returncode == CRASHED == 70
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: render-sim crashed (KeyError)")
    saved = Path(re.search(r"traceback is in (\S+\.txt)", lines[0])[1])  # type: ignore[index]
    assert saved.parent == tmp_path / "home" / "crashes"
    text = saved.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "KeyError" in text
    assert "Traceback" not in result.stderr


def test_a_crash_message_does_not_print_what_the_exception_holds(tmp_path: Path) -> None:
    result = crash(tmp_path / "home")
    assert SECRET not in result.stdout + result.stderr


def test_a_crash_with_an_unusable_home_saves_the_traceback_in_a_temporary_directory(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    result = crash(home)
    assert result.returncode == 70
    saved = Path(re.search(r"traceback is in (\S+\.txt)", result.stderr)[1])  # type: ignore[index]
    assert saved.is_file() and "render-sim-crash-" in str(saved)


def test_a_crash_with_json_is_a_json_error(tmp_path: Path) -> None:
    result = crash(tmp_path / "home", "--json")
    assert result.returncode == 70
    error = json.loads(result.stdout)["error"]
    assert error["code"] == 70 and error["kind"] == "crash"
    assert Path(error["traceback"]).is_file()


# -- inputs that crashed before: each is a typed error now --------------------------------------


def test_ctrl_c_while_starting_exits_130_without_a_traceback() -> None:
    # SIGINT is raised while the command line loads (importing typer): before any command runs.
    code = (
        "import builtins, os, signal, sys\n"
        "real_import = builtins.__import__\n"
        "def importing(name, *args, **kwargs):\n"
        "    if name == 'typer':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real_import(name, *args, **kwargs)\n"
        "builtins.__import__ = importing\n"
        "sys.argv = ['render-sim', '--version']\n"
        "from simulator.__main__ import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr
    assert "render-sim 0.1" not in result.stdout  # the command never ran


@pytest.mark.parametrize("image", ["NOT VALID::", "Python:3.13", "a" * 300, "x@sha256:zz"])
def test_a_malformed_base_image_is_a_usage_error(tmp_path: Path, image: str) -> None:
    result = run("plan", str(tmp_path), "--build-command", "true", "--base-image", image)
    assert result.returncode == 2, result.stderr
    assert "is not a Docker image reference" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_well_formed_base_image_is_accepted(tmp_path: Path) -> None:
    image = "registry.example.com:5000/team/python-base:3.13.4-slim"
    result = run("plan", str(tmp_path), "--build-command", "true", "--base-image", image, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["services"][0]["image"]["base"] == image


def test_a_300_character_service_name_gets_a_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path))
    name = "s" * 300
    path = log_path_for("owner/repo", name)
    assert len(path.name) < 200 and path.name.startswith("owner_repo-sss")
    with BuildLog(path) as log:
        log.render("==> Running build command 'true'...")
    assert path.is_file()
    assert log_path_for("owner/repo", name + "x").name.split("-2")[0] != path.name.split("-2")[0]


def test_an_unusable_home_is_an_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "a-file"
    home.write_text("")
    monkeypatch.setenv("RENDER_SIM_HOME", str(home))
    with pytest.raises(HomeError) as caught:
        locations.subdir("logs")
    assert str(home) in str(caught.value) and "RENDER_SIM_HOME" in str(caught.value)
    assert caught.value.return_code == 2


@pytest.mark.parametrize("variable", ["RENDER_SIM_HOME", "HOME"])
def test_explain_offline_works_with_an_unusable_home(tmp_path: Path, variable: str) -> None:
    home = tmp_path / "a-file"
    home.write_text("")
    log = tmp_path / "build.log"
    log.write_text("ERROR: No matching distribution found for rsim-nothing==9.9\n")
    env = {"RENDER_SIM_HOME": "", "XDG_CACHE_HOME": "", "RENDER_SIM_CACHE": "", variable: str(home)}
    result = run("explain", str(log), "--offline", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["class"] == "no-matching-distribution"


def test_explain_with_stdin_closed_is_an_input_error() -> None:
    # `render-sim explain - <&-`: the shell closes descriptor 0 before render-sim starts
    result = run("explain", "-", "--offline", preexec_fn=lambda: os.close(0))
    assert result.returncode == 6, result.stderr
    assert "standard input is closed" in result.stderr and "Traceback" not in result.stderr


def test_explain_of_an_endless_binary_device_is_refused_from_its_start() -> None:
    result = run("explain", "/dev/zero", "--offline")
    assert result.returncode == 6, result.stderr
    assert "looks binary" in result.stderr


def test_scenarios_run_with_a_junit_directory_fails_before_any_scenario_runs(
    tmp_path: Path,
) -> None:
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    result = run("scenarios", "run", "--dir", str(ROOT / "scenarios"), "--junit", str(report_dir))
    assert result.returncode == 2, result.stderr  # not 4: the engine was never asked
    assert "is a directory, not a file" in result.stderr and "Traceback" not in result.stderr


def test_a_ca_cert_that_is_not_pem_is_refused_before_any_image_is_built(tmp_path: Path) -> None:
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a" + bytes(range(200)))  # the start of a DER certificate
    result = run("plan", str(tmp_path), "--build-command", "true", "--ca-cert", str(der))
    assert result.returncode == 2, result.stderr
    assert "is not a PEM bundle of CA certificates" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_output_pipe_ends_quietly_with_its_own_code(tmp_path: Path) -> None:
    """`render-sim explain log | head` whose reader is gone: exit 141, no traceback, no crash
    report."""
    log = tmp_path / "build.log"
    log.write_text("ERROR: Could not find a version that satisfies the requirement qq==1\n" * 50)
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "explain", str(log), "--offline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "RENDER_SIM_HOME": str(tmp_path / "home")},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before render-sim writes a byte
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == OUTPUT_CLOSED
    assert "Traceback" not in stderr and "crashed" not in stderr
    assert not (tmp_path / "home" / "crashes").exists()

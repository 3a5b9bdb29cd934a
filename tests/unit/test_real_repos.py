"""`check` and `plan` on what real repos deployed on Render contain, one small repo per case,
written by the test: UTF-16 files, Dashboard env groups, pure-Python sdists, pins the index
never had, services sharing a requirements file, `docker build` as the build command, ..."""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import textwrap
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from index_fixture import LocalIndex
from rich.console import Console

from simulator.check.pip_resolve import resolutions_made
from simulator.check.preflight import check_repo
from simulator.config.blueprint import load_blueprint
from simulator.errors import ConfigurationError
from simulator.index.standin import StandInIndex
from simulator.plan.build_plan import buildable_here, make_plan
from simulator.plan.models import Options
from simulator.render.target import Target
from simulator.report.check_view import print_check
from tests.hermetic.cli_support import cli_argv, cli_env

OPTIONS = Options(probe_network=False, created=date(2026, 3, 1))


def service(
    name: str = "app", build: str = "pip install -r requirements.txt", extra: str = ""
) -> str:
    text = (
        f"  - type: web\n    name: {name}\n    runtime: python\n"
        f"    buildCommand: {build}\n    startCommand: python app.py\n"
    )
    return text + textwrap.indent(textwrap.dedent(extra), "    ")


def write(repo: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return repo


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("tinydep", "1.0")
    index.add("puresdist", "0.3", wheels=[], sdist=True, sdist_files={"puresdist/core.py": ""})
    index.add("compiled", "1.0", wheels=[], sdist=True)
    index.add("later", "2.1")
    index.add("later", "2.3")
    index.add("oldc", "1.0", wheels=[], sdist=True)
    index.add("oldc", "2.0")  # py3-none-any
    with index.serve() as url:
        yield url


def check(repo: Path, index_url: str):  # type: ignore[no-untyped-def]
    return check_repo(repo, OPTIONS, index_url=index_url)


def test_utf16_requirements_with_a_bom_are_read_as_pip_reads_them(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path,
        {
            "render.yaml": "services:\n" + service(),
            "requirements.txt": "tinydep==1.0\r\n".encode("utf-16"),
        },
    )
    report = check(repo, index_url)
    assert report.exit_code == 0
    assert report.services[0].packages == 1


def test_a_dashboard_env_group_is_accepted_with_a_warning(tmp_path: Path, index_url: str) -> None:
    extra = "envVars:\n  - fromGroup: shared-settings\n  - key: A\n    value: b\n"
    repo = write(
        tmp_path,
        {"render.yaml": "services:\n" + service(extra=extra), "requirements.txt": "tinydep\n"},
    )
    planned = make_plan(repo, OPTIONS)
    (warning,) = [w for w in planned.warnings if "shared-settings" in w]
    assert "its variables are unknown here" in warning and "--env-file" in warning
    assert planned.services[0].env == {"A": "b"}
    assert check(repo, index_url).exit_code == 0


def test_a_pure_python_sdist_is_harmless_and_gets_no_python_advice(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path, {"render.yaml": "services:\n" + service(), "requirements.txt": "puresdist\n"}
    )
    report = check(repo, index_url)
    (build,) = report.services[0].source_builds
    assert report.exit_code == 0
    assert build.harmless and build.fixes == ()
    assert "of pure Python: pip builds it in seconds, with nothing to compile" in build.why


def test_a_compiled_sdist_fails_the_check(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path, {"render.yaml": "services:\n" + service(), "requirements.txt": "compiled\n"}
    )
    report = check(repo, index_url)
    assert report.exit_code == 1
    assert report.services[0].compiled_builds[0].evidence.endswith("src/_speedups.c")


def test_an_upgrade_to_a_py3_none_any_wheel_is_not_called_manylinux(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path, {"render.yaml": "services:\n" + service(), "requirements.txt": "oldc==1.0\n"}
    )
    (service_check,) = check(repo, index_url).services
    (fix,) = service_check.fixes
    assert "oldc 2.0 is its first release with a pure-Python wheel (py3-none-any)" in fix.detail
    assert "manylinux" not in fix.detail


def test_a_pin_older_than_every_release_is_no_such_version(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path, {"render.yaml": "services:\n" + service(), "requirements.txt": "later==1.0\n"}
    )
    (problem,) = check(repo, index_url).services[0].problems
    assert problem.message == (
        "later has no release 1.0: no such version on the index; its releases start at 2.1 "
        "(newest 2.3)"
    )
    assert problem.hint is not None and "later==2.1" in problem.hint
    assert "another Python" not in problem.message


def test_two_services_sharing_a_requirements_file_are_resolved_once(
    tmp_path: Path, index_url: str
) -> None:
    blueprint = "services:\n" + service("web") + service("worker")
    repo = write(tmp_path, {"render.yaml": blueprint, "requirements.txt": "tinydep==1.0\nlater\n"})
    before = resolutions_made()
    report = check(repo, index_url)
    assert [s.name for s in report.services] == ["web", "worker"]
    assert resolutions_made() - before == 1


def test_docker_in_the_build_command_is_said_not_guessed_around(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path,
        {
            "render.yaml": "services:\n" + service(build="docker build -t app ."),
            "requirements.txt": "tinydep\n",
        },
    )
    report = check(repo, index_url)
    (found,) = report.services
    assert report.exit_code == 1
    assert found.inputs == ()  # requirements.txt was not guessed
    assert "cannot run in Render's native Python build" in found.problems[0].message
    plan_lints = make_plan(repo, OPTIONS).services[0].lints
    assert [item.code for item in plan_lints] == ["docker-in-native-build"]


def test_a_runtime_txt_outside_the_service_root_is_not_warned_about(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "render.yaml": "services:\n" + service(extra="rootDir: backend\n"),
            "backend/requirements.txt": "tinydep\n",
            "runtime.txt": "python-3.11.9\n",
        },
    )
    warnings = make_plan(repo, OPTIONS).services[0].warnings
    assert not any("runtime.txt" in w for w in warnings)


def test_a_runtime_txt_in_the_service_root_is_warned_about(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "render.yaml": "services:\n" + service(),
            "requirements.txt": "x\n",
            "runtime.txt": "python-3.11.9\n",
        },
    )
    assert any(
        "runtime.txt is ignored by Render" in w
        for w in make_plan(repo, OPTIONS).services[0].warnings
    )


def test_an_empty_build_command_is_reported_at_its_own_line(tmp_path: Path) -> None:
    blueprint = "services:\n" + service(build='""')
    path = write(tmp_path, {"render.yaml": blueprint})
    with pytest.raises(ConfigurationError) as raised:
        load_blueprint(path / "render.yaml", path)
    assert raised.value.where is not None and raised.value.where.line == 5
    assert "has an empty buildCommand" in raised.value.message
    assert raised.value.hint is not None and "misspelling" not in raised.value.hint


def test_a_from_database_without_property_names_what_it_needs_once(tmp_path: Path) -> None:
    extra = "envVars:\n  - key: DB\n    fromDatabase:\n      property: host\n"
    path = write(tmp_path, {"render.yaml": "services:\n" + service(extra=extra)})
    with pytest.raises(ConfigurationError) as raised:
        load_blueprint(path / "render.yaml", path)
    assert raised.value.hint == "fromDatabase needs name and property."


def test_a_python_without_any_image_here_is_not_buildable() -> None:
    assert buildable_here(False, False, None, lambda: False) is False
    assert buildable_here(False, True, None, lambda: False) is True
    assert buildable_here(False, False, None, lambda: True) is True


def test_the_stand_in_index_is_quiet_when_pip_hangs_up(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    upstream = LocalIndex(tmp_path / "up")
    upstream.add("tinydep", "1.0")
    with upstream.serve(delay=0.5) as url, StandInIndex([url], Target("3.14.3"), []) as stand_in:
        port = int(stand_in.base.rsplit(":", 1)[1])
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /0/tinydep/ HTTP/1.1\r\nHost: x\r\n\r\n")
        # hang up at once, with a reset: the server answers into a closed connection
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        time.sleep(1.5)
    assert "Traceback" not in capfd.readouterr().err


def test_an_interrupted_check_says_it_started_no_container(tmp_path: Path) -> None:
    slow = LocalIndex(tmp_path / "slow")
    slow.add("tinydep", "1.0")
    repo = write(tmp_path / "repo", {"requirements.txt": "tinydep\n"})
    with slow.serve(delay=60) as url:
        proc = subprocess.Popen(
            cli_argv("check", str(repo), "--index-url", url),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "this command starts no container" in err
    assert "container and its volumes were removed" not in err
    assert "Traceback" not in err


def test_the_check_view_shows_pure_python_builds_as_harmless(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path, {"render.yaml": "services:\n" + service(), "requirements.txt": "puresdist\n"}
    )
    console = Console(record=True, width=300)
    print_check(check(repo, index_url), console)
    text = console.export_text()
    assert "pure-Python package built from source in seconds" in text
    assert "nothing will be compiled from source" in text

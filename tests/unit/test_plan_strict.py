"""`plan --strict` fails on warnings about the repo's own configuration (Blueprint, Python
version, build command), never on the checkout's state or Dashboard-only values; `--offline`
asks neither Docker nor the network; the JSON's top-level `warnings` holds every warning."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.checkout_copy import git

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}


def blueprint(build: str = "pip install -r requirements.txt", extra: str = "") -> str:
    return (
        "services:\n  - type: web\n    name: api\n    runtime: python\n"
        f"    buildCommand: {build}\n    startCommand: python main.py\n{extra}"
    )


def make_repo(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name, text in {"render.yaml": blueprint(), "requirements.txt": "", **files}.items():
        (root / name).write_text(text)
    return root


def plan(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "plan", str(root), "--offline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_ENGINE, "COLUMNS": "200", **env},
        timeout=120,
    )


def strict_json(root: Path) -> tuple[int, dict[str, Any]]:
    proc = plan(root, "--strict", "--json")
    return proc.returncode, json.loads(proc.stdout)["strict"]


def test_a_clean_repo_passes_strict(tmp_path: Path) -> None:
    proc = plan(make_repo(tmp_path), "--strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "✓ strict" in proc.stdout


def test_runtime_txt_fails_strict_once(tmp_path: Path) -> None:
    code, strict = strict_json(make_repo(tmp_path, **{"runtime.txt": "python-3.11.9\n"}))
    assert code == 1
    assert len(strict["findings"]) == 1 and "runtime.txt" in strict["findings"][0]


def test_without_strict_a_warning_does_not_fail_the_plan(tmp_path: Path) -> None:
    proc = plan(make_repo(tmp_path, **{"runtime.txt": "python-3.11.9\n"}))
    assert proc.returncode == 0
    assert "runtime.txt is ignored by Render" in proc.stdout


def test_a_blueprint_warning_fails_strict(tmp_path: Path) -> None:
    no_start = "services:\n  - type: web\n    name: api\n    runtime: python\n    buildCommand: pip install -r requirements.txt\n"
    code, strict = strict_json(make_repo(tmp_path, **{"render.yaml": no_start}))
    assert code == 1 and "startCommand" in " ".join(strict["findings"])


def test_a_build_command_error_fails_strict(tmp_path: Path) -> None:
    code, strict = strict_json(make_repo(tmp_path, **{"render.yaml": blueprint("docker build .")}))
    assert code == 1 and "no container engine" in " ".join(strict["findings"])


def test_a_sync_false_variable_does_not_fail_strict(tmp_path: Path) -> None:
    env = "    envVars:\n      - key: API_TOKEN\n        sync: false\n"
    root = make_repo(tmp_path, **{"render.yaml": blueprint(extra=env)})
    proc = plan(root, "--strict")
    assert proc.returncode == 0, proc.stdout
    assert "sync: false" in proc.stdout  # still shown, as a warning


def test_an_environment_group_of_the_dashboard_does_not_fail_strict(tmp_path: Path) -> None:
    env = "    envVars:\n      - fromGroup: shared-secrets\n"
    root = make_repo(tmp_path, **{"render.yaml": blueprint(extra=env)})
    proc = plan(root, "--strict")
    assert proc.returncode == 0, proc.stdout
    assert "shared-secrets" in proc.stdout  # still shown, as a warning


def test_uncommitted_and_untracked_files_do_not_fail_strict(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "first", cwd=root)
    (root / "requirements.txt").write_text("# staged, not committed\n")  # as in a pre-commit run
    (root / "notes.txt").write_text("untracked\n")
    proc = plan(root, "--strict", "--json")
    data = json.loads(proc.stdout)
    assert any("uncommitted" in w for w in data["warnings"])
    assert any("untracked" in w for w in data["warnings"])
    assert (proc.returncode, data["strict"]["findings"]) == (0, [])


def test_json_warnings_list_every_services_warnings(tmp_path: Path) -> None:
    proc = plan(make_repo(tmp_path, **{"runtime.txt": "python-3.11.9\n"}), "--json")
    warnings = json.loads(proc.stdout)["warnings"]
    assert any(w.startswith("service api: runtime.txt is ignored") for w in warnings)


def test_offline_plan_never_calls_the_docker_engine(tmp_path: Path) -> None:
    with socket.socket() as engine:  # a stand-in engine address that records any connection
        engine.bind(("127.0.0.1", 0))
        engine.listen()
        engine.setblocking(False)
        host = f"tcp://127.0.0.1:{engine.getsockname()[1]}"
        proc = plan(make_repo(tmp_path), DOCKER_HOST=host)
        assert proc.returncode == 0, proc.stderr
        try:
            engine.accept()
            called = True
        except BlockingIOError:
            called = False
    assert not called

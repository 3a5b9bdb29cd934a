"""A hostile repo, end to end: `render-sim simulate` on a repo written to attack the machine.

One run of the real command line against the real engine, on a repo whose git config runs a
command through fsmonitor, whose tracked directory was replaced by a link to a host directory,
and whose build prints a secret in every encoding, probes a server on the host's bridge address,
forks until the kernel refuses and fills its disk. Afterwards: the host is untouched (no command
ran, no file of the host's was read, the server was never reached), the secret is in no output
nor in `docker events`, nothing of render-sim's is left in the engine (containers, volumes,
dangling images) and the repo, `.git` included, is byte for byte as it was.
"""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.plan.machine import PIDS_LIMIT
from tests.docker.engine_support import fork_until_refused
from tests.hermetic.cli_support import labelled

pytestmark = pytest.mark.docker

SECRET = 'hostile"se\\cret/tok+en-é-90210'  # JSON and URLs escape its `"`, `\`, `/`, `+`, `é`
SECRET_FORMS = (
    SECRET,
    json.dumps(SECRET)[1:-1],
    urllib.parse.quote(SECRET, safe=""),
    base64.b64encode(SECRET.encode()).decode(),
    SECRET.encode().hex(),
)
CANARY = "host-file-canary-7c1e"  # in a host file the repo links to
DISK = "64m"
BLUEPRINT = """\
services:
  - type: web
    name: hostile
    runtime: python
    plan: free
    buildCommand: bash build.sh
    startCommand: python app.py
    envVars:
      - key: API_TOKEN
        sync: false
"""
# Everything a build may try, in order; the disk filler last.
BUILD_SH = """\
set -u
python3 - <<'PY'
import base64, json, os, urllib.parse
value = os.environ["API_TOKEN"]
print("plain=" + value)
print("json=" + json.dumps(value))
print("url=" + urllib.parse.quote(value, safe=""))
print("b64=" + base64.b64encode(value.encode()).decode())
print("hex=" + value.encode().hex())
print("split=" + value[:9])
print(value[9:] + " <- end of the split value")
PY
echo "assets: $(cat assets/* 2>&1 | head -c 200)"
curl -sS -m 5 "$HOST_URL" > /dev/null 2>&1; echo "host-exit=$?"
python3 - <<'PY'
{fork_bomb}
PY
dd if=/dev/zero of=/opt/render/fill bs=1M count=400 2>&1 | tail -1
echo "the disk filler was not stopped"
"""


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"served by the host")

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def host_url(client: docker.DockerClient, built_images: dict[str, Any]) -> Iterator[str]:
    """A server on this host at the Docker bridge's gateway address, counting its requests."""
    probe = client.containers.run(
        built_images["3.13"].tag, ["sleep", "60"], detach=True, network="bridge"
    )
    try:
        probe.reload()
        gateway = probe.attrs["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    finally:
        probe.remove(force=True)
    server = http.server.ThreadingHTTPServer((gateway, 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{gateway}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _hostile_repo(root: Path, host_dir: Path, marker: Path, host_url: str) -> Path:
    repo = root / "repo"
    (repo / "assets").mkdir(parents=True)
    (repo / "render.yaml").write_text(BLUEPRINT)
    (repo / "build.sh").write_text(
        f'HOST_URL="{host_url}"\n' + BUILD_SH.replace("{fork_bomb}", fork_until_refused().strip())
    )
    (repo / "app.py").write_text("print('hello')\n")
    (repo / "assets" / "logo.txt").write_text("a tracked file\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "a hostile repo")
    # After the commit: git runs fsmonitor on status/diff, and the tracked folder is now a link
    _git(repo, "config", "core.fsmonitor", f"touch {marker}; echo")
    (repo / "assets" / "logo.txt").unlink()
    (repo / "assets").rmdir()
    (repo / "assets").symlink_to(host_dir, target_is_directory=True)
    return repo.resolve()


@dataclass
class Run:
    repo: Path
    marker: Path
    process: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]
    before: Any
    after: Any
    dangling_before: set[str]
    dangling_after: set[str]
    leftovers: tuple[list[str], list[str]]

    @property
    def data(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.process.stdout)
        return parsed

    @property
    def result(self) -> dict[str, Any]:
        results: list[dict[str, Any]] = self.data["results"]
        return results[0]

    def saved_log(self) -> str:
        return Path(self.result["log_path"]).read_text(encoding="utf-8")

    def outputs(self) -> dict[str, str]:
        """Every output a user or a CI system gets from the run."""
        return {
            "stdout (--json)": self.process.stdout,
            "stderr (the live log)": self.process.stderr,
            "saved log": self.saved_log(),
            "HTML report": Path(self.result["report"]).read_text(encoding="utf-8"),
        }


def _dangling(client: docker.DockerClient) -> set[str]:
    return {image.id for image in client.images.list(filters={"dangling": True})}


@pytest.fixture(scope="module")
def run(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tree_snapshot: Callable[[Path], Any],
    host_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    root = tmp_path_factory.mktemp("hostile")
    host_dir = root / "host-dir"
    host_dir.mkdir()
    (host_dir / "secret.txt").write_text(CANARY + "\n")
    marker = root / "fsmonitor-ran"
    repo = _hostile_repo(root, host_dir, marker, host_url)
    env_file = root / "secrets.env"
    env_file.write_text(f"API_TOKEN='{SECRET}'\n", encoding="utf-8")
    before, dangling_before = tree_snapshot(repo), _dangling(client)
    since = int(time.time()) - 1
    process = render_sim(
        "simulate",
        str(repo),
        "--env-file",
        str(env_file),
        "--python",
        built_images["3.13"].render_python,
        "--disk",
        DISK,
        "--no-pull",
        "--no-cache",
        "--offline",
        "--json",
    )
    until = int(time.time()) + 1
    events = list(client.events(since=since, until=until, decode=True))
    return Run(
        repo,
        marker,
        process,
        events,
        before,
        tree_snapshot(repo),
        dangling_before,
        _dangling(client),
        labelled(client, repo),
    )


def test_a_build_past_its_disk_limit_fails_as_disk_full(run: Run) -> None:
    # The filler writes 400 MB in a fraction of a second, between two measures: the space is
    # measured once more when the command ends, so the burst still fails the build.
    assert run.process.returncode == 1, run.process.stderr[-3000:]
    assert run.result["outcome"] == "failed"
    assert run.result["diagnosis"]["class"] == "disk-full", run.result["diagnosis"]
    assert DISK.rstrip("m") in run.result["event"], run.result["event"]


def test_no_command_of_the_repo_ran_on_the_host(run: Run) -> None:
    assert "plain=" in run.saved_log()  # the build did run (its first line, the value masked)
    assert not run.marker.exists()


def test_no_host_file_was_read_through_the_repo(run: Run) -> None:
    assert "assets:" in run.saved_log()
    for where, text in run.outputs().items():
        assert CANARY not in text, where


def test_the_build_could_not_reach_the_host(run: Run) -> None:
    assert _Counting.hits == []
    assert "host-exit=0" not in run.saved_log()


def test_the_fork_bomb_met_the_pid_limit(run: Run) -> None:
    log = run.saved_log()
    assert "fork refused" in log, log[-3000:]
    forked = [int(line.split()[-1]) for line in log.splitlines() if line.startswith("forked ")]
    assert forked and forked[0] < PIDS_LIMIT


@pytest.mark.parametrize("form", SECRET_FORMS)
def test_the_secret_is_in_no_output(run: Run, form: str) -> None:
    for where, text in run.outputs().items():
        assert form not in text, f"{where} shows the secret"


def test_the_secret_is_in_no_docker_event(run: Run) -> None:
    assert any(str(e.get("Action", "")).startswith("exec_create") for e in run.events)
    events = json.dumps(run.events)
    for form in SECRET_FORMS:
        assert json.dumps(form)[1:-1] not in events


def test_the_split_secret_is_masked_on_both_lines(run: Run) -> None:
    log = run.saved_log()
    assert SECRET[:9] not in log and SECRET[9:] not in log


def test_nothing_of_render_sim_is_left_in_the_engine(run: Run) -> None:
    assert run.leftovers == ([], [])
    assert run.dangling_after <= run.dangling_before


def test_the_repo_and_its_git_folder_are_byte_identical(run: Run) -> None:
    assert run.after == run.before
    assert any(path.startswith(".git/") for path in run.before)

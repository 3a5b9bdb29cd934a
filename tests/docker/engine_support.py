"""Processes and engines the Docker tests drive: a running `render-sim`, a second dockerd.

`Running` is a `render-sim` process whose output is read as it comes (to signal it mid-build).
`SecondEngine` is a dockerd of the tests' own (own data root, exec root, socket and network
namespace; no bridge, no iptables), for what must not be done to the machine's shared engine:
stopping it, or `render-sim clean` (which removes what any dead run left). `second_engine`
starts one and loads one build image into it from the main engine, for a module fixture.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from simulator.plan.machine import PIDS_LIMIT
from tests.hermetic.cli_support import cli_argv, cli_env, labelled

CLI_TIMEOUT_S = 600
PYTHON = "3.13.4"  # the build image loaded into the second engine (the smallest of the suite)


# -- running the CLI -----------------------------------------------------------------------------


@dataclass
class Running:
    """A `render-sim` process whose combined output is read as it comes."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, *args: str, **env: str) -> Running:
        proc = subprocess.Popen(
            cli_argv(*args),
            env=cli_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        running = cls(proc)
        stream = proc.stdout
        assert stream is not None
        threading.Thread(target=lambda: running.lines.extend(stream), daemon=True).start()
        return running

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, client: docker.DockerClient, repo: Path) -> None:
        """Until the build printed `marker` and its container exists (fails if it never does)."""
        deadline = time.monotonic() + CLI_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            if (
                any(line.strip() == marker for line in list(self.lines))
                and labelled(client, repo)[0]
            ):
                return
            time.sleep(0.2)
        self.proc.kill()
        self.proc.wait()
        raise AssertionError(
            f"the build never started (exit {self.proc.returncode}):\n{self.output[-4000:]}"
        )

    def wait(self, timeout: float = CLI_TIMEOUT_S) -> int | None:
        """The exit code, or None when the process had to be killed after `timeout`."""
        try:
            code: int | None = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        time.sleep(0.2)  # let the reader thread take the last lines
        return code

    def explain(self) -> str:
        return f"exit {self.proc.returncode}\n--- output (end) ---\n{self.output[-5000:]}"


def json_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"no JSON (exit {proc.returncode})\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        ) from None
    return data


# -- a second engine, to stop and to clean ------------------------------------------------------


class SecondEngine:
    """A dockerd of the test's own: own data root, exec root, socket and network namespace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.log = root / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "daemon.json").write_text("{}", encoding="utf-8")  # not /etc/docker/daemon.json

    def start(self, timeout: float = 90) -> None:
        namespace = f"rsim-{self.root.name}"
        # Its own network namespace: with --bridge=none dockerd deletes the host's `docker0`
        # (moby's removeDefaultBridgeInterface), which is the main engine's default network.
        argv = [
            "unshare",
            "--net",
            "dockerd",
            f"--config-file={self.root / 'daemon.json'}",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--host={self.url}",
            f"--containerd-namespace={namespace}",
            f"--containerd-plugins-namespace={namespace}-plugins",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(docker.errors.DockerException):
                if docker.DockerClient(base_url=self.url, timeout=10).ping():
                    return
            time.sleep(0.5)
        raise AssertionError(f"the second dockerd did not come up:\n{self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to dockerd, as `systemctl stop docker` does; SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=300)

    def remove(self) -> None:
        """Stop it and delete its data root (unmounting whatever it left mounted there)."""
        self.stop()
        mounts = [
            line.split()[4]
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(self.root))
        ]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class Engine2:
    engine: SecondEngine
    image: str  # the build image (its base image is loaded too, so simulate finds it by tag)
    load_seconds: float


def second_engine(client: docker.DockerClient, built_images: dict[str, Any]) -> Iterator[Engine2]:
    """For a module fixture: a second engine with the 3.13 build image, removed afterwards."""
    second = SecondEngine(Path(tempfile.mkdtemp(prefix="rsd-", dir="/tmp")))
    host_bridge = Path("/sys/class/net/docker0")
    had_bridge = host_bridge.exists()
    try:
        second.start()
        assert host_bridge.exists() == had_bridge, "the second dockerd touched the host's docker0"
        built = built_images["3.13"]
        started = time.monotonic()
        other = second.client()
        for ref in (built.base.ref, built.tag):  # save keeps the image id, so the tag is the same
            other.images.load(client.images.get(ref).save(named=True, chunk_size=1 << 20))
            assert other.images.get(ref).id == client.images.get(ref).id
        loaded = time.monotonic() - started
        print(f"\nloading {built.tag} and its base into the second engine took {loaded:.1f} s")
        yield Engine2(second, built.tag, loaded)
    finally:
        second.remove()


# Starts `sleep`s until the kernel refuses a fork; prints "fork refused, errno N" and then
# "forked N". It stops by itself `margin` past the PID limit, so that a build without the limit
# still leaves the host its PIDs.
def fork_until_refused(margin: int = 500) -> str:
    """A Python script of the fork bomb the sandbox must stop (see above)."""
    return f"""
import os, signal
children = []
while len(children) < {PIDS_LIMIT + margin}:
    try:
        pid = os.fork()
    except OSError as error:
        print("fork refused, errno", error.errno)
        break
    if pid == 0:
        os.execv("/bin/sleep", ["sleep", "120"])
    children.append(pid)
print("forked", len(children))
for pid in children:
    os.kill(pid, signal.SIGKILL)
"""

"""A second Docker engine of a test's own, beside the machine's shared one.

Its own socket (`unix:///tmp/rsf-*/docker.sock`), data root, exec root, pidfile, containerd
namespaces and network namespace (`unshare --net`): with `--bridge=none` dockerd deletes the
host's `docker0` (moby's removeDefaultBridgeInterface), which is the main engine's, so it must not
see the host's interfaces; `--iptables=false` keeps it off the host's firewall rules. Its
containers reach no network, so only `network: none` builds run there. `remove()` stops it and
deletes everything it stored.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import docker
import docker.errors


class SecondDockerd:
    """A dockerd on its own socket, data root and network namespace (module docstring)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rsf-", dir="/tmp"))  # short: a socket path
        self.socket = self.root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.log = self.root / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        (self.root / "daemon.json").write_text("{}", encoding="utf-8")  # not /etc/docker's

    def start(self, timeout: float = 90) -> None:
        namespace = f"rsim-{self.root.name}"
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
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(docker.errors.DockerException):
                if self.client().ping():
                    return
            time.sleep(0.5)
        raise AssertionError(f"the second dockerd did not come up:\n{self.log.read_text()[-3000:]}")

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=300)

    def remove(self) -> None:
        """Stop it (SIGTERM, as `systemctl stop docker`; SIGKILL if it hangs) and delete its
        data root, unmounting whatever it left mounted there."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        mounts = [
            line.split()[4]
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(self.root))
        ]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

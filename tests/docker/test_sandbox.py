"""The build container's sandbox, against the real engine: what a build may do and reach.

A build runs as root in its container, with no capability, no way to gain one, at most
`PIDS_LIMIT` processes, and no way to the host's own services, while the internet stays
reachable. Each test runs the build command through `BuildContainer.run`, as a simulation does.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from simulator.build.container import BuildContainer, ExecResult
from simulator.plan.machine import PIDS_LIMIT, Limits
from tests.docker.engine_support import fork_until_refused

pytestmark = pytest.mark.docker

PATH = "/opt/render/project/src/.venv/bin:/usr/local/bin:/usr/bin:/bin"
CA = "/etc/render-sim/ca-bundle.crt"  # the CA bundle render-sim gives the image (may be empty)
SECRET = "served-by-the-host-only"
# Tries to delete the route that rejects the gateway, as `ip route del` would.
DELETE_ROUTE = """
import ctypes, fcntl, socket, struct
gateway = socket.inet_ntoa(struct.pack("<I", int(
    next(l.split()[2] for l in open("/proc/net/route").read().splitlines()[1:]
         if int(l.split()[1], 16) == 0), 16)))
sockaddr = lambda ip: struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton(ip))
entry = struct.pack("@L16s16s16sHhLPhPLLH", 0, sockaddr(gateway), sockaddr("0.0.0.0"),
                    sockaddr("255.255.255.255"), 0x1 | 0x4 | 0x200, 0, 0, 0, 0, 0, 0, 0, 0)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    fcntl.ioctl(sock.fileno(), 0x890C, entry)  # SIOCDELRT
    print("route deleted")
except OSError as error:
    print("route kept:", error.strerror)
"""


def run_build(
    client: docker.DockerClient, image: str, script: str, network: str = ""
) -> tuple[ExecResult, list[str]]:
    lines: list[str] = []
    limits = Limits(memory_bytes=2 * 1024**3, cpus=1, timeout_s=300, idle_timeout_s=0)
    with BuildContainer(client, image, limits=limits, network=network) as box:
        result = box.run(script, {"PATH": PATH, "HOME": "/opt/render"}, on_output=lines.append)
    return result, lines


@pytest.fixture(scope="module")
def image(built_images: dict[str, Any]) -> str:
    return str(built_images["3.13"].tag)


# -- privileges ----------------------------------------------------------------------------------


def test_build_runs_with_no_capability(client: docker.DockerClient, image: str) -> None:
    result, lines = run_build(client, image, "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status")
    assert result.exit_code == 0, lines
    assert sorted(lines) == sorted(
        [f"{name}:\t0000000000000000" for name in ("CapBnd", "CapEff", "CapPrm")]
    ), lines


def test_build_cannot_gain_privileges(client: docker.DockerClient, image: str) -> None:
    result, lines = run_build(client, image, "grep '^NoNewPrivs:' /proc/self/status")
    assert lines == ["NoNewPrivs:\t1"], lines


def test_build_cannot_change_file_ownership_it_has_no_right_to(
    client: docker.DockerClient, image: str
) -> None:
    # CAP_CHOWN is gone: root in the build cannot give a file away (pip, uv, cargo never need to)
    result, lines = run_build(client, image, "touch /tmp/f && chown 1000 /tmp/f; echo exit=$?")
    assert "exit=1" in lines, lines


def test_a_fork_bomb_stops_at_the_pid_limit(client: docker.DockerClient, image: str) -> None:
    result, lines = run_build(client, image, f"python3 -c '{fork_until_refused()}'")
    assert result.exit_code == 0, lines
    assert "fork refused, errno 11" in lines, lines  # EAGAIN: the pids cgroup said no
    forked = int(next(line.split()[-1] for line in lines if line.startswith("forked")))
    assert 1000 < forked < PIDS_LIMIT, lines


# -- the host's own services ---------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = SECRET.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def host_server(client: docker.DockerClient, image: str) -> Iterator[str]:
    """An HTTP server on this host, on the Docker bridge's gateway address: its URL."""
    probe = client.containers.run(image, ["sleep", "60"], detach=True, network="bridge")
    try:
        probe.reload()
        gateway = probe.attrs["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    finally:
        probe.remove(force=True)
    server = http.server.ThreadingHTTPServer((gateway, 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{gateway}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_plain_container_reaches_the_host_server(
    client: docker.DockerClient, image: str, host_server: str
) -> None:
    # The premise of the next test: on Docker's bridge the host is one hop away.
    plain = client.containers.run(
        image, ["sh", "-c", f"curl -sS -m 10 {host_server} 2>&1"], detach=True, network="bridge"
    )
    try:
        status = plain.wait(timeout=120)
        output = plain.logs().decode()
    finally:
        plain.remove(force=True)
    assert output.strip() == SECRET, (status, output)


def test_build_cannot_reach_a_server_on_the_hosts_bridge_address(
    client: docker.DockerClient, image: str, host_server: str
) -> None:
    result, lines = run_build(client, image, f"curl -sS -m 10 {host_server}; echo exit=$?")
    assert SECRET not in "\n".join(lines)
    assert "exit=0" not in lines, lines


def test_build_cannot_reach_the_host_by_its_other_addresses(
    client: docker.DockerClient, image: str
) -> None:
    # Any address of this machine (a service listening on 0.0.0.0 answers on all of them)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the route
        address = probe.getsockname()[0]
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://{address}:{server.server_address[1]}/"
        result, lines = run_build(client, image, f"curl -sS -m 10 {url}; echo exit=$?")
    finally:
        server.shutdown()
        server.server_close()
    assert SECRET not in "\n".join(lines), lines


def test_build_cannot_remove_the_route_that_blocks_the_host(
    client: docker.DockerClient, image: str, host_server: str
) -> None:
    script = f"python3 -c '{DELETE_ROUTE}'; curl -sS -m 10 {host_server}; echo; echo exit=$?"
    result, lines = run_build(client, image, script)
    assert "route kept: Operation not permitted" in lines, lines
    assert SECRET not in "\n".join(lines)


def test_build_still_reaches_pypi(client: docker.DockerClient, image: str) -> None:
    script = (
        f'ca={CA}; [ -s "$ca" ] || ca=/etc/ssl/certs/ca-certificates.crt; '
        'curl -sS -m 30 --cacert "$ca" -o /dev/null -w "%{http_code}\\n" '
        "https://pypi.org/simple/pip/"
    )
    result, lines = run_build(client, image, script)
    assert "200" in lines, lines


def test_build_reaches_the_network_it_joins_when_asked(
    client: docker.DockerClient, image: str
) -> None:
    # `--network NAME` is the user's choice: nothing is blocked there.
    network = client.networks.create(f"render-sim-test-{id(client):x}", driver="bridge")
    server = client.containers.run(
        image,
        ["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "--directory", "/etc"],
        detach=True,
        network=network.name,
        name=f"{network.name}-server",
    )
    try:
        script = f"curl -sS -m 10 --retry 5 --retry-connrefused -o /dev/null -w '%{{http_code}}\\n' http://{server.name}:8000/hostname"
        result, lines = run_build(client, image, script, network=network.name)
    finally:
        with contextlib.suppress(docker.errors.APIError):
            server.remove(force=True)
        network.remove()
    assert "200" in lines, lines

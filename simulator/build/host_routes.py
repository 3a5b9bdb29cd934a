"""Keeps a build off its host's own services: reject routes in the build's network namespace.

This file runs inside render-sim's watcher container (`python3 -c <this file> ADDRESS...`), not
in render-sim. The watcher shares the build container's network namespace and holds
CAP_NET_ADMIN there; the build container does not, so the build cannot remove these routes (nor
send raw packets around them: it has no CAP_NET_RAW either).

Rejected (the kernel answers "connection refused" at once, as for an unreachable host):
- the default gateway, which is the host itself on Docker's bridge;
- the private, link-local and shared ranges (10/8, 172.16/12, 192.168/16, 169.254/16 where cloud
  metadata lives, 100.64/10): the host's other addresses and its LAN, as Render's build cannot
  reach your network;
- the container's own subnet (both halves, so other containers on the bridge are out of reach);
- the ADDRESSes render-sim passes (the host's own addresses, other Docker networks' gateways).

The internet stays reachable through the gateway as the next hop. The container's DNS servers
(from /etc/resolv.conf) are exempted with a host route, so names still resolve; a DNS server
that is the host itself is reported as a gap, since routes cannot allow only its port 53.

Prints one JSON object: the gateway, the rejected networks, the exempted DNS servers, and gaps.
Written for every Python a build image may have (3.7 and later).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import ipaddress
import json
import socket
import struct
import sys

SIOCADDRT = 0x890B
RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT = 0x1, 0x2, 0x4, 0x200
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")


class SockaddrIn(ctypes.Structure):
    _fields_ = [
        ("family", ctypes.c_ushort),
        ("port", ctypes.c_ushort),
        ("addr", ctypes.c_ubyte * 4),
        ("zero", ctypes.c_ubyte * 8),
    ]


class RtEntry(ctypes.Structure):
    """struct rtentry (linux/route.h), the argument of SIOCADDRT."""

    _fields_ = [
        ("rt_pad1", ctypes.c_ulong),
        ("rt_dst", SockaddrIn),
        ("rt_gateway", SockaddrIn),
        ("rt_genmask", SockaddrIn),
        ("rt_flags", ctypes.c_ushort),
        ("rt_pad2", ctypes.c_short),
        ("rt_pad3", ctypes.c_ulong),
        ("rt_pad4", ctypes.c_void_p),
        ("rt_metric", ctypes.c_short),
        ("rt_dev", ctypes.c_char_p),
        ("rt_mtu", ctypes.c_ulong),
        ("rt_window", ctypes.c_ulong),
        ("rt_irtt", ctypes.c_ushort),
    ]


def _sockaddr(address: str) -> SockaddrIn:
    packed = socket.inet_aton(address)
    return SockaddrIn(socket.AF_INET, 0, (ctypes.c_ubyte * 4)(*packed))


def add_route(network: ipaddress.IPv4Network, gateway: str = "", dev: str = "") -> None:
    """A route to `network`: rejected, via `gateway`, or on-link on `dev`."""
    flags = RTF_UP | (RTF_HOST if network.prefixlen == 32 else 0)
    if gateway:
        flags |= RTF_GATEWAY
    elif not dev:
        flags |= RTF_REJECT
    entry = RtEntry()
    entry.rt_dst = _sockaddr(str(network.network_address))
    entry.rt_gateway = _sockaddr(gateway or "0.0.0.0")
    entry.rt_genmask = _sockaddr(str(network.netmask))
    entry.rt_flags = flags
    dev_name = ctypes.create_string_buffer(dev.encode()) if dev else None
    entry.rt_dev = ctypes.cast(dev_name, ctypes.c_char_p) if dev_name is not None else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with contextlib.suppress(FileExistsError):  # already there (a DNS server listed twice)
            fcntl.ioctl(sock.fileno(), SIOCADDRT, entry)
    finally:
        sock.close()


def _hex_ip(text: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(text, 16)))


def read_routes() -> tuple[str, list[tuple[ipaddress.IPv4Network, str]]]:
    """The default gateway and the connected subnets with their interfaces (/proc/net/route)."""
    gateway, connected = "", []
    with open("/proc/net/route") as table:
        for line in table.read().splitlines()[1:]:
            fields = line.split()
            if len(fields) < 8:
                continue
            dest, via, flags, mask = fields[1], fields[2], int(fields[3], 16), fields[7]
            if not flags & RTF_UP:
                continue
            if int(dest, 16) == 0 and int(mask, 16) == 0:
                gateway = _hex_ip(via)
            elif int(via, 16) == 0 and not flags & RTF_REJECT:
                network = ipaddress.IPv4Network(f"{_hex_ip(dest)}/{_hex_ip(mask)}")
                connected.append((network, fields[0]))
    return gateway, connected


def nameservers() -> list[ipaddress.IPv4Address]:
    found = []
    try:
        with open("/etc/resolv.conf") as conf:
            for line in conf:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    try:
                        found.append(ipaddress.IPv4Address(parts[1]))
                    except ValueError:
                        continue  # an IPv6 server
    except OSError:
        pass
    return found


def global_ipv6() -> bool:
    """Whether an interface other than lo has a global IPv6 address (scope 00)."""
    try:
        with open("/proc/net/if_inet6") as table:
            return any(
                line.split()[3] == "00" and line.split()[5] != "lo"
                for line in table
                if line.strip()
            )
    except OSError:
        return False


def main(argv: list[str]) -> None:
    gateway, connected = read_routes()
    hosts = {ipaddress.IPv4Address(a) for a in argv[1:]}
    if gateway:
        hosts.add(ipaddress.IPv4Address(gateway))
    rejected = [ipaddress.IPv4Network(n) for n in PRIVATE]
    rejected += [half for net, _ in connected if net.prefixlen < 31 for half in net.subnets(1)]
    gaps, exempt = [], []
    for server in nameservers():
        if server.is_loopback or not (server in hosts or any(server in n for n in rejected)):
            continue
        if server in hosts:
            hosts.discard(server)
            gaps.append(f"the DNS server {server} is the host: the build can reach the host there")
        exempt.append(str(server))
        route = ipaddress.IPv4Network(f"{server}/32")
        link = next((dev for net, dev in connected if server in net), "")
        if link:
            add_route(route, dev=link)
        elif gateway:
            add_route(route, gateway=gateway)
    rejected += [ipaddress.IPv4Network(f"{host}/32") for host in sorted(hosts)]
    for network in rejected:
        add_route(network)
    if global_ipv6():
        gaps.append("IPv6 is on in this network: the host's IPv6 addresses are not blocked")
    print(json.dumps({"gateway": gateway, "rejected": [str(n) for n in rejected],
                      "exempt": exempt, "gaps": gaps}))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv)

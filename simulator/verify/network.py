"""The hosts of a Docker network as this machine reaches them.

A build joined to a Docker network (`--network NAME`) may install from an index only that
network serves (`http://index:8000/simple/`). The fix planner resolves on this machine, not in
the build container, so it asks for the same index by address: each container of the network,
by its name and aliases, maps to its address there. Docker on Linux routes the host to its
bridge networks (internal ones included); where it does not (Docker Desktop), the planner
cannot read the index and the diagnosis's fixes are tried alone.
"""

from __future__ import annotations

from typing import Any

import docker
import docker.errors

SPECIAL = ("", "none", "host", "bridge", "default")


def network_hosts(client: docker.DockerClient, network: str) -> dict[str, str]:
    """alias -> IPv4 address of every container on `network` ({} when it has none)."""
    if network in SPECIAL:
        return {}
    try:
        found = client.networks.get(network)
    except docker.errors.DockerException:
        return {}
    hosts: dict[str, str] = {}
    containers: dict[str, Any] = found.attrs.get("Containers") or {}
    for ident, entry in containers.items():
        address = str(entry.get("IPv4Address") or "").split("/", 1)[0]
        if not address:
            continue
        names = {str(entry.get("Name") or "")}
        try:
            settings = client.api.inspect_container(ident)["NetworkSettings"]["Networks"]
            names.update(settings.get(found.name, {}).get("Aliases") or [])
            labels = client.api.inspect_container(ident)["Config"]["Labels"] or {}
            names.add(labels.get("com.docker.compose.service", ""))
        except (docker.errors.DockerException, KeyError, TypeError):
            pass
        for name in names - {""}:
            hosts[name] = address
    return hosts

"""Helpers the Docker tests share: running the CLI as a user does, and finding a run's leftovers.

Test modules import these from here (a conftest's module name is not unique, so it is never
imported); conftest.py offers them as fixtures too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import docker


def labelled(client: docker.DockerClient, repo: Path) -> tuple[list[str], list[str]]:
    """Containers and volumes carrying `render-sim.repo=<repo>` (render-sim's per-repo label)."""
    selector = {"label": f"render-sim.repo={repo.resolve()}"}
    # The low-level list: the SDK's containers.list inspects each container and fails on one
    # that is being created or removed at that moment.
    containers = [
        c["Names"][0].lstrip("/") for c in client.api.containers(all=True, filters=selector)
    ]
    volumes = [v.name for v in client.volumes.list(filters=selector)]
    return containers, volumes


def cli_argv(*args: str) -> list[str]:
    """`render-sim ARGS...` as a user runs it (the installed module, this interpreter)."""
    return [sys.executable, "-m", "simulator", *args]


def cli_env(**overrides: str) -> dict[str, str]:
    """The user's environment, with a wide, colourless, UTF-8 terminal so output reads plainly."""
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env.update({"COLUMNS": "400", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    env.update(overrides)
    return env

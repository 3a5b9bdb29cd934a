"""What every benchmark section shares: test repos, medians, cleanup of what a section made."""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import docker
import docker.errors

from simulator.build.cache import cache_volume_name
from simulator.plan.models import BuildPlan

REPO = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11.11", "3.13.4", "3.14.3")  # one per offline stand-in suite, as the tests use
RENDER_DEFAULT_PYTHON = "3.14.3"


def quiet(_kind: str, _line: str) -> None:
    """A simulation's echo that shows nothing (the log still goes to its file)."""


def no_progress(_message: str) -> None:
    """An image-build progress callback that shows nothing."""


def write_repo(root: Path, files: dict[str, str]) -> Path:
    """A small service repo (not a git repo: every file is taken) with `files` in it."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root.resolve()


def blueprint(service: str, build_command: str) -> str:
    """A render.yaml with one Python web service."""
    return textwrap.dedent(
        f"""\
        services:
          - type: web
            name: {service}
            runtime: python
            plan: free
            buildCommand: {build_command}
            startCommand: python main.py
        """
    )


def summary(values: Sequence[float], digits: int = 2) -> dict[str, object]:
    """Median, min, max and every run, rounded."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def remove_cache_volumes(client: docker.DockerClient, plans: Iterable[BuildPlan]) -> None:
    """Remove the build-cache volumes the services of `plans` used (made by the bench)."""
    for plan in plans:
        for service in plan.services:
            if not service.cache_key:
                continue
            try:
                client.volumes.get(cache_volume_name(service.cache_key)).remove(force=True)
            except docker.errors.NotFound:
                continue

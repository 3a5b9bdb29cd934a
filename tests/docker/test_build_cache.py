"""Render's build cache, simulated: pip's and uv's caches survive between simulations of a service.

Each run appends a line to a file in the cache directory ($HOME/.cache, as pip and uv use it) and
prints how many lines it holds, so the count says which runs the cache has seen.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build.ownership import CACHE_LABEL

pytestmark = pytest.mark.docker

COUNT = re.compile(r"^cache-runs=(\d+)$", re.MULTILINE)
BUILD = (
    'mkdir -p "$HOME/.cache/pip" && echo run >> "$HOME/.cache/pip/render-sim-runs" '
    '&& echo "cache-runs=$(wc -l < "$HOME/.cache/pip/render-sim-runs")"'
)


def _runs(proc: subprocess.CompletedProcess[str]) -> int:
    found = COUNT.findall(proc.stdout)
    assert proc.returncode == 0 and len(found) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return int(found[0])


def _cache_volumes(client: docker.DockerClient, repo: Path) -> list[Any]:
    return [
        v
        for v in client.volumes.list(filters={"label": CACHE_LABEL})
        if v.attrs["Labels"][CACHE_LABEL].startswith(f"{repo}:")
    ]


@pytest.fixture(scope="module")
def cached_repo(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Path]:
    repo = repo_writer(tmp_path_factory.mktemp("cache") / "repo", BUILD, service="cached-web")
    yield repo
    for volume in _cache_volumes(client, repo):
        volume.remove(force=True)


def test_the_cache_persists_per_service_and_python_and_clears_on_request(
    cached_repo: Path,
    client: docker.DockerClient,
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    args = ("simulate", str(cached_repo), "--python", "3.14.3", "--no-pull")
    first = render_sim(*args)
    assert _runs(first) == 1
    assert "==> Downloading cache..." not in first.stdout

    second = render_sim(*args)
    assert _runs(second) == 2
    assert "==> Downloading cache..." in second.stdout

    # Another Python is another cache, as on Render (a new Python means a fresh environment)
    other = render_sim("simulate", str(cached_repo), "--python", "3.13.4", "--no-pull")
    assert _runs(other) == 1

    cleared = render_sim(*args, "--clear-cache")
    assert _runs(cleared) == 1
    assert "build cache cleared" in cleared.stdout

    without = render_sim(*args, "--no-cache")
    assert _runs(without) == 1
    after = render_sim(*args)
    assert _runs(after) == 2  # --no-cache neither read nor wrote the service's cache

    volumes = _cache_volumes(client, cached_repo)
    assert len(volumes) == 2, [v.name for v in volumes]
    assert all(v.attrs["Labels"].get("render-sim") == "1" for v in volumes)


def test_the_plan_says_whether_the_cache_is_used(
    cached_repo: Path, render_sim: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    with_cache = json.loads(render_sim("plan", str(cached_repo), "--json").stdout)
    assert with_cache["services"][0]["build_cache"] is True

"""The hermetic scenario suite, `--jobs 1` against `--jobs 2`.

The fixtures the hermetic tests use (tests/hermetic: a package index and a sparse cargo
registry, generated, served by docker-compose v1 on an `internal` network from render-sim's 3.14
build image) are started under a project name of the bench's own and taken down afterwards.
Every hermetic scenario of scenarios/ then runs once with one worker and once with two, images
already built; each run is a first deploy (scenarios use no build cache).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import docker

from bench.common import RENDER_DEFAULT_PYTHON, REPO, no_progress, write_repo
from simulator.build import endpoints
from simulator.build.simulation import build_image
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from simulator.scenarios.discovery import discover
from simulator.scenarios.run import ScenarioResult, run_scenarios
from tests.hermetic import backends, packages

COMPOSE_FILE = REPO / "tests" / "hermetic" / "compose.yml"
READY_TIMEOUT_S = 60
READY_CHECK = (
    "import urllib.request as u\n"
    f"u.urlopen('{packages.INDEX_URL}', timeout=2).read()\n"
    "u.urlopen('http://crates:8000/config.json', timeout=2).read()\n"
)


def _fixtures_image(client: docker.DockerClient, workdir: Path) -> str:
    """render-sim's build image for Render's default Python (it has python3 to serve files)."""
    repo = write_repo(workdir / "fixtures-image", {"main.py": "print('hello')\n"})
    plan = make_plan(
        repo, Options(python=RENDER_DEFAULT_PYTHON, build_command="true"), client=client
    )
    tag, _ = build_image(client, plan, plan.services[0], pull=False, progress=no_progress)
    return tag


def _wait_ready(client: docker.DockerClient, project: str) -> None:
    labels = [f"com.docker.compose.project={project}", "com.docker.compose.service=index"]
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        found = client.containers.list(filters={"label": labels})
        if found and found[0].exec_run(["python3", "-c", READY_CHECK]).exit_code == 0:
            return
        time.sleep(0.3)
    raise RuntimeError(f"the hermetic fixtures did not answer within {READY_TIMEOUT_S} s")


def _suite(results: list[ScenarioResult], seconds: float) -> dict[str, object]:
    return {
        "wall_s": round(seconds, 1),
        "passed": sum(r.status == "passed" for r in results),
        "not_passed": {
            r.scenario.name: f"{r.status}: " + (r.error or "; ".join(r.mismatches))[:300]
            for r in results
            if r.status != "passed"
        },
        "scenario_s": {r.scenario.name: round(r.duration_s, 1) for r in results},
    }


def bench_scenarios(workdir: Path) -> dict[str, object]:
    """Wall time of the hermetic suite with one and with two workers."""
    client = endpoints.connect()
    scenarios = discover([REPO / "scenarios"], kind="hermetic")
    trees = packages.generate(workdir / "hermetic", backends.fetch_backends())
    project = f"rsimbench{os.getpid()}"
    env = {
        **os.environ,
        "RENDER_SIM_FIXTURES_IMAGE": _fixtures_image(client, workdir),
        "RENDER_SIM_FIXTURES_INDEX": str(trees.index),
        "RENDER_SIM_FIXTURES_CRATES": str(trees.crates),
    }
    compose = ["docker-compose", "-p", project, "-f", str(COMPOSE_FILE)]
    out: dict[str, object] = {"scenarios": len(scenarios)}
    try:
        subprocess.run([*compose, "up", "-d"], env=env, check=True, capture_output=True)
        _wait_ready(client, project)
        network = f"{project}_fixtures"
        for jobs in (1, 2):
            started = time.perf_counter()
            results = run_scenarios(
                client, scenarios, jobs=jobs, fixtures_network=network, pull=False
            )
            out[f"jobs_{jobs}"] = _suite(results, time.perf_counter() - started)
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, capture_output=True)
    one, two = out.get("jobs_1"), out.get("jobs_2")
    if isinstance(one, dict) and isinstance(two, dict):
        out["speedup"] = round(float(one["wall_s"]) / float(two["wall_s"]), 2)
    return out

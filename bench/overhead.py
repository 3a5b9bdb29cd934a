"""render-sim's overhead against the floor, and its fixed cost phase by phase.

- floor: the same build command on the same build image, run bare with the Docker SDK (create and
  start a container, exec the command, remove it): what any Docker-based tool has to pay;
- render-sim: the library path the CLI takes (plan, image lookup, `simulate_service`), in this
  process; the CLI's own start (imports, output) is measured apart on an empty build.

The two alternate run by run, so a slow moment of the machine hits both. The fixed cost is an
empty build (`true`), with each phase's self time (bench/phases.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker

from bench.common import (
    RENDER_DEFAULT_PYTHON,
    REPO,
    blueprint,
    no_progress,
    quiet,
    remove_cache_volumes,
    summary,
    write_repo,
)
from bench.phases import PhaseProfiler, median_profile
from simulator.build import endpoints
from simulator.build.container import BuildContainer
from simulator.build.simulation import BuildResult, build_image, diagnose, simulate_service
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import crates_io_reachable, make_plan
from simulator.plan.models import VENV, BuildPlan, Options

# Ten one-second steps, each printing a line: a 10-second build whose output streams.
TEN_SECOND_BUILD = "for i in $(seq 10); do echo step $i; sleep 1; done"
EMPTY_BUILD = "true"
GOAL_RATIO = 1.10
GOAL_FIXED_S = 2.0


def floor_run(client: docker.DockerClient, image: str, command: str) -> float:
    """Seconds for a bare container run of `command`: create, start, exec, remove."""
    started = time.perf_counter()
    container = client.containers.create(image, command=["sleep", "infinity"])
    try:
        container.start()
        result = container.exec_run(["bash", "-c", command])
    finally:
        container.remove(force=True)
    if result.exit_code != 0:
        raise RuntimeError(f"the floor's `{command}` exited {result.exit_code}")
    return time.perf_counter() - started


def render_sim_run(
    client: docker.DockerClient, repo: Path, options: Options
) -> tuple[float, BuildPlan, BuildResult]:
    """Seconds for `render-sim simulate` of `repo` (library path), the plan and the result."""
    started = time.perf_counter()
    plan = make_plan(repo, options, client=client)
    service = plan.services[0]
    image, base = build_image(client, plan, service, pull=False, progress=no_progress)
    result = simulate_service(client, plan, service, image=image, base=base, echo=quiet)
    if not result.succeeded:
        diagnose(plan, service, result, PackageIndex(offline=True))
    return time.perf_counter() - started, plan, result


def _ensurepip_venv_s(client: docker.DockerClient, image: str) -> float:
    """What creating the venv with ensurepip costs in a build container (the reference)."""
    minor = ".".join(RENDER_DEFAULT_PYTHON.split(".")[:2])
    python = f"/opt/render/project/python/Python-{RENDER_DEFAULT_PYTHON}/bin/python{minor}"
    with BuildContainer(client, image) as box:
        started = time.perf_counter()
        code, output = box.call([python, "-m", "venv", "/tmp/venv-by-ensurepip"])
        elapsed = time.perf_counter() - started
        held, _ = box.call(["test", "-f", f"{VENV}/pyvenv.cfg"])
    if code != 0:
        raise RuntimeError(f"python -m venv failed: {output[-500:]}")
    if held != 0:
        raise RuntimeError(f"the build image {image} holds no prebuilt {VENV}")
    return elapsed


def bench_overhead(workdir: Path, runs: int) -> dict[str, object]:
    """Floor vs render-sim on a 10-second build; fixed cost of an empty build, per phase."""
    client = endpoints.connect()
    repo = write_repo(
        workdir / "overhead",
        {
            "render.yaml": blueprint("overhead-bench", TEN_SECOND_BUILD),
            "main.py": "print('hello')\n",
            "requirements.txt": "",
        },
    )
    ten = Options(python=RENDER_DEFAULT_PYTHON)
    empty = Options(python=RENDER_DEFAULT_PYTHON, build_command=EMPTY_BUILD)
    plans: list[BuildPlan] = []
    try:
        # Warm-up: the image is built if absent, the cache volume made, the probe answered.
        _, plan, result = render_sim_run(client, repo, empty)
        plans.append(plan)
        image = result.image
        floor_run(client, image, EMPTY_BUILD)

        floor, ours, ratios = [], [], []
        for _ in range(runs):
            floor.append(floor_run(client, image, TEN_SECOND_BUILD))
            seconds, plan, result = render_sim_run(client, repo, ten)
            if not result.succeeded:
                raise RuntimeError(f"the 10-second build {result.outcome}: {result.log_path}")
            ours.append(seconds)
            ratios.append(seconds / floor[-1])

        profiler = PhaseProfiler()
        empty_runs, empty_floor, profiles = [], [], []
        for _ in range(max(runs, 5)):
            empty_floor.append(floor_run(client, image, EMPTY_BUILD))
            profiler.reset()
            with profiler.active():
                seconds, plan, result = render_sim_run(client, repo, empty)
            empty_runs.append(seconds)
            phases = profiler.totals()
            phases["rest (plan, image lookup, log, result)"] = seconds - sum(phases.values())
            profiles.append(phases)

        cli = _cli_empty_builds(repo, runs)
        probe = [_time(crates_io_reachable.__wrapped__) for _ in range(3)]
        venv_reference = _ensurepip_venv_s(client, image)
    finally:
        plans.append(make_plan(repo, empty, client=client))
        remove_cache_volumes(client, plans)

    ratio = statistics.median(ratios)
    fixed = statistics.median(empty_runs)
    return {
        "how": (
            "library path (plan + image lookup + simulate_service), in-process; floor: bare "
            "Docker SDK run (create, start, exec, remove) of the same command on the same image"
        ),
        "image": image,
        "ten_second_build": {
            "command": TEN_SECOND_BUILD,
            "floor_s": summary(floor),
            "render_sim_s": summary(ours),
            "ratio": summary(ratios, 3),
            "overhead_s": round(statistics.median(ours) - statistics.median(floor), 2),
        },
        "empty_build": {
            "command": EMPTY_BUILD,
            "floor_s": summary(empty_floor),
            "render_sim_s": summary(empty_runs),
            "render_sim_cli_s": summary(cli),
            "fixed_cost_over_floor_s": round(fixed - statistics.median(empty_floor), 2),
            "phases_median_s": median_profile(profiles),
            "phases_not_found": profiler.missing,
            "crates_io_probe_uncached_s": summary(probe, 3),
            "venv_by_ensurepip_reference_s": round(venv_reference, 2),
        },
        "goals": {
            f"ratio_at_most_{GOAL_RATIO}": ratio <= GOAL_RATIO,
            f"fixed_cost_under_{GOAL_FIXED_S:g}_s": fixed < GOAL_FIXED_S,
        },
    }


def _time(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _cli_empty_builds(repo: Path, runs: int) -> list[float]:
    """`render-sim simulate REPO --build-command true` as a user types it, `runs` times."""
    argv = [
        sys.executable,
        "-m",
        "simulator",
        "simulate",
        str(repo),
        "--build-command",
        EMPTY_BUILD,
        "--python",
        RENDER_DEFAULT_PYTHON,
        "--no-pull",
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        out.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(
                f"render-sim simulate exited {proc.returncode}: {proc.stderr[-500:]}"
            )
    return out

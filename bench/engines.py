"""A 40-scenario generated suite on one Docker engine against two.

The suite: 40 small services whose build sleeps one second (`network: none`, Render's default
Python 3.14.3: one build image), each expected to succeed. The second engine is a dockerd of the
bench's own (tests/docker/engine_support.py: own socket, data root and network namespace),
stopped and deleted at the end. It gets the build image from the main engine through the SDK
first (`shared_images.copy_images`, timed on its own: a cold engine's one-off cost), so the
timed runs compare the builds alone:

- one engine, one worker; one engine, two workers;
- two engines, one worker each (`--engine A --engine B`).

On one 2-CPU machine both engines share the same CPUs, so the second engine adds workers, not
computing power: the ratio shows what spreading costs and saves, not what a second machine
would give.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from simulator.build import endpoints
from simulator.build.endpoints import Endpoint, Engine
from simulator.build.shared_images import copy_images, find_build_image
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from simulator.scenarios.discovery import discover
from simulator.scenarios.run import ScenarioResult, run_scenarios
from tests.docker.engine_support import SecondEngine

SCENARIOS = 40
CREATED = "2026-03-01"


def write_suite(root: Path) -> Path:
    """SCENARIOS scenario folders, each a service whose build prints and sleeps a second."""
    for number in range(SCENARIOS):
        folder = root / f"quick-{number:02d}"
        folder.mkdir(parents=True)
        command = json.dumps(f"echo build {number}; sleep 1; echo done > built.txt")
        (folder / "render.yaml").write_text(
            "services:\n  - type: web\n"
            f"    name: quick-{number:02d}\n    runtime: python\n    plan: free\n"
            f"    buildCommand: {command}\n    startCommand: python app.py\n"
        )
        (folder / "scenario.yaml").write_text(
            f"network: none\noptions: {{created: {CREATED}}}\nexpect: {{outcome: succeeded}}\n"
        )
    return root


def _timed(engines: list[Engine], suite: Path, jobs: int) -> dict[str, object]:
    scenarios = discover([suite])
    started = time.perf_counter()
    results: list[ScenarioResult] = run_scenarios(engines, scenarios, jobs=jobs, pull=False)
    wall = time.perf_counter() - started
    per_engine: dict[str, int] = {}
    for result in results:
        per_engine[result.engine] = per_engine.get(result.engine, 0) + 1
    return {
        "wall_s": round(wall, 1),
        "passed": sum(r.passed for r in results),
        "per_engine": per_engine,
        "not_passed": {
            r.scenario.name: (r.error or "; ".join(r.mismatches))[:200]
            for r in results
            if not r.passed
        },
    }


def bench_engines(workdir: Path) -> dict[str, object]:
    """Wall time of the suite on one engine (1 and 2 workers) and on two (1 worker each)."""
    suite = write_suite(workdir / "engines-suite")
    main = Engine(endpoints.resolve(), endpoints.connect())
    scenario = discover([suite])[0]
    plan = make_plan(scenario.path, Options(created=scenario.options.created), client=main.client)
    found = find_build_image(main.client, plan, plan.services[0])
    out: dict[str, object] = {"scenarios": SCENARIOS, "build_s_each": 1.0}
    second = SecondEngine(Path(tempfile.mkdtemp(prefix="rsb-", dir="/tmp")))  # short: a socket
    try:
        second.start()
        other = Engine(
            Endpoint(second.url, "--engine"), endpoints.connect(Endpoint(second.url, "--engine"))
        )
        if found is not None:  # else the first timed run builds it, as a user's first run would
            tag, base = found
            started = time.perf_counter()
            copy_images(main.client, other.client, [base.ref, tag])
            out["image_copy_s"] = round(time.perf_counter() - started, 1)
            out["image"] = tag
        out["one_engine_jobs_1"] = _timed([main], suite, 1)
        out["one_engine_jobs_2"] = _timed([main], suite, 2)
        out["two_engines_jobs_1"] = _timed([main, other], suite, 1)
    finally:
        second.remove()
    one, two = out["one_engine_jobs_1"], out["two_engines_jobs_1"]
    if isinstance(one, dict) and isinstance(two, dict):
        out["ratio_one_vs_two_engines"] = round(float(one["wall_s"]) / float(two["wall_s"]), 2)
    same = out["one_engine_jobs_2"]
    if isinstance(same, dict) and isinstance(two, dict):
        out["ratio_two_workers_one_engine_vs_two_engines"] = round(
            float(same["wall_s"]) / float(two["wall_s"]), 2
        )
    return out

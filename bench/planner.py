"""The fix planner on a 50-package service (bench/data/plan-50) against PyPI.

Four of its 50 direct requirements are pinned to releases made before Python 3.14 (numpy 1.26.4,
pandas 2.1.4, pydantic 2.9.2 whose pydantic-core has no cp314 wheel), so on Render's default
3.14.3 the planner has candidates to check: older Pythons and the set of upgrades. Each run is a
fresh process (the resolution cache of a process would answer a second run at once); the first
run fills render-sim's index cache, the next ones show the time with it warm. The figure is the
time the planner takes to check its candidates with the resolver, the service's own resolution
(which `check` makes anyway) excluded; the goal is under 10 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import RENDER_DEFAULT_PYTHON

REQUIREMENTS = Path(__file__).resolve().parent / "data" / "plan-50" / "requirements.txt"
RUNS = 3
GOAL_S = 10.0

_ONE_RUN = """
import json, sys, time
from pathlib import Path
from simulator.check.service import plan_service
from simulator.check.pip_resolve import resolve_requirements
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from simulator.config.build_command import read_service_plan
from simulator.render.target import Target

repo = Path(sys.argv[1])
plan = make_plan(repo, Options(python=sys.argv[2], probe_network=False,
                               build_command="pip install -r requirements.txt"))
service = plan.services[0]
target = Target(service.python.version)
deps = read_service_plan(repo, repo, service.build_command, service.env, target)
started = time.perf_counter()
base = resolve_requirements(deps.requirements, target, "https://pypi.org/simple")
own = time.perf_counter() - started
started = time.perf_counter()
planned = plan_service(plan, service, base=base).plan
print(json.dumps({
    "own_resolution_s": round(own, 2),
    "candidates_s": round(time.perf_counter() - started, 2),
    "resolutions": planned.resolutions,
    "packages": base.packages,
    "compiled": [str(b) for b in base.compiled],
    "fixes": [f.title for f in planned.fixes],
    "notes": list(planned.notes),
}))
"""


def bench_planner(workdir: Path, runs: int = RUNS) -> dict[str, object]:
    """Seconds per run for the candidates, and what the planner found."""
    repo = workdir / "plan-50"
    repo.mkdir(parents=True, exist_ok=True)
    shutil.copy(REQUIREMENTS, repo / "requirements.txt")
    root = Path(__file__).resolve().parents[1]
    results = []
    for _ in range(max(runs, 2)):
        done = subprocess.run(
            [sys.executable, "-c", _ONE_RUN, str(repo), RENDER_DEFAULT_PYTHON],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    warm = sorted(r["candidates_s"] for r in results[1:])
    median = warm[len(warm) // 2]
    return {
        "python": RENDER_DEFAULT_PYTHON,
        "runs": results,
        "warm_candidates_s_median": median,
        "goal_s": GOAL_S,
        "within_goal": median < GOAL_S,
    }

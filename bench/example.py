"""Warm time to diagnosis for the shipped example (examples/fastapi-pydantic).

The example's files are copied to a temporary repo (so its build cache is the bench's own, removed
afterwards). A first run warms everything a user's second run has warm: the image, the build
cache, render-sim's package-index cache. Then each run is timed from plan to diagnosis.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import REPO, quiet, remove_cache_volumes, summary
from simulator.build import endpoints
from simulator.build.pipeline import run_build
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, Options

EXAMPLE = REPO / "examples" / "fastapi-pydantic"


def bench_example(workdir: Path, runs: int) -> dict[str, object]:
    """Median seconds from plan to diagnosis, and what the diagnosis said."""
    client = endpoints.connect()
    repo = workdir / "fastapi-pydantic"
    shutil.copytree(EXAMPLE, repo)
    options = Options()  # as `render-sim simulate examples/fastapi-pydantic`
    plans: list[BuildPlan] = []
    seconds: list[float] = []
    failure_class = package = outcome = ""
    try:
        for attempt in range(runs + 1):  # the first run is the warm-up
            started = time.perf_counter()
            plan = make_plan(repo, options, client=client)
            plans.append(plan)
            service = plan.services[0]
            result = run_build(client, plan, service, index=PackageIndex(), echo=quiet)
            diagnosis = result.diagnosis
            assert diagnosis is not None, "the example's build must fail"
            if attempt:
                seconds.append(time.perf_counter() - started)
            outcome, failure_class = result.outcome, diagnosis.failure_class
            package = str(diagnosis.package or "")
    finally:
        remove_cache_volumes(client, plans[-1:])
    return {
        "to_diagnosis_s": summary(seconds),
        "outcome": outcome,
        "class": failure_class,
        "package": package,
    }

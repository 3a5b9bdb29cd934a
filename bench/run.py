"""`make bench`: render-sim's benchmarks, figures written to bench/results.json.

- explain: throughput on ~50 MB logs (bench_explain.py);
- corpus: classification accuracy over the failure corpus (shared/corpus beside the repo);
- simulate: warm time to diagnosis for the shipped example (images already built), median of
  several runs, and render-sim's own fixed cost (plan, copy, container start, venv) measured on
  a build command that does nothing.

Speed targets are checked here, never in tests. Usage: python bench/run.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator import engine  # noqa: E402
from simulator.classifier import classify  # noqa: E402
from simulator.plan import Options, make_plan  # noqa: E402
from simulator.simulation import build_image, diagnose, simulate_service  # noqa: E402
from simulator.wheels import PackageIndex  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
EXAMPLE = REPO / "examples" / "fastapi-pydantic"


def _quiet(_kind: str, _line: str) -> None:
    """Echo nothing."""


def _explain_at(size_mb: float) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_explain.py"),
            "--json-only",
            "--size-mb",
            str(size_mb),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def bench_explain() -> dict[str, object]:
    """Throughput at 50 MB, and at 25 MB to show the time grows linearly with the size."""
    full, half = _explain_at(50), _explain_at(25)
    per_mb = {
        r["log"]: {
            "25MB_s_per_MB": round(h["seconds"] / h["megabytes"], 4),
            "50MB_s_per_MB": round(r["seconds"] / r["megabytes"], 4),
        }
        for r, h in zip(full["results"], half["results"], strict=True)
    }
    return {**full, "linearity": per_mb}


def bench_corpus() -> dict[str, object]:
    """Share of corpus logs that get their labelled class (no network)."""
    total = right = 0
    offline = PackageIndex(offline=True)
    for path in sorted(CORPUS.glob("*.log")):
        label = path.name.split("--", 1)[0]
        text = path.read_text(encoding="utf-8").split("---\n", 2)[2]
        total += 1
        right += classify(text, None, offline).failure_class == label
    return {"logs": total, "classified_right": right, "accuracy": round(right / max(total, 1), 4)}


def bench_simulate(runs: int) -> dict[str, object]:
    """Warm simulate of the example to diagnosis, and the fixed cost of an empty build."""
    client = engine.connect()
    timings: dict[str, list[float]] = {"example_to_diagnosis_s": [], "empty_build_s": []}
    for key, options, repo in (
        ("example_to_diagnosis_s", Options(), EXAMPLE),
        ("empty_build_s", Options(build_command="true"), EXAMPLE),
    ):
        plan = make_plan(repo, options, client=client)
        service = plan.services[0]
        image, base = build_image(client, plan, service)  # warm-up: builds once if needed
        for _ in range(runs):
            start = time.monotonic()
            plan = make_plan(repo, options, client=client)
            result = simulate_service(client, plan, service, image=image, base=base, echo=_quiet)
            if not result.succeeded:
                diagnose(plan, service, result, PackageIndex())
            timings[key].append(time.monotonic() - start)
    return {
        key: {"median": round(statistics.median(values), 2), "runs": [round(v, 2) for v in values]}
        for key, values in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
            "python": platform.python_version(),
        },
        "explain": bench_explain(),
        "corpus": bench_corpus(),
        "simulate": bench_simulate(args.runs),
    }
    path = REPO / "bench" / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()

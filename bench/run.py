"""`make bench`: render-sim's benchmarks, figures written to bench/results.json.

Sections, in the order they run (each module's docstring says how it measures):
- explain: throughput on ~50 MB logs (bench_explain.py);
- corpus: classification accuracy over the failure corpus (shared/corpus beside the repo);
- check: `render-sim check` on a 50-package requirements file (check.py);
- planner: the fix planner's candidates on a 50-package service, checked by the resolver
  (planner.py; goal under 10 s);
- overhead: render-sim against a bare Docker run of the same 10-second build, and the fixed cost
  of an empty build phase by phase (overhead.py, phases.py);
- example: warm time to diagnosis for examples/fastapi-pydantic (example.py);
- build_cache: first, second and cleared deploy with pip and with uv (build_cache.py);
- images: cold and warm image time per Python, cold under a namespace of the bench's own
  (cold_images.py);
- scenarios: the hermetic scenario suite with one and two workers (scenario_suite.py);
- engines: a 40-scenario generated suite on one Docker engine against two (engines.py);
- fleet_check: `render-sim check DIR` over 30 generated repos, cold, warm and with the default
  moved (fleet_check.py).

Everything the bench creates (logs, caches, images, volumes, fixtures) is its own and removed or
left in a temporary directory. Speed targets are checked here, never in tests. The machine's load
is recorded: other work on it shows in the figures.

Usage: python bench/run.py [--runs 3] [--only SECTION ...] [--skip SECTION ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.build_cache import bench_build_cache  # noqa: E402
from bench.check import bench_check  # noqa: E402
from bench.cold_images import bench_images  # noqa: E402
from bench.engines import bench_engines  # noqa: E402
from bench.example import bench_example  # noqa: E402
from bench.fleet_check import bench_fleet_check  # noqa: E402
from bench.overhead import bench_overhead  # noqa: E402
from bench.planner import bench_planner  # noqa: E402
from bench.scenario_suite import bench_scenarios  # noqa: E402
from simulator.diagnose.catalogue import load_rules  # noqa: E402
from simulator.diagnose.classifier import classify  # noqa: E402
from simulator.index.client import PackageIndex  # noqa: E402
from tests.corpus import (  # noqa: E402
    CORPUS,
    Outcome,
    corpus_logs,
    read_corpus_log,
    rule_sources,
    summary,
)

RESULTS = REPO / "bench" / "results.json"
BUDGET_S = 15 * 60


def _explain_at(size_mb: float) -> dict[str, Any]:
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
    """Class and package accuracy, and per-class precision/recall, over the failure corpus (no
    network): over every log, and held out, over the logs no rule or signal names as its
    `source` (the rules were not written from them)."""
    offline = PackageIndex(offline=True)
    catalogue = load_rules()
    cited = rule_sources(
        [source for rule in catalogue.rules for source in rule.sources]
        + [signal.source for rule in catalogue.rules for signal in rule.signals]
    )
    outcomes = []
    for log in corpus_logs(CORPUS):
        diagnosis = classify(log.body, None, offline)
        package = diagnosis.package.name if diagnosis.package else None
        outcomes.append(Outcome(log, diagnosis.failure_class, package))
    held_out = [o for o in outcomes if o.log.name not in cited]
    real = []
    for path in sorted((REPO / "tests" / "unit" / "real_logs").glob("*.log")):
        log = read_corpus_log(path)
        diagnosis = classify(log.body, None, offline)
        real.append(
            Outcome(
                log, diagnosis.failure_class, diagnosis.package.name if diagnosis.package else None
            )
        )
    return {
        "corpus": str(CORPUS),
        "held_out": summary(held_out),
        "all": summary(outcomes),
        "real_logs": summary(real),
        "cited_by_rules": sorted(cited & {o.log.name for o in outcomes}),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _summary(results: dict[str, Any]) -> list[str]:
    """A few lines with the figures people ask for first."""
    lines = []

    def get(*path: str) -> Any:
        node: Any = results
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    if get("overhead") is not None:
        ten = "overhead", "ten_second_build"
        lines.append(
            f"10-second build: render-sim {get(*ten, 'render_sim_s', 'median')} s, bare Docker "
            f"{get(*ten, 'floor_s', 'median')} s, ratio {get(*ten, 'ratio', 'median')} "
            f"(goal <= 1.10)"
        )
        empty = "overhead", "empty_build"
        lines.append(
            f"empty build: {get(*empty, 'render_sim_s', 'median')} s in-process, "
            f"{get(*empty, 'render_sim_cli_s', 'median')} s by the CLI, bare Docker "
            f"{get(*empty, 'floor_s', 'median')} s (goal: fixed cost < 2 s)"
        )
    if get("example") is not None:
        lines.append(
            f"example to diagnosis (warm): {get('example', 'to_diagnosis_s', 'median')} s, "
            f"{get('example', 'class')}"
        )
    for tool in ("pip", "uv"):
        runs = get("build_cache", tool, "runs")
        if isinstance(runs, list):
            times = " / ".join(f"{r['seconds']} s ({r['downloading_lines']} dl)" for r in runs)
            lines.append(f"build cache, {tool}: first / second / cleared: {times}")
    pythons = get("images", "pythons")
    if isinstance(pythons, dict):
        for version, entry in pythons.items():
            lines.append(
                f"image {version}: cold {entry.get('cold_s')} s, "
                f"warm {entry.get('warm_s', {}).get('median')} s"
            )
    if get("explain") is not None:
        explained = get("explain", "results")
        rates = [
            f"{r['log']} {r['mb_per_s']} MB/s ({r.get('cost_vs_line_read')}x a line read)"
            for r in explained or []
        ]
        lines.append("explain 50 MB: " + ", ".join(rates) + " (goal <= 15x)")
    for part in ("held_out", "all", "real_logs"):
        figures = get("corpus", part)
        if isinstance(figures, dict):
            lines.append(
                f"corpus {part.replace('_', '-')}: {figures['logs']} logs, class "
                f"{figures['class_accuracy']:.1%}, package {figures['package_accuracy']:.1%}"
                f" of {figures['package_logs']}"
            )
    table = get("corpus", "held_out", "per_class")
    if isinstance(table, dict):
        lines.append("held-out per class (precision / recall / logs):")
        lines += [
            f"  {name:<32} {row['precision']:.2f} / {row['recall']:.2f} / {row['logs']}"
            for name, row in table.items()
        ]
    check_runs = get("check", "runs")
    if isinstance(check_runs, list):
        lines.append(
            "check, 50 requirements: " + " / ".join(f"{r['seconds']} s" for r in check_runs)
        )
    planner = get("planner", "warm_candidates_s_median")
    if planner is not None:
        fixes = (get("planner", "runs") or [{}])[-1].get("fixes", [])
        lines.append(
            f"fix planner, 50 requirements: candidates checked in {planner} s (goal < 10 s), "
            f"{len(fixes)} fix(es)"
        )
    if get("scenarios") is not None:
        total = get("scenarios", "scenarios")
        walls = [
            f"jobs {jobs} {get('scenarios', f'jobs_{jobs}', 'wall_s')} s "
            f"({get('scenarios', f'jobs_{jobs}', 'passed')}/{total} passed)"
            for jobs in (1, 2)
        ]
        lines.append(f"hermetic scenarios: {', '.join(walls)}")
    if get("engines", "two_engines_jobs_1") is not None:
        walls = [
            f"{label} {get('engines', key, 'wall_s')} s ({get('engines', key, 'passed')} passed)"
            for label, key in (
                ("one engine", "one_engine_jobs_1"),
                ("one engine, 2 workers", "one_engine_jobs_2"),
                ("two engines", "two_engines_jobs_1"),
            )
        ]
        lines.append(
            f"{get('engines', 'scenarios')} generated scenarios: {', '.join(walls)}; one/two "
            f"engines {get('engines', 'ratio_one_vs_two_engines')}x; image copy to the second "
            f"engine {get('engines', 'image_copy_s')} s"
        )
    for run in ("cold", "warm", "default_moved_to_3_13"):
        seconds = get("fleet_check", run, "seconds")
        if seconds is not None:
            lines.append(
                f"fleet check, {get('fleet_check', 'repos')} repos, {run.replace('_', ' ')}: "
                f"{seconds} s ({get('fleet_check', run, 'seconds_per_repo')} s per repo), "
                f"{get('fleet_check', run, 'failing')} service(s) failing"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timed run")
    parser.add_argument("--only", nargs="*", default=[], help="run only these sections")
    parser.add_argument("--skip", nargs="*", default=[], help="leave these sections out")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="render-sim-bench-"))
    # Logs, image-build logs and the index cache go to the bench's own home, not the user's.
    os.environ["RENDER_SIM_HOME"] = str(workdir / "home")
    os.environ.pop("RENDER_SIM_CACHE", None)
    sections: dict[str, Callable[[], dict[str, object]]] = {
        "explain": bench_explain,
        "corpus": bench_corpus,
        "check": lambda: bench_check(workdir),
        "planner": lambda: bench_planner(workdir, args.runs),
        "overhead": lambda: bench_overhead(workdir, args.runs),
        "example": lambda: bench_example(workdir, args.runs),
        "build_cache": lambda: bench_build_cache(workdir),
        "images": lambda: bench_images(workdir),
        "scenarios": lambda: bench_scenarios(workdir),
        "engines": lambda: bench_engines(workdir),
        "fleet_check": lambda: bench_fleet_check(workdir),
    }
    unknown = sorted(set(args.only + args.skip) - set(sections))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; sections: {', '.join(sections)}")
    chosen = [s for s in sections if (not args.only or s in args.only) and s not in args.skip]

    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_at_start": _load(),
        },
    }
    seconds: dict[str, float] = {}
    for name in chosen:
        print(f"[bench] {name} ...", flush=True)
        begun = time.perf_counter()
        errors: list[str] = []
        for _attempt in range(2):  # once more after a failure: the engine is shared with others
            try:
                results[name] = sections[name]()
            except Exception as error:  # noqa: BLE001 - one broken section must not hide the rest
                errors.append(f"{type(error).__name__}: {error}")
                print(f"[bench] {name} failed: {errors[-1]}", flush=True)
                results[name] = {"error": errors[-1]}
                continue
            if errors:
                results[name]["earlier_attempt_failed"] = errors[0]
            break
        seconds[name] = round(time.perf_counter() - begun, 1)
        print(f"[bench] {name}: {seconds[name]} s", flush=True)
    total = time.perf_counter() - started
    results["bench"] = {
        "sections_s": seconds,
        "total_s": round(total, 1),
        "within_budget": total < BUDGET_S,
        "load_at_end": _load(),
    }
    if not args.only and not args.skip:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        where = str(RESULTS)
    else:  # a partial run never overwrites the full figures
        partial = workdir / "results.json"
        partial.write_text(json.dumps(results, indent=2) + "\n")
        where = str(partial)
    print("\n".join(["", "render-sim bench", *_summary(results)]))
    print(f"total {total:.0f} s; figures in {where}")
    failed = [name for name in chosen if "error" in results[name]]
    if failed:
        raise SystemExit(f"sections that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()

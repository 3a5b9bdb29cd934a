"""`render-sim check` on a 50-package requirements file (bench/data/check-50).

The check resolves the whole tree wheels-only for Render's default Python against PyPI (no
Docker). It runs twice: the first run fills render-sim's package-index cache, the second shows
the time with it warm.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import RENDER_DEFAULT_PYTHON
from simulator.check.preflight import check_repo
from simulator.plan.models import Options

REQUIREMENTS = Path(__file__).resolve().parent / "data" / "check-50" / "requirements.txt"
RUNS = 2


def bench_check(workdir: Path) -> dict[str, object]:
    """Seconds per run, and what the check found (packages, source builds, problems)."""
    repo = workdir / "check-50"
    repo.mkdir(parents=True, exist_ok=True)
    shutil.copy(REQUIREMENTS, repo / "requirements.txt")
    direct = [
        line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")
    ]
    options = Options(python=RENDER_DEFAULT_PYTHON, probe_network=False)
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = check_repo(repo, options)
        seconds = time.perf_counter() - started
        (service,) = report.services
        runs.append(
            {
                "seconds": round(seconds, 1),
                "packages": service.packages,
                "source_builds": [
                    f"{b.name} {b.version or ''}".strip() for b in service.source_builds
                ],
                "problems": [p.message[:200] for p in service.problems],
                "exit_code": report.exit_code,
            }
        )
    return {"direct_requirements": len(direct), "python": RENDER_DEFAULT_PYTHON, "runs": runs}

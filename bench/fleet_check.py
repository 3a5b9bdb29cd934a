"""`render-sim check DIR` over 30 generated repos against PyPI (no Docker).

Each repo holds one of ten pinned requirement sets (web frameworks, the data stack, database
drivers, ...; some with releases that have no wheel for Python 3.14, so Render's default builds
them from source). Repos 10-19 pin Python 3.13 in `.python-version`; repos 20-29 repeat 0-9 on
the default, so the run resolves 20 distinct (inputs, Python) pairs for 30 repos: each is
resolved once for the whole fleet.

Three runs, each a fresh `render-sim check` process (a process keeps its resolutions): the first
fills render-sim's package-index cache, the second shows the time with it warm, the third asks
what breaks when Render's default moves to Python 3.13 (`--python 3.13`). The figure: wall
seconds, and seconds per repo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SETS = (
    ("fastapi==0.115.0", "pydantic==2.9.2"),
    ("requests==2.32.3", "flask==3.0.3"),
    ("numpy==1.26.4", "pandas==2.1.4"),
    ("django==5.1.4", "psycopg2==2.9.10"),
    ("uvicorn==0.30.6", "httpx==0.27.2"),
    ("sqlalchemy==2.0.36", "alembic==1.13.3"),
    ("pillow==10.4.0", "requests==2.32.3"),
    ("boto3==1.35.0",),
    ("celery==5.4.0", "redis==5.0.8"),
    ("gunicorn==23.0.0", "whitenoise==6.7.0", "django==5.1.4"),
)
REPOS = 30
CREATED = "2026-03-01"  # Render's default then: Python 3.14.3


def write_fleet(root: Path) -> Path:
    for number in range(REPOS):
        repo = root / f"service-{number:02d}"
        repo.mkdir(parents=True)
        (repo / "requirements.txt").write_text("\n".join(SETS[number % len(SETS)]) + "\n")
        if 10 <= number < 20:
            (repo / ".python-version").write_text("3.13\n")
    return root


def _run(root: Path, *extra: str) -> dict[str, object]:
    command = [sys.executable, "-m", "simulator", "check", str(root), "--created", CREATED]
    started = time.perf_counter()
    proc = subprocess.run(
        [*command, *extra, "--json"], capture_output=True, text=True, env=dict(os.environ)
    )
    seconds = time.perf_counter() - started
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": (proc.stderr or proc.stdout)[-500:], "exit_code": proc.returncode}
    table = data.get("table", [])
    return {
        "seconds": round(seconds, 1),
        "seconds_per_repo": round(seconds / REPOS, 2),
        "exit_code": proc.returncode,
        "services": len(table),
        "failing": sum(row["status"] == "fails" for row in table),
        "errors": sum(row["status"] == "error" for row in table),
        "compiled": sorted({row["source_builds"] for row in table if row["status"] == "fails"}),
    }


def bench_fleet_check(workdir: Path) -> dict[str, object]:
    """Cold, warm and `--python 3.13` runs over the generated fleet."""
    root = write_fleet(workdir / "fleet")
    return {
        "repos": REPOS,
        "distinct_resolutions": 2 * len(SETS),
        "cold": _run(root),
        "warm": _run(root),
        "default_moved_to_3_13": _run(root, "--python", "3.13"),
    }

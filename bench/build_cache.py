"""Render's build cache, simulated: a second deploy downloads nothing that the first did.

Two services install about 30 MB of real wheels from PyPI (numpy and pandas with their
dependencies, all with CPython 3.14 wheels): one with pip (`pip install -r requirements.txt`),
one with uv (`uv sync --frozen`, bench/data/uv-project). Each is simulated three times on
Render's default Python: a first deploy (empty cache), a second one (pip's and uv's caches kept
in the service's cache volume at /opt/render/.cache), and one with `--clear-cache` (Render's
"Clear build cache & deploy"). Each run counts the downloads the tool reports. The bench's cache
volumes are removed afterwards.

pip stores a download in its HTTP cache only when the response allows it (Cache-Control, ETag):
PyPI's responses do. A proxy that strips those headers (some TLS-inspecting proxies do) leaves
pip's cache empty, on the host as in render-sim; the bench checks the headers and says so.
uv keeps wheels by their URL whatever the headers say.
"""

from __future__ import annotations

import re
import ssl
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import RENDER_DEFAULT_PYTHON, blueprint, remove_cache_volumes, write_repo
from bench.overhead import render_sim_run
from simulator.build import endpoints
from simulator.plan.build_plan import find_ca_cert
from simulator.plan.models import BuildPlan, Options

UV_PROJECT = Path(__file__).resolve().parent / "data" / "uv-project"
REQUIREMENTS = """\
numpy==2.3.5
pandas==2.3.3
python-dateutil==2.9.0.post0
pytz==2025.2
tzdata==2025.2
six==1.17.0
"""
# A wheel pip downloads in this bench: its response headers say whether pip may cache it.
PROBE_URL = (
    "https://files.pythonhosted.org/packages/b7/ce/"
    "149a00dd41f10bc29e5921b496af8b574d8413afcd5e30dfa0ed46c2cc5e/six-1.17.0-py2.py3-none-any.whl"
)
# pip: "  Downloading numpy-2.3.5-...whl (16.6 MB)"; uv: "Downloading numpy (15.8MiB)"
DOWNLOADING = re.compile(r"^\s*Downloading (\S+)(?: \(([\d.]+) ?(kB|MB|KiB|MiB)\))?", re.M)
USING_CACHED = re.compile(r"^\s*Using cached \S+", re.M)
UV_PREPARED = re.compile(r"^Prepared (\d+) packages?", re.M)
RUNS = (
    ("first deploy (empty cache)", False),
    ("second deploy (cache kept)", False),
    ("clear build cache & deploy", True),
)


@dataclass
class CacheRun:
    """One deploy of the cache bench and what the installer said about its downloads."""

    run: str
    outcome: str
    seconds: float
    downloading_lines: int  # a retried download counts twice
    downloaded: list[str]  # what was downloaded, each once
    downloaded_mb: float
    using_cached_lines: int  # pip
    prepared_packages: int  # uv: packages it had to fetch (0 = everything came from its cache)
    cache_restored_line: bool  # Render's `==> Downloading cache...`


def _megabytes(size: str, unit: str) -> float:
    return float(size) * {"kB": 1e-3, "MB": 1.0, "KiB": 1024 / 1e6, "MiB": 1024**2 / 1e6}[unit]


def _run(repo: Path, options: Options, name: str) -> tuple[CacheRun, BuildPlan]:
    seconds, plan, result = render_sim_run(endpoints.connect(), repo, options)
    text = result.log_text
    downloads = DOWNLOADING.findall(text)
    sizes = {dist: _megabytes(size, unit) for dist, size, unit in downloads if size}
    run = CacheRun(
        run=name,
        outcome=result.outcome,
        seconds=round(seconds, 1),
        downloading_lines=len(downloads),
        downloaded=sorted({dist for dist, _, _ in downloads}),
        downloaded_mb=round(sum(sizes.values()), 1),
        using_cached_lines=len(USING_CACHED.findall(text)),
        prepared_packages=sum(int(n) for n in UV_PREPARED.findall(text)),
        cache_restored_line="==> Downloading cache..." in text,
    )
    return run, plan


def _three_deploys(repo: Path) -> list[CacheRun]:
    runs: list[CacheRun] = []
    plans: list[BuildPlan] = []
    try:
        for name, clear in RUNS:
            run, plan = _run(repo, Options(python=RENDER_DEFAULT_PYTHON, clear_cache=clear), name)
            runs.append(run)
            plans.append(plan)
    finally:
        remove_cache_volumes(endpoints.connect(), plans)
    return runs


def _verdict(runs: list[CacheRun]) -> dict[str, object]:
    first, second, cleared = runs
    return {
        "runs": [asdict(run) for run in runs],
        "second_downloads_nothing": all(r.outcome == "succeeded" for r in runs)
        and bool(first.downloaded)
        and not second.downloaded
        and not second.prepared_packages,
        "clear_downloads_again": bool(first.downloaded) and cleared.downloaded == first.downloaded,
        "seconds_saved_by_cache": round(first.seconds - second.seconds, 1),
        "clear_vs_second_s": round(cleared.seconds - second.seconds, 1),
    }


def pip_may_cache() -> dict[str, object]:
    """Whether this machine's route to PyPI keeps the headers pip's HTTP cache needs."""
    ca, _ = find_ca_cert(None)
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    request = urllib.request.Request(PROBE_URL, method="HEAD")
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
    kept = sorted(k for k in ("cache-control", "etag", "expires") if k in headers)
    return {"url": PROBE_URL, "caching_headers": kept, "pip_can_cache": bool(kept)}


def bench_build_cache(workdir: Path) -> dict[str, object]:
    """pip and uv: first deploy, second deploy, deploy after clearing the cache."""
    started = time.perf_counter()
    pip_repo = write_repo(
        workdir / "build-cache-pip",
        {
            "render.yaml": blueprint("cache-bench-pip", "pip install -r requirements.txt"),
            "requirements.txt": REQUIREMENTS,
            "main.py": "import pandas\nprint(pandas.__version__)\n",
        },
    )
    uv_repo = write_repo(
        workdir / "build-cache-uv",
        {
            "render.yaml": blueprint("cache-bench-uv", "uv sync --frozen"),
            "pyproject.toml": (UV_PROJECT / "pyproject.toml").read_text(),
            "uv.lock": (UV_PROJECT / "uv.lock").read_text(),
            "main.py": "import pandas\nprint(pandas.__version__)\n",
        },
    )
    return {
        "python": RENDER_DEFAULT_PYTHON,
        "pip": {
            "requirements": REQUIREMENTS.split(),
            "headers": pip_may_cache(),
            **_verdict(_three_deploys(pip_repo)),
        },
        "uv": {
            "project": str(UV_PROJECT.relative_to(UV_PROJECT.parents[2])),
            **_verdict(_three_deploys(uv_repo)),
        },
        "bench_seconds": round(time.perf_counter() - started, 1),
    }

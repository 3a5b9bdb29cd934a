"""The HTML report of a real out-of-memory build: `render-sim simulate --report` on a repo whose
build grows 16 MiB every 0.3 s past a 256 MB limit. The memory curve, sampled from the
container's cgroup through the engine's stats stream, climbs to the limit; the OOM kill, as the
engine reported it, is marked inside the build command's phase; Chromium draws it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import dump_dom

pytestmark = pytest.mark.docker

GROW = """\
import time

tables = []
for step in range(1, 65):
    tables.append(bytearray(b"\\x01") * (16 * 1024 * 1024))  # touched: charged to the cgroup
    print(f"table {step}: {step * 16} MiB", flush=True)
    time.sleep(0.3)
"""
PHASES = ["image", "container", "copy", "venv", "build command", "container removal", "diagnosis"]


@dataclass
class ReportRun:
    proc: subprocess.CompletedProcess[str]
    requested: Path  # --report FILE

    def data(self) -> dict[str, Any]:
        try:
            return json.loads(self.proc.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"no JSON (exit {self.proc.returncode}):\n{self.proc.stderr[-4000:]}"
            ) from None

    def result(self) -> dict[str, Any]:
        results = self.data()["results"]
        assert len(results) == 1, results
        return results[0]

    def page(self) -> str:
        return self.requested.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def oom_run(
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> ReportRun:
    root = tmp_path_factory.mktemp("report-oom")
    repo = repo_writer(root / "repo", "python grow.py", service="hungry", files={"grow.py": GROW})
    requested = root / "out" / "report.html"
    requested.parent.mkdir()
    proc = render_sim(
        "simulate",
        str(repo),
        "--json",
        "--memory",
        "256m",
        "--offline",
        "--report",
        str(requested),
    )
    return ReportRun(proc, requested)


def curve_points(page: str) -> list[tuple[float, float]]:
    found = re.search(r'<polyline id="memory-curve" points="([^"]+)"', page)
    assert found is not None, "no memory curve in the report"
    return [(float(x), float(y)) for x, y in (p.split(",") for p in found.group(1).split())]


def limit_y(page: str) -> float:
    found = re.search(r'<line id="memory-limit" [^>]*y1="([0-9.]+)"', page)
    assert found is not None, "no limit line in the report"
    return float(found.group(1))


def baseline_y(page: str) -> float:
    found = re.search(r'<line class="axis" x1="[0-9.]+" x2="[0-9.]+" y1="([0-9.]+)"', page)
    assert found is not None
    return float(found.group(1))


def marker(page: str) -> tuple[float, bool, float]:
    """The first OOM marker's time, whether it came from the engine's event, and its x."""
    found = re.search(
        r'<g id="oom-marker" class="oom-marker" data-t="([0-9.]+)" data-exact="(\w+)">'
        r'<title>[^<]*</title><line x1="([0-9.]+)"',
        page,
    )
    assert found is not None, "no OOM marker in the report"
    return float(found.group(1)), found.group(2) == "true", float(found.group(3))


def test_oom_build_ends_out_of_memory(oom_run: ReportRun) -> None:
    assert oom_run.proc.returncode == 1, oom_run.proc.stderr[-4000:]
    assert oom_run.result()["outcome"] == "out-of-memory"


def test_report_is_written_where_json_says(oom_run: ReportRun) -> None:
    data = oom_run.data()
    assert data["report"] == str(oom_run.requested)
    beside = Path(oom_run.result()["report"])
    assert beside == Path(oom_run.result()["log_path"]).with_suffix(".html")
    assert beside.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert oom_run.page().startswith("<!DOCTYPE html>")


def test_memory_curve_reaches_the_limit(oom_run: ReportRun) -> None:
    page = oom_run.page()
    highest = min(y for _, y in curve_points(page))  # SVG's y grows downwards
    assert highest == pytest.approx(limit_y(page), abs=1.0)


def test_memory_samples_climb_towards_the_limit(oom_run: ReportRun) -> None:
    # Leaving out the point the kill adds: the one-second samples themselves rise past half
    # the limit before the kill.
    page = oom_run.page()
    _, _, kill_x = marker(page)
    sampled = [y for x, y in curve_points(page) if abs(x - kill_x) > 0.05]
    assert len(sampled) >= 3, sampled
    halfway = (baseline_y(page) + limit_y(page)) / 2
    assert min(sampled) < halfway, (sampled, halfway)


def test_oom_marker_comes_from_the_engines_event(oom_run: ReportRun) -> None:
    _, exact, _ = marker(oom_run.page())
    assert exact
    assert len(oom_run.result()["memory"]["oom_kills_s"]) >= 1


def test_oom_marker_is_inside_the_build_command_phase(oom_run: ReportRun) -> None:
    t, _, _ = marker(oom_run.page())
    phase = {p["name"]: p for p in oom_run.result()["phases"]}["build command"]
    assert phase["start_s"] <= t <= phase["start_s"] + phase["duration_s"] + 0.5


def test_phases_are_recorded_in_order(oom_run: ReportRun) -> None:
    assert [p["name"] for p in oom_run.result()["phases"]] == PHASES


def test_cgroup_peak_is_the_limit(oom_run: ReportRun) -> None:
    memory = oom_run.result()["memory"]
    assert memory["limit_bytes"] == 256 * 1024**2
    assert memory["highest_bytes"] >= 0.95 * memory["limit_bytes"]


def test_chromium_renders_the_real_reports_oom_marker(oom_run: ReportRun, tmp_path: Path) -> None:
    dom = dump_dom(oom_run.requested, tmp_path / "profile")
    assert '<g id="oom-marker"' in dom and '<polyline id="memory-curve"' in dom

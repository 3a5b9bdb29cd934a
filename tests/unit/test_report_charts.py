"""The HTML report's SVG charts: memory against the limit, OOM kills, phases. No Docker."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from simulator.build.memory import MemorySample, MemoryTrace
from simulator.build.timeline import Phase
from simulator.report.charts import MAX_POINTS, memory_chart, phase_timeline
from tests.report_samples import LIMIT, MIB, PHASES, sample_trace

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_id(root: ET.Element, ident: str) -> ET.Element:
    found = root.find(f".//*[@id='{ident}']")
    assert found is not None, f"no #{ident} in the chart"
    return found


def curve(root: ET.Element) -> list[tuple[float, float]]:
    points = by_id(root, "memory-curve").attrib["points"].split()
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points)]


def limit_y(root: ET.Element) -> float:
    return float(by_id(root, "memory-limit").attrib["y1"])


def baseline_y(root: ET.Element) -> float:
    axes = [e for e in root.iter(f"{SVG}line") if e.attrib.get("class") == "axis"]
    horizontal = [e for e in axes if e.attrib["y1"] == e.attrib["y2"]]
    return float(horizontal[0].attrib["y1"])


def trace_of(*samples: tuple[float, int], kills: tuple[float, ...] = ()) -> MemoryTrace:
    return MemoryTrace(
        limit_bytes=LIMIT,
        samples=[MemorySample(t, n) for t, n in samples],
        oom_kills_s=list(kills),
        start_s=0.0,
        end_s=10.0,
        peak_bytes=max(n for _, n in samples),
        oom_killed=bool(kills),
    )


def test_sample_at_the_limit_is_drawn_on_the_limit_line() -> None:
    root = parse(memory_chart(trace_of((1.0, 10 * MIB), (5.0, LIMIT))))
    assert curve(root)[1][1] == pytest.approx(limit_y(root), abs=0.11)


def test_sample_at_half_the_limit_is_drawn_halfway_up_to_the_limit_line() -> None:
    root = parse(memory_chart(trace_of((1.0, LIMIT // 2), (5.0, LIMIT))))
    halfway = (baseline_y(root) + limit_y(root)) / 2
    assert curve(root)[0][1] == pytest.approx(halfway, abs=0.11)


def test_no_memory_is_drawn_on_the_baseline() -> None:
    root = parse(memory_chart(trace_of((0.0, 0), (5.0, LIMIT))))
    assert curve(root)[0][1] == pytest.approx(baseline_y(root), abs=0.11)


def test_samples_are_spaced_by_their_times() -> None:
    root = parse(memory_chart(trace_of((0.0, MIB), (2.0, MIB), (6.0, MIB))))
    (x0, _), (x2, _), (x6, _) = curve(root)
    assert x6 - x0 == pytest.approx(3 * (x2 - x0), abs=0.2)


def test_the_limit_line_is_labelled_with_the_limit() -> None:
    svg = memory_chart(trace_of((1.0, MIB)))
    assert "limit 256 MB" in svg


def test_oom_marker_is_placed_at_the_kill_time() -> None:
    root = parse(memory_chart(trace_of((0.0, MIB), (4.0, 100 * MIB), (8.0, MIB), kills=(6.0,))))
    (x0, _), (x4, _), _, (x8, _) = curve(root)  # the kill adds a point at 6 s
    marker_line = by_id(root, "oom-marker").find(f"{SVG}line")
    assert marker_line is not None
    assert float(marker_line.attrib["x1"]) == pytest.approx((x4 + x8) / 2, abs=0.2)
    assert float(marker_line.attrib["x1"]) == pytest.approx(x0 + 6 / 8 * (x8 - x0), abs=0.2)


def test_curve_reaches_the_cgroup_peak_at_the_kill() -> None:
    trace = trace_of((0.0, MIB), (4.0, 100 * MIB), (8.0, MIB), kills=(6.0,))
    trace.peak_bytes = LIMIT
    root = parse(memory_chart(trace))
    x_kill = float(by_id(root, "oom-marker").attrib["data-t"])
    assert x_kill == 6.0
    assert min(y for _, y in curve(root)) == pytest.approx(limit_y(root), abs=0.11)


def test_oom_marker_says_the_kill_time() -> None:
    svg = memory_chart(trace_of((0.0, MIB), (8.0, MIB), kills=(6.0,)))
    assert "OOM kill at 6.0 s" in svg


def test_every_kill_is_marked() -> None:
    root = parse(memory_chart(trace_of((0.0, MIB), (8.0, MIB), kills=(3.0, 6.0))))
    markers = [g for g in root.iter(f"{SVG}g") if g.attrib.get("class") == "oom-marker"]
    assert [float(g.attrib["data-t"]) for g in markers] == [3.0, 6.0]


def test_no_oom_marker_when_the_build_was_not_killed() -> None:
    svg = memory_chart(trace_of((0.0, MIB), (8.0, 100 * MIB)))
    assert "oom-marker" not in svg


def test_kill_without_engine_event_is_marked_approximately() -> None:
    trace = sample_trace(kills=())
    trace.oom_killed = True  # the cgroup's counter says so; no event arrived
    trace.peak_bytes = trace.samples[3].peak_bytes
    root = parse(memory_chart(trace))
    marker = by_id(root, "oom-marker")
    assert marker.attrib["data-exact"] == "false"
    assert float(marker.attrib["data-t"]) == trace.samples[3].t_s


def test_a_chart_without_samples_says_so() -> None:
    trace = MemoryTrace(limit_bytes=LIMIT, start_s=0.0, end_s=0.4)
    svg = memory_chart(trace)
    assert "no memory sample" in svg and "memory-curve" not in svg


def test_a_long_build_keeps_its_highest_sample_when_thinned() -> None:
    samples = [(float(t), 10 * MIB) for t in range(7200)]
    samples[4321] = (4321.0, 200 * MIB)
    root = parse(memory_chart(trace_of(*samples)))
    points = curve(root)
    assert len(points) <= MAX_POINTS
    expected = baseline_y(root) - 200 / 256 * (baseline_y(root) - limit_y(root))
    assert min(y for _, y in points) == pytest.approx(expected, abs=0.11)


def test_phase_bars_are_as_long_as_the_phases_took() -> None:
    root = parse(phase_timeline(PHASES))
    bars = {r.attrib["data-phase"]: r for r in root.iter(f"{SVG}rect") if "data-phase" in r.attrib}
    assert list(bars) == [p.name for p in PHASES]
    build = float(bars["build command"].attrib["width"])
    container = float(bars["container"].attrib["width"])
    assert build == pytest.approx(4.2 * container, rel=0.01)


def test_phase_bars_start_where_their_phases_started() -> None:
    root = parse(phase_timeline(PHASES))
    x = {
        r.attrib["data-phase"]: float(r.attrib["x"])
        for r in root.iter(f"{SVG}rect")
        if "data-phase" in r.attrib
    }
    # copy starts at 1.5 s, the build command at 2.0 s, the diagnosis at 6.8 s
    assert x["diagnosis"] - x["copy"] == pytest.approx(
        (6.8 - 1.5) / (2.0 - 1.5) * (x["build command"] - x["copy"]), rel=0.01
    )


def test_phase_timeline_says_each_duration() -> None:
    svg = phase_timeline(PHASES)
    assert ">4.2 s<" in svg and ">1.0 s<" in svg


def test_chart_text_is_escaped() -> None:
    svg = phase_timeline([Phase("<script>x</script>", 0.0, 1.0)])
    parse(svg)  # still well-formed
    assert "<script>" not in svg and "&lt;script&gt;" in svg

"""The HTML report's two charts, as inline SVG made here in Python (no script draws them): the
build's memory over time against its limit, with each OOM kill marked, and its phases on a time
line.

Both are plain functions of plain data (`MemoryTrace`, `Phase`s) returning SVG text; every text
in them is escaped. The elements a reader (or a test) looks for carry ids: `memory-curve` (the
samples), `memory-limit` (the limit), `oom-marker` (the first kill; every kill has the class),
`phase-timeline` (one `rect.phase` per phase, `data-phase` naming it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from simulator.build.memory import MemorySample, MemoryTrace
from simulator.build.timeline import Phase

WIDTH = 960
MEMORY_HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 20, 34  # margins around the plot area
MAX_POINTS = 1200  # a 2-hour build has 7,200 samples; the curve keeps each column's highest
FONT = 'font-family="sans-serif" font-size="11"'
_SECOND_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_MIB = 1024**2
_BYTE_STEPS = tuple(n * _MIB for n in (1, 2, 5, 10, 20, 50, 100, 128, 256, 512)) + tuple(
    n * 1024**3 for n in (1, 2, 4, 8, 16, 32, 64)
)
# Phase colours, by position: readable on white and told apart without colour by their labels.
_PHASE_FILLS = ("#6c8ebf", "#82b366", "#d6b656", "#b85450", "#9673a6", "#56a0a6", "#a67c52")


@dataclass(frozen=True)
class Scale:
    """Maps seconds to x and bytes to y inside a plot area (y grows downwards in SVG)."""

    t0: float
    t1: float
    top_bytes: float
    left: float
    right: float
    top: float
    bottom: float

    def x(self, t: float) -> float:
        span = self.t1 - self.t0
        return self.left + (t - self.t0) / span * (self.right - self.left)

    def y(self, n: float) -> float:
        return self.bottom - n / self.top_bytes * (self.bottom - self.top)


def size_text(n: float) -> str:
    """Bytes as people read them: "256 MB", "1.5 GB"."""
    if n >= 1024**3:
        return f"{n / 1024**3:.3g} GB"
    return f"{n / _MIB:.3g} MB" if n >= _MIB else f"{n / 1024:.3g} KB"


def seconds_text(t: float) -> str:
    """Seconds as people read them: "0.4 s", "42 s", "2 min 5 s"."""
    if t < 10:
        return f"{t:.1f} s"
    if t < 120:
        return f"{t:.0f} s"
    minutes, seconds = divmod(round(t), 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _step(span: float, steps: Sequence[float], most: int) -> float:
    """The smallest of `steps` giving at most `most` ticks over `span`."""
    for step in steps:
        if span / step <= most:
            return step
    return steps[-1] * math.ceil(span / steps[-1] / most)


def _ticks(start: float, end: float, step: float) -> list[float]:
    first = math.ceil(start / step - 1e-9) * step
    count = int((end - first) / step + 1e-9) + 1
    return [first + i * step for i in range(max(0, count))]


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def memory_scale(trace: MemoryTrace, width: int = WIDTH, height: int = MEMORY_HEIGHT) -> Scale:
    """The memory chart's scale: the sampled window across, zero to above the limit upwards."""
    t0 = trace.start_s
    t1 = max([trace.end_s, t0 + 1.0] + [t for t, _ in trace.kill_times()])
    top = max(trace.limit_bytes, trace.highest() or 0) * 1.08
    return Scale(t0, t1, top, LEFT, width - RIGHT, TOP, height - BOTTOM)


def curve_points(trace: MemoryTrace) -> list[MemorySample]:
    """The points the curve is drawn through: the samples, and the peak at each OOM kill.

    The kernel kills only when the cgroup's usage reaches its limit, so at a kill's moment the
    build used its peak (the cgroup's recorded peak, or the limit when none was read): that
    point is part of the curve, however the one-second samples fell around it.
    """
    points = list(trace.samples)
    at_kill = trace.peak_bytes if trace.peak_bytes else trace.limit_bytes
    points += [MemorySample(t, at_kill) for t, _ in trace.kill_times()]
    return sorted(points, key=lambda p: p.t_s)


def _thin(points: list[tuple[float, float]], columns: int) -> list[tuple[float, float]]:
    """At most `columns` points: per pixel column, the one highest on the chart (lowest y)."""
    if len(points) <= columns:
        return points
    left, right = points[0][0], points[-1][0]
    width = (right - left) / columns or 1.0
    best: dict[int, tuple[float, float]] = {}
    for x, y in points:
        column = min(columns - 1, int((x - left) / width))
        if column not in best or y < best[column][1]:
            best[column] = (x, y)
    return [best[c] for c in sorted(best)]


def memory_chart(
    trace: MemoryTrace,
    phases: Sequence[Phase] = (),
    width: int = WIDTH,
    height: int = MEMORY_HEIGHT,
) -> str:
    """The memory curve against the limit, the phases as bands behind it, each OOM kill marked."""
    scale = memory_scale(trace, width, height)
    parts = [
        f'<svg id="memory-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(_memory_summary(trace))}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for number, phase in enumerate(phases):
        start, end = max(phase.start_s, scale.t0), min(phase.end_s, scale.t1)
        if end <= start:
            continue
        x0, x1 = scale.x(start), scale.x(end)
        fill = _PHASE_FILLS[number % len(_PHASE_FILLS)]
        parts.append(
            f'<rect class="phase-band" data-phase="{escape(phase.name)}" x="{_fmt(x0)}" '
            f'y="{scale.top}" width="{_fmt(max(x1 - x0, 0.5))}" '
            f'height="{_fmt(scale.bottom - scale.top)}" fill="{fill}" fill-opacity="0.10"/>'
        )
        if x1 - x0 > 7 * len(phase.name):  # named above the plot, clear of the limit's label
            parts.append(
                f'<text x="{_fmt(x0 + 4)}" y="{scale.top - 6}" {FONT} fill="#555">'
                f"{escape(phase.name)}</text>"
            )
    parts += _axes(scale)
    limit_y = scale.y(trace.limit_bytes)
    parts.append(
        f'<line id="memory-limit" x1="{scale.left}" x2="{scale.right}" y1="{_fmt(limit_y)}" '
        f'y2="{_fmt(limit_y)}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    parts.append(
        f'<text x="{scale.left + 6}" y="{_fmt(limit_y - 5)}" {FONT} fill="#c0392b">'
        f"limit {escape(size_text(trace.limit_bytes))}</text>"
    )
    xy = _thin([(scale.x(p.t_s), scale.y(p.used_bytes)) for p in curve_points(trace)], MAX_POINTS)
    if xy:
        line = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in xy)
        area = f"{_fmt(xy[0][0])},{scale.bottom} {line} {_fmt(xy[-1][0])},{scale.bottom}"
        parts.append(f'<polygon points="{area}" fill="#2e86c1" fill-opacity="0.18"/>')
        parts.append(
            f'<polyline id="memory-curve" points="{line}" fill="none" stroke="#2e86c1" '
            'stroke-width="2" stroke-linejoin="round"/>'
        )
        for x, y in xy if len(xy) <= 60 else []:
            parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="2.5" fill="#2e86c1"/>')
    else:
        parts.append(
            f'<text x="{_fmt((scale.left + scale.right) / 2)}" '
            f'y="{_fmt((scale.top + scale.bottom) / 2)}" text-anchor="middle" {FONT} '
            'fill="#555">no memory sample: the build ended before the first one</text>'
        )
    for number, (t, exact) in enumerate(trace.kill_times()):
        parts.append(_oom_marker(scale, t, exact, limit_y, first=number == 0))
    parts.append("</svg>")
    return "\n".join(parts)


def _oom_marker(scale: Scale, t: float, exact: bool, limit_y: float, *, first: bool) -> str:
    x = scale.x(t)
    # the label goes under the limit line (which runs near the top), clear of the curve's label
    label_y = min(max(scale.top + 26, limit_y + 20), scale.bottom - 6)
    label = f"OOM kill at {seconds_text(t)}" + ("" if exact else " (approximately)")
    anchor = "end" if x > (scale.left + scale.right) / 2 else "start"
    dx = -5 if anchor == "end" else 5
    ident = ' id="oom-marker"' if first else ""
    return (
        f'<g{ident} class="oom-marker" data-t="{t:.3f}" data-exact="{str(exact).lower()}">'
        f"<title>{escape(label)}</title>"
        f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{scale.top}" y2="{scale.bottom}" '
        'stroke="#c0392b" stroke-width="2"/>'
        f'<path d="M{_fmt(x - 6)},{scale.top} L{_fmt(x + 6)},{scale.top} L{_fmt(x)},'
        f'{scale.top + 9} Z" fill="#c0392b"/>'
        f'<text x="{_fmt(x + dx)}" y="{_fmt(label_y)}" text-anchor="{anchor}" {FONT} '
        f'font-weight="bold" fill="#c0392b">{escape(label)}</text></g>'
    )


def _axes(scale: Scale) -> list[str]:
    parts = [
        f'<line class="axis" x1="{scale.left}" x2="{scale.right}" y1="{scale.bottom}" '
        f'y2="{scale.bottom}" stroke="#333"/>',
        f'<line class="axis" x1="{scale.left}" x2="{scale.left}" y1="{scale.top}" '
        f'y2="{scale.bottom}" stroke="#333"/>',
    ]
    step = _step(scale.top_bytes, _BYTE_STEPS, 6)
    for value in _ticks(0, scale.top_bytes, step):
        y = scale.y(value)
        parts.append(
            f'<line x1="{scale.left}" x2="{scale.right}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
            'stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{scale.left - 6}" y="{_fmt(y + 4)}" text-anchor="end" {FONT} '
            f'fill="#333">{escape(size_text(value) if value else "0")}</text>'
        )
    parts += _time_ticks(scale.t0, scale.t1, scale.x, scale.bottom)
    return parts


def _time_ticks(t0: float, t1: float, x_of: Callable[[float], float], baseline: float) -> list[str]:
    parts = []
    for t in _ticks(t0, t1, _step(t1 - t0, _SECOND_STEPS, 8)):
        x = x_of(t)
        parts.append(
            f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{baseline}" y2="{baseline + 4}" '
            'stroke="#333"/>'
        )
        parts.append(
            f'<text x="{_fmt(x)}" y="{baseline + 16}" text-anchor="middle" {FONT} '
            f'fill="#333">{escape(seconds_text(t))}</text>'
        )
    return parts


def _memory_summary(trace: MemoryTrace) -> str:
    highest = trace.highest()
    text = f"memory over time against the limit of {size_text(trace.limit_bytes)}"
    if highest is not None:
        text += f"; highest {size_text(highest)}"
    kills = trace.kill_times()
    if kills:
        text += f"; OOM kill at {seconds_text(kills[0][0])}"
    return text


def phase_timeline(phases: Sequence[Phase], width: int = WIDTH) -> str:
    """One row per phase on a shared time axis, each bar labelled with its name and duration."""
    row, gap = 20, 6
    top = 8
    height = top + len(phases) * (row + gap) + BOTTOM
    end = max([p.end_s for p in phases] + [0.001])
    left, right = 120, width - RIGHT
    span = max(end, 0.001)

    def x_of(t: float) -> float:
        return left + t / span * (right - left)

    baseline = top + len(phases) * (row + gap)
    parts = [
        f'<svg id="phase-timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="the phases of the simulation on a time line">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<line class="axis" x1="{left}" x2="{right}" y1="{baseline}" y2="{baseline}" '
        'stroke="#333"/>',
    ]
    for number, phase in enumerate(phases):
        y = top + number * (row + gap)
        x0, x1 = x_of(phase.start_s), x_of(phase.end_s)
        fill = _PHASE_FILLS[number % len(_PHASE_FILLS)]
        label = f"{phase.name} {seconds_text(phase.duration_s)}"
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" {FONT} fill="#333">'
            f"{escape(phase.name)}</text>"
        )
        parts.append(
            f'<rect class="phase" data-phase="{escape(phase.name)}" '
            f'data-start="{phase.start_s:.3f}" data-duration="{phase.duration_s:.3f}" '
            f'x="{_fmt(x0)}" y="{y}" width="{_fmt(max(x1 - x0, 1.0))}" height="{row}" '
            f'fill="{fill}"><title>{escape(label)}</title></rect>'
        )
        inside = x1 - x0 > 6.5 * len(seconds_text(phase.duration_s)) + 8
        text_x, anchor, colour = (x0 + 4, "start", "#fff") if inside else (x1 + 4, "start", "#333")
        if not inside and x1 + 80 > right:
            text_x, anchor = x0 - 4, "end"
        parts.append(
            f'<text x="{_fmt(text_x)}" y="{y + 14}" text-anchor="{anchor}" {FONT} '
            f'fill="{colour}">{escape(seconds_text(phase.duration_s))}</text>'
        )
    parts += _time_ticks(0.0, span, x_of, baseline)
    parts.append("</svg>")
    return "\n".join(parts)

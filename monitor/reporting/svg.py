"""Inline SVG charts for the HTML report: no scripts, no external resources."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Final, Protocol

from monitor.reporting.model import DailyPoint, HourCell, Segment

GOOD: Final = "#1a7f37"
BAD: Final = "#cf222e"
WARN: Final = "#bf8700"
NONE: Final = "#d0d7de"
LINE: Final = "#0969da"
INK: Final = "#57606a"

Format = Callable[[float], str]


class Words(Protocol):
    """Puts a chart's fixed words in the page's language (``Texts`` does)."""

    def __call__(self, english: str, /, **fields: object) -> str: ...


def english(text: str, /, **fields: object) -> str:
    return text.format(**fields) if fields else text


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_step(span: float, max_steps: int = 5) -> float:
    """The smallest 1-2-5 step (1, 2, 5, 10, 20, ...) that cuts ``span`` into at most
    ``max_steps`` intervals: axis ticks a reader can add up (90 %, 95 %, 100 %)."""
    if span <= 0:
        return 1.0
    raw = span / max_steps
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0, 10.0):
        if multiple * magnitude >= raw * (1 - 1e-9):
            return multiple * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def nice_ticks(low: float, high: float, max_steps: int = 5) -> list[float]:
    """Ticks on multiples of a 1-2-5 step, from at or below ``low`` to at or above ``high``."""
    step = nice_step(high - low, max_steps)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(n * step, 12) for n in range(first, max(last, first + 1) + 1)]


def tick_label(value: float, step: float, unit: str) -> str:
    """A tick's text with no more decimals than its step needs (95%, 99.5%, 30 s)."""
    shown, suffix = (value * 100, "%") if unit == "ratio" else (value, " s")
    shown_step = step * 100 if unit == "ratio" else step
    decimals = max(0, -math.floor(math.log10(shown_step) + 1e-9)) if shown_step < 1 else 0
    return f"{shown:.{decimals}f}{suffix}"


def _axis(values: list[float], target: float, unit: str, higher_is_better: bool) -> list[float]:
    """Round ticks spanning the values and the target; ratios stay inside 0-100 %."""
    seen = [*values, target]
    if unit == "ratio" and higher_is_better:
        low = min(seen)
        ticks = nice_ticks(max(0.0, low - max(0.005, (1.0 - low) * 0.1)), 1.0)
    elif unit == "ratio":
        ticks = nice_ticks(0.0, min(1.0, max(max(seen) * 1.2, 0.01)))
    else:
        ticks = nice_ticks(0.0, max(max(seen) * 1.15, 1.0))
    if unit == "ratio":
        ticks = [tick for tick in ticks if 0.0 <= tick <= 1.0]
    return ticks


def trend_chart(
    points: Sequence[DailyPoint],
    *,
    target: float,
    higher_is_better: bool,
    unit: str,
    fmt: Format,
    target_label: str,
    describe_samples: Format,
    label: str,
    width: int = 500,
    height: int = 190,
) -> str:
    """Daily values as a line with dots, the target as a dashed line.

    The target's label sits in the legend above the plot, where no data point can
    cover it; the value axis has round ticks (1-2-5 steps).
    """
    left, right, top, bottom = 56, 12, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    ticks = _axis(values, target, unit, higher_is_better)
    y_min, y_max = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0]
    span = (y_max - y_min) or 1.0

    def x(index: int) -> float:
        return left + (index + 0.5) * plot_w / max(1, len(points))

    def y(value: float) -> float:
        return top + plot_h - (min(max(value, y_min), y_max) - y_min) / span * plot_h

    parts = [_open(width, height, label)]
    for value in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y(value))}" y2="{_num(y(value))}" '
            f'stroke="#eaeef2"/><text x="{left - 6}" y="{_num(y(value) + 4)}" '
            f'text-anchor="end" class="tick axis">{escape(tick_label(value, step, unit))}</text>'
        )
    legend_x = width - right
    parts.append(
        f'<line class="target" x1="{left}" x2="{width - right}" y1="{_num(y(target))}" '
        f'y2="{_num(y(target))}" stroke="{WARN}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<line x1="{legend_x - 150}" x2="{legend_x - 126}" y1="10" y2="10" stroke="{WARN}" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text x="{legend_x - 120}" y="14" class="tick target-label">'
        f"{escape(target_label)}</text>"
    )
    run: list[str] = []
    paths: list[str] = []
    for index, point in enumerate(points):
        if point.value is None:
            if len(run) > 1:
                paths.append(" ".join(run))
            run = []
            continue
        run.append(f"{_num(x(index))},{_num(y(point.value))}")
    if len(run) > 1:
        paths.append(" ".join(run))
    for path in paths:
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for index, point in enumerate(points):
        if point.value is None:
            continue
        met = point.value >= target if higher_is_better else point.value <= target
        parts.append(
            f'<circle class="point" cx="{_num(x(index))}" cy="{_num(y(point.value))}" r="3.5" '
            f'fill="{GOOD if met else BAD}"><title>{escape(point.day)}: '
            f"{escape(fmt(point.value))} ({escape(describe_samples(point.samples))})</title>"
            "</circle>"
        )
    step_days = max(1, len(points) // 6)
    for index in range(0, len(points), step_days):
        parts.append(
            f'<text x="{_num(x(index))}" y="{height - 10}" text-anchor="middle" class="tick">'
            f"{escape(points[index].day[5:])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def heat_map(
    cells: Sequence[HourCell],
    days: Sequence[str],
    *,
    target: float,
    higher_is_better: bool,
    fmt: Format,
    label: str,
    words: Words = english,
) -> str:
    """Days down, hours of the day across; green when the hour met the target, red when not."""
    by_key = {(c.day, c.hour): c for c in cells}
    cell_w, cell_h, left, top = 24, 14, 76, 20
    width, height = left + 24 * cell_w + 8, top + len(days) * cell_h + 8
    parts = [_open(width, height, label)]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell_w + cell_w / 2}" y="13" text-anchor="middle" '
            f'class="tick">{hour:02d}h</text>'
        )
    for row, day in enumerate(days):
        y = top + row * cell_h
        parts.append(
            f'<text x="{left - 6}" y="{y + cell_h - 3}" text-anchor="end" class="tick">'
            f"{escape(day)}</text>"
        )
        for hour in range(24):
            cell = by_key.get((day, hour))
            colour, opacity, tip = NONE, 1.0, f"{day} {hour:02d}:00: {words('no calls')}"
            if cell is not None and cell.value is not None:
                met = cell.value >= target if higher_is_better else cell.value <= target
                distance = abs(cell.value - target) / (abs(target) or 1.0)
                colour = GOOD if met else BAD
                opacity = 0.35 + 0.65 * min(1.0, distance * 4)
                calls = words("{count} calls", count=cell.samples)
                tip = f"{day} {hour:02d}:00: {fmt(cell.value)} ({calls})"
            parts.append(
                f'<rect class="cell" x="{left + hour * cell_w}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="{colour}" fill-opacity="{opacity:.2f}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def timeline(
    segments: Sequence[Segment],
    start: float,
    end: float,
    *,
    down_states: frozenset[str],
    local: Callable[[float], datetime],
    label: str,
    width: int = 680,
    words: Words = english,
) -> str:
    """The service's status across the period; grey where there is no data."""
    left, right, bar_y, bar_h = 24, 24, 8, 26
    height = bar_y + bar_h + 24
    plot_w = width - left - right
    span = (end - start) or 1.0

    def x(instant: float) -> float:
        return left + (min(max(instant, start), end) - start) / span * plot_w

    parts = [
        _open(width, height, label),
        f'<rect x="{left}" y="{bar_y}" width="{plot_w}" height="{bar_h}" fill="{NONE}">'
        f"<title>{escape(words('no data'))}</title></rect>",
    ]
    # outages last: a few minutes down is drawn wider than it is and must stay on top
    for segment in sorted(segments, key=lambda segment: segment.status != "up"):
        colour = BAD if segment.status in down_states else GOOD
        if segment.status == "degraded" and segment.status not in down_states:
            colour = WARN
        x0, x1 = x(segment.start), x(segment.end)
        min_width = 3.0 if colour != GOOD else 0.5
        tip = (
            f"{words(segment.status)}: {local(segment.start):%Y-%m-%d %H:%M} – "
            f"{local(segment.end):%Y-%m-%d %H:%M}"
        )
        parts.append(
            f'<rect class="segment {escape(segment.status)}" x="{_num(x0)}" y="{bar_y}" '
            f'width="{_num(max(x1 - x0, min_width))}" height="{bar_h}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    days = max(1, round(span / 86400))
    step = 86400 * max(1, days // 6)
    tick = start
    while tick <= end:
        parts.append(
            f'<line x1="{_num(x(tick))}" x2="{_num(x(tick))}" y1="{bar_y + bar_h}" '
            f'y2="{bar_y + bar_h + 4}" stroke="{INK}"/><text x="{_num(x(tick))}" '
            f'y="{height - 4}" text-anchor="middle" class="tick">{local(tick):%m-%d}</text>'
        )
        tick += step
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    )

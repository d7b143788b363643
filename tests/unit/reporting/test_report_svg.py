"""The report's charts: round axis ticks and a target label no data point can cover."""

from __future__ import annotations

import re

import pytest

from monitor.reporting.model import DailyPoint
from monitor.reporting.svg import nice_step, nice_ticks, tick_label, trend_chart


@pytest.mark.parametrize(
    ("span", "step"),
    [
        (0.0625, 0.02),  # 93.75 % .. 100 %: 94, 96, 98, 100
        (0.1, 0.02),
        (0.25, 0.05),
        (0.012, 0.005),
        (1.0, 0.2),
        (34.5, 10.0),
        (17.2, 5.0),
        (100.0, 20.0),
        (7.0, 2.0),
        (3.0, 1.0),
    ],
)
def test_the_axis_step_is_the_smallest_1_2_5_step_giving_at_most_five_intervals(
    span: float, step: float
) -> None:
    assert nice_step(span) == pytest.approx(step)


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0.9375, 1.0, [0.92, 0.94, 0.96, 0.98, 1.0]),
        (0.85, 1.0, [0.85, 0.9, 0.95, 1.0]),
        (0.0, 34.5, [0.0, 10.0, 20.0, 30.0, 40.0]),
        (0.0, 0.077, [0.0, 0.02, 0.04, 0.06, 0.08]),
        (0.985, 1.0, [0.985, 0.99, 0.995, 1.0]),
    ],
)
def test_ticks_are_multiples_of_the_step_and_span_both_ends(
    low: float, high: float, ticks: list[float]
) -> None:
    assert nice_ticks(low, high) == pytest.approx(ticks)


@pytest.mark.parametrize(
    ("value", "step", "unit", "text"),
    [
        (0.95, 0.05, "ratio", "95%"),
        (0.995, 0.005, "ratio", "99.5%"),
        (1.0, 0.005, "ratio", "100.0%"),
        (30.0, 10.0, "seconds", "30 s"),
        (2.5, 0.5, "seconds", "2.5 s"),
    ],
)
def test_a_tick_label_has_only_the_decimals_its_step_needs(
    value: float, step: float, unit: str, text: str
) -> None:
    assert tick_label(value, step, unit) == text


def _chart(values: list[float | None], target: float, unit: str = "ratio") -> str:
    points = [DailyPoint(f"2026-10-{n + 1:02d}", v, 10) for n, v in enumerate(values)]
    return trend_chart(
        points,
        target=target,
        higher_is_better=unit == "ratio",
        unit=unit,
        fmt=str,
        target_label="target ≥ 95%",
        describe_samples=str,
        label="daily x",
    )


def _axis_labels(svg: str) -> list[str]:
    return re.findall(r'class="tick axis">([^<]+)<', svg)


def test_the_value_axis_of_a_ratio_chart_reads_in_round_percents() -> None:
    svg = _chart([0.938, 0.97, 1.0, None, 0.99], target=0.95)
    assert _axis_labels(svg) == ["92%", "94%", "96%", "98%", "100%"]


def test_the_value_axis_of_a_seconds_chart_reads_in_round_seconds() -> None:
    svg = _chart([12.0, 30.0, 25.5], target=30.0, unit="seconds")
    assert _axis_labels(svg) == ["0 s", "10 s", "20 s", "30 s", "40 s"]


def test_the_target_label_sits_above_the_plot_where_no_point_can_reach() -> None:
    svg = _chart([1.0] * 31, target=0.95)  # a point on the top line on the last day
    label_y = float(re.search(r'<text [^>]*y="([\d.]+)"[^>]*target-label', svg)[1])  # type: ignore[index]
    point_tops = [
        float(cy) - 3.5 for cy in re.findall(r'class="point" cx="[\d.]+" cy="([\d.]+)"', svg)
    ]
    assert label_y < min(point_tops) - 4  # the label's baseline, with its descenders, clears them

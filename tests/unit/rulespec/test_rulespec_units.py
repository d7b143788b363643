"""The small value languages of agreement files: durations, deadlines, targets, hours."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from monitor.domain.agreement import BusinessTime, Target, Workdays
from monitor.rulespec import units


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20s", 20.0),
        ("3m", 180.0),
        ("12h", 43200.0),
        ("7d", 604800.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        (" 2M ", 120.0),
        (45, 45.0),
        (0.5, 0.5),
        ("0s", 0.0),
    ],
)
def test_durations_are_read_as_seconds(text: Any, seconds: float) -> None:
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30 minutes", "bad duration '30 minutes'"),
        ("h", "bad duration 'h'"),
        ("", "bad duration ''"),
        (-5, "duration -5 is negative"),
        (True, "expected a duration, got True"),
        ("2 workdays", "'N workdays' is only allowed in the 'within'"),
    ],
)
def test_bad_durations_are_explained(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        units.parse_duration(text)


def test_a_zero_duration_is_refused_where_it_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be greater than zero"):
        units.parse_positive_duration("0m")


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("8h", BusinessTime(28800.0)),
        ("2 workdays", Workdays(2)),
        ("1 workday", Workdays(1)),
        ("7workdays", Workdays(7)),
        (3600, BusinessTime(3600.0)),
    ],
)
def test_deadlines_are_open_time_or_workdays(text: Any, deadline: object) -> None:
    assert units.parse_deadline(text) == deadline


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 workdays", "must be at least 1"),
        ("0s", "must be greater than zero"),
        ("soon", r"bad duration 'soon'.*\(or 'N workdays'\)"),
    ],
)
def test_bad_deadlines_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        units.parse_deadline(text)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (">= 80%", Target(">=", 0.8, "ratio")),
        (">=80%", Target(">=", 0.8, "ratio")),
        ("< 5 %", Target("<", 0.05, "ratio")),
        ("<= 30s", Target("<=", 30.0, "seconds")),
        ("<= 1m30s", Target("<=", 90.0, "seconds")),
        ("> 4.5", Target(">", 4.5, "number")),
        (">= 99.5%", Target(">=", 0.995, "ratio")),
    ],
)
def test_targets_carry_comparator_value_and_unit(text: str, target: Target) -> None:
    assert units.parse_target(text) == target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("80%", "write a comparator"),
        ("=> 80%", "write a comparator"),
        (">= 101%", "a percent must be between 0% and 100%"),
        ("<= 0s", "a time target must be greater than zero"),
        (">= lots", "is not a percent, time or number"),
        (80, "expected a quoted target"),
    ],
)
def test_bad_targets_are_explained(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        units.parse_target(text)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Target(">=", 30.0, "seconds"), "expected a percent"),
        (Target("<=", 0.8, "ratio"), "needs >= or >"),
        (Target(">=", 0.0, "ratio"), "can never be missed"),
        (Target(">", 1.0, "ratio"), "can never be met"),
    ],
)
def test_targets_must_suit_the_objective(target: Target, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        units.check_target(target, ("ratio",), higher_is_better=True)


def test_percents_are_fractions() -> None:
    assert units.parse_percent("75%") == 0.75


@pytest.mark.parametrize("text", ["0.75", 75, "0%", "100%"])
def test_warning_percents_are_written_with_a_percent_sign_and_inside_0_100(text: Any) -> None:
    with pytest.raises(ValueError, match=r"percent like 75%|between 0% and 100%"):
        units.parse_percent(text)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat", (5,)),
        ("SUN", (6,)),
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("sun-thu", (6, 0, 1, 2, 3)),
    ],
)
def test_day_keys_name_weekdays_monday_first(text: str, days: tuple[int, ...]) -> None:
    assert units.parse_days(text) == days


@pytest.mark.parametrize("text", ["mon-fir", "weekdays", "", "mon-"])
def test_unknown_day_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad day"):
        units.parse_days(text)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("09:00-12:00", (540, 720)), ("13:00-18:00", (780, 1080)), ("00:00-24:00", (0, 1440))],
)
def test_opening_hours_are_minutes_after_midnight(text: str, minutes: tuple[int, int]) -> None:
    assert units.parse_hours(text) == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("18:00-09:00", "end before they start"),
        ("09:00-24:30", "not a time of day"),
        ("9-17", "bad opening hours"),
        ("09:60-10:00", "not a time of day"),
    ],
)
def test_bad_opening_hours_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        units.parse_hours(text)


def test_dates_may_be_yaml_dates_or_iso_strings() -> None:
    assert units.parse_date(date(2026, 12, 24)) == units.parse_date("2026-12-24")
    with pytest.raises(ValueError, match="expected a date"):
        units.parse_date("24.12.2026")

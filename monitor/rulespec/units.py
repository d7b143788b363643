"""Parsers for the small value languages of agreement files.

Durations (``20s``, ``1h30m``, plain numbers are seconds), deadlines (a duration
or ``N workdays``), targets (``>= 80%``, ``<= 30s``, ``>= 4.5``), percents
(``75%``), day ranges (``mon-fri``) and opening hours (``09:00-12:00``). Each
parser takes the raw YAML value and returns the parsed value or raises
``ValueError`` with a message meant for the person editing the file.

Every number is finite and bounded (``.nan``, ``.inf`` and ``100000000 workdays``
are mistakes, and the engine would spin or overflow on them): durations are at
most :data:`MAX_DURATION_S` unless a field sets a tighter bound. docs/agreements.md
lists each bound ("Limits").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final, cast

from monitor.domain.agreement import BusinessTime, Comparator, Deadline, Target, Unit, Workdays

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY: Final = 1440
DAY_S: Final = 86400.0
MAX_DURATION_S: Final = 366 * DAY_S
MAX_WORKDAYS: Final = 366
MAX_NUMBER: Final = 1e6
"""The largest magnitude of a plain-number target such as ``>= 4.5``."""

_UNIT_SECONDS: Final = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION: Final = re.compile(r"(?:\d+(?:\.\d+)?[dhms])+")
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_WORKDAYS: Final = re.compile(r"(\d+)\s*workdays?")
_TARGET: Final = re.compile(r"(>=|<=|>|<)\s*(\S.*)")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_PERCENT: Final = re.compile(r"(-?\d+(?:\.\d+)?)\s*%")
_HOURS: Final = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_DURATION_HINT: Final = "durations look like 20s, 3m, 12h, 7d, 1h30m or a number of seconds"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def show_seconds(seconds: float) -> str:
    """``86400.0`` → ``1d``, ``5400.0`` → ``1h30m``: a bound as a person writes it."""
    parts = []
    rest = round(seconds)
    for unit, size in _UNIT_SECONDS.items():
        count, rest = divmod(rest, int(size))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_duration(value: Any, maximum: float = MAX_DURATION_S) -> float:
    """Seconds from ``"1h30m"``-style text or a plain non-negative number, at most ``maximum``."""
    seconds = _duration_seconds(value)
    if not math.isfinite(seconds):
        raise ValueError(f"duration {value!r} is not a finite number")
    if seconds > maximum:
        raise ValueError(f"duration {value!r} is longer than {show_seconds(maximum)}, the limit")
    return seconds


def duration_at_most(maximum: float, *, positive: bool = False) -> Callable[[Any], float]:
    """A duration parser with a tighter bound than the default, for one field."""

    def parse(value: Any) -> float:
        if positive:
            return parse_positive_duration(value, maximum)
        return parse_duration(value, maximum)

    return parse


def _duration_seconds(value: Any) -> float:
    if _is_number(value):
        if value < 0:
            raise ValueError(f"duration {value} is negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration, got {value!r}; {_DURATION_HINT}")
    text = value.strip().lower()
    if _WORKDAYS.fullmatch(text):
        raise ValueError(
            f"{value!r}: 'N workdays' is only allowed in the 'within' of "
            "first_response, next_response and resolution objectives"
        )
    if not _DURATION.fullmatch(text):
        raise ValueError(f"bad duration {value!r}; {_DURATION_HINT}")
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def parse_positive_duration(value: Any, maximum: float = MAX_DURATION_S) -> float:
    seconds = parse_duration(value, maximum)
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be greater than zero")
    return seconds


def parse_deadline(value: Any) -> Deadline:
    """``"2 workdays"`` is Workdays(2); any positive duration is BusinessTime."""
    if isinstance(value, str) and (found := _WORKDAYS.fullmatch(value.strip().lower())):
        digits = found.group(1).lstrip("0") or "0"
        if len(digits) > len(str(MAX_WORKDAYS)) or int(digits) > MAX_WORKDAYS:
            raise ValueError(f"{value!r}: at most {MAX_WORKDAYS} workdays")
        count = int(digits)
        if count < 1:
            raise ValueError(f"{value!r}: the number of workdays must be at least 1")
        return Workdays(count)
    try:
        return BusinessTime(parse_positive_duration(value))
    except ValueError as error:
        raise ValueError(f"{error} (or 'N workdays')") from None


def parse_target(value: Any) -> Target:
    """``">= 80%"`` → ratio 0.8, ``"<= 30s"`` → seconds 30, ``">= 4.5"`` → number 4.5."""
    if not isinstance(value, str):
        raise ValueError(f"expected a quoted target like '>= 80%' or '<= 30s', got {value!r}")
    found = _TARGET.fullmatch(value.strip().lower())
    if found is None:
        raise ValueError(
            f"bad target {value!r}; write a comparator (>=, >, <=, <) and a value, "
            "like '>= 80%', '<= 30s' or '>= 4.5'"
        )
    comparator = cast(Comparator, found.group(1))
    amount = found.group(2).strip()
    if amount.endswith("%") and _NUMBER.fullmatch(amount[:-1].strip()):
        percent = float(amount[:-1])
        if not 0 <= percent <= 100:
            raise ValueError(f"target {value!r}: a percent must be between 0% and 100%")
        return Target(comparator, percent / 100, "ratio")
    if _NUMBER.fullmatch(amount):
        number = float(amount)
        if not abs(number) <= MAX_NUMBER:
            raise ValueError(f"target {value!r}: a number target is at most {MAX_NUMBER:g}")
        return Target(comparator, number, "number")
    if not _DURATION.fullmatch(amount):
        raise ValueError(f"bad target {value!r}: {amount!r} is not a percent, time or number")
    seconds = parse_duration(amount, DAY_S)
    if seconds <= 0:
        raise ValueError(f"target {value!r}: a time target must be greater than zero")
    return Target(comparator, seconds, "seconds")


def check_target(target: Target, units: tuple[Unit, ...], higher_is_better: bool) -> Target:
    """Reject targets of the wrong unit or direction, and ones that can never be missed."""
    if target.unit not in units:
        raise ValueError(f"target {target}: expected {_describe_units(units)}")
    if target.higher_is_better != higher_is_better:
        better = ">= or >" if higher_is_better else "<= or <"
        raise ValueError(f"target {target}: this objective needs {better}")
    if target.unit == "ratio" and (
        (target.comparator == ">=" and target.value == 0)
        or (target.comparator == "<=" and target.value == 1)
    ):
        raise ValueError(f"target {target} can never be missed")
    if target.unit == "ratio" and (
        (target.comparator == ">" and target.value == 1)
        or (target.comparator == "<" and target.value == 0)
    ):
        raise ValueError(f"target {target} can never be met")
    return target


def _describe_units(units: tuple[Unit, ...]) -> str:
    examples = {"ratio": "a percent like '>= 80%'", "seconds": "a time like '<= 30s'"}
    examples["number"] = "a number like '>= 4.5'"
    return " or ".join(examples[unit] for unit in units)


def parse_percent(value: Any) -> float:
    """``"75%"`` → 0.75, strictly between 0% and 100%."""
    found = _PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"expected a percent like 75%, got {value!r}")
    number = float(found.group(1))
    if not 0 < number < 100:
        raise ValueError(f"{value!r} must be between 0% and 100% (exclusive)")
    return number / 100


def parse_days(value: Any) -> tuple[int, ...]:
    """``mon-fri`` → (0, 1, 2, 3, 4); ``sat`` → (5,); ``daily`` → all; ranges may wrap."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text == "daily":
        return tuple(range(7))
    first, dash, last = text.partition("-")
    if first not in DAYS or (dash and last not in DAYS):
        raise ValueError(
            f"bad day {value!r}; use mon, tue, wed, thu, fri, sat, sun, a range "
            "like mon-fri, or daily"
        )
    start = DAYS.index(first)
    end = DAYS.index(last) if last else start
    return tuple((start + offset) % 7 for offset in range((end - start) % 7 + 1))


def parse_hours(value: Any) -> tuple[int, int]:
    """``"09:00-12:00"`` → (540, 720) minutes after midnight; ``24:00`` may end a range."""
    found = _HOURS.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f'bad opening hours {value!r}; write them like "09:00-18:00"')
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or end_h > 24 or start_m > 59 or end_m > 59 or end > MINUTES_PER_DAY:
        raise ValueError(f"bad opening hours {value!r}: not a time of day")
    if end <= start:
        raise ValueError(
            f"opening hours {value!r} end before they start; split a shift that "
            "crosses midnight into '..-24:00' and '00:00-..' on the next day"
        )
    return start, end


def parse_date(value: Any) -> date:
    """A calendar date, unquoted (``2026-12-24``) or quoted."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2026-12-24, got {value!r}")

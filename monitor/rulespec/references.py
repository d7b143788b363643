"""Checks that span several parts of one agreement file.

They read the parsed YAML directly rather than the validated spec, so they run
even when some other field is invalid and a file with many mistakes reports
them all at once. Values of the wrong type are skipped here: the spec
validation reports those.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from monitor.domain.agreement import ITEM_KINDS, WINDOW_KINDS, BusinessTime
from monitor.domain.errors import Problem
from monitor.rulespec import v1
from monitor.rulespec.problems import format_path
from monitor.rulespec.units import MAX_DURATION_S, show_seconds
from monitor.rulespec.yamldoc import Document, YamlPath

DAYS_PER_WEEK = 7
MAX_CLOSED_DAYS = 366
"""A calendar closed longer than this in a row is a mistake (the engine gives up at 1098)."""


def check_references(document: Document, filename: str) -> list[Problem]:
    data = document.data if isinstance(document.data, dict) else {}

    def problem(path: YamlPath, message: str) -> Problem:
        return Problem(filename, document.line_of(path), format_path(path), message)

    problems: list[Problem] = []
    calendars = data.get("calendars")
    calendar_names = sorted(calendars) if isinstance(calendars, dict) else []
    first_line: dict[str, int] = {}
    monthly: set[str] = set()
    for index, objective in _mappings(data.get("objectives")):
        path: YamlPath = ("objectives", index)
        objective_id = objective.get("id")
        if isinstance(objective_id, str):
            if objective_id in first_line:
                problems.append(
                    problem(
                        (*path, "id"),
                        f"duplicate objective id {objective_id!r} "
                        f"(first used on line {first_line[objective_id]})",
                    )
                )
            else:
                first_line[objective_id] = document.line_of((*path, "id"))
            if _is_monthly(objective):
                monthly.add(objective_id)
        calendar = objective.get("calendar")
        if isinstance(calendar, str) and calendar not in calendar_names:
            defined = ", ".join(calendar_names) or "none"
            problems.append(
                problem((*path, "calendar"), f"unknown calendar {calendar!r} (defined: {defined})")
            )
    for index, credit in _mappings(data.get("credits")):
        name = credit.get("objective")
        if not isinstance(name, str):
            continue
        if name not in first_line:
            message = f"no objective with id {name!r}"
        elif name not in monthly:
            message = (
                f"objective {name!r} has no monthly target: credits need an availability "
                "objective or an objective with a target and period: month"
            )
        else:
            continue
        problems.append(problem(("credits", index, "objective"), message))
    return problems


def _mappings(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _is_monthly(objective: dict[str, Any]) -> bool:
    kind = objective.get("kind")
    if kind in WINDOW_KINDS:
        return objective.get("period") == "month"
    return kind == "availability" or (kind in ITEM_KINDS and objective.get("target") is not None)


def check_reach(spec: v1.AgreementSpec, document: Document, filename: str) -> list[Problem]:
    """Business-time deadlines must end within about a year of the calendar's opening hours.

    ``within: 366d`` on a calendar open one minute a week would end ten thousand
    years later (past the last date Python knows); the bound is the calendar's
    weekly open time times the weeks of :data:`MAX_DURATION_S`.
    """
    problems: list[Problem] = []
    for index, objective in enumerate(spec.objectives):
        if not isinstance(objective, v1.ItemSpec) or not isinstance(objective.within, BusinessTime):
            continue
        calendar = spec.calendars.get(objective.calendar or "")
        if calendar is None:
            continue
        weekly_open = sum(
            (end - start) * 60.0 * len(days)
            for days, hours in calendar.weekly.items()
            for start, end in hours
        )
        limit = weekly_open * MAX_DURATION_S / (DAYS_PER_WEEK * 86400.0)
        if objective.within.seconds > limit:
            path: YamlPath = ("objectives", index, "within")
            message = (
                f"{show_seconds(objective.within.seconds)} of open time is more than a year "
                f"of calendar {objective.calendar!r} (at most {show_seconds(limit)})"
            )
            problems.append(Problem(filename, document.line_of(path), format_path(path), message))
    return problems


def check_closed_stretches(
    spec: v1.AgreementSpec, document: Document, filename: str
) -> list[Problem]:
    """No calendar may stay closed more than a year in a row (extra holidays on every open day)."""
    problems: list[Problem] = []
    for name, calendar in spec.calendars.items():
        stretch = _longest_closed_stretch(calendar)
        if stretch is not None and stretch[1] > MAX_CLOSED_DAYS:
            path: YamlPath = ("calendars", name, "extra_holidays")
            message = (
                f"calendar {name!r} is closed {stretch[1]} days in a row from "
                f"{stretch[0].isoformat()}; at most {MAX_CLOSED_DAYS}"
            )
            problems.append(Problem(filename, document.line_of(path), format_path(path), message))
    return problems


def _longest_closed_stretch(calendar: v1.CalendarSpec) -> tuple[date, int] | None:
    """The first day and length of the longest run of closed days among the extra holidays."""
    if len(calendar.extra_holidays) * DAYS_PER_WEEK < MAX_CLOSED_DAYS:
        return None  # too few holidays to close a calendar that opens every week
    open_weekdays = {day for days, hours in calendar.weekly.items() if hours for day in days}
    closed = set(calendar.extra_holidays) - set(calendar.extra_workdays)
    longest: tuple[date, int] | None = None
    day, last = min(closed), max(closed) + timedelta(days=DAYS_PER_WEEK)
    start: date | None = None
    while day <= last:
        is_open = day.weekday() in open_weekdays and day not in closed
        if is_open or day in calendar.extra_workdays:
            start = None
        else:
            start = start or day
            length = (day - start).days + 1
            if longest is None or length > longest[1]:
                longest = (start, length)
        day += timedelta(days=1)
    return longest

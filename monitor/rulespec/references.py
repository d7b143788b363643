"""Checks that span several parts of one agreement file.

They read the parsed YAML directly rather than the validated spec, so they run
even when some other field is invalid and a file with many mistakes reports
them all at once. Values of the wrong type are skipped here: the spec
validation reports those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monitor.domain.agreement import ITEM_KINDS, BusinessTime
from monitor.domain.errors import Problem
from monitor.rulespec import v1
from monitor.rulespec.problems import format_path
from monitor.rulespec.units import MAX_DURATION_S, show_seconds
from monitor.rulespec.yamldoc import Document, YamlPath

DAYS_PER_WEEK = 7


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
                "objective or an item objective with target and period: month"
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

"""Hostile agreement files: each one is a located ``file:line: field: message`` and exit 2.

Every case here once printed a traceback and exited 1, or took seconds and
gigabytes, or passed ``slamon validate`` and then spun or crashed a replay. The
limits they hit are documented in docs/agreements.md ("Limits").
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.rulespec.yamlguard import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES

HEAD = "version: slamon/v1\ncontract: c\ntitle: t\n"
"""Three valid lines, so a case's own lines start at line 4."""
ITEM = "objectives:\n  - {id: a, kind: first_response, within: 1h}\n"
CALENDAR = "calendars: {b: {weekly: {mon-fri: ['09:00-18:00']}}}\n"


def item(fields: str) -> str:
    return f"objectives:\n  - {{id: a, kind: first_response, {fields}}}\n"


def window(kind: str, fields: str) -> str:
    return f"objectives:\n  - {{id: a, kind: {kind}, window: 1h, {fields}}}\n"


def alias_bomb(levels: int) -> str:
    """The 'billion laughs': each anchor holds nine aliases of the one before."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + f"\nlabels: *a{levels - 1}\n" + ITEM


def nested(levels: int) -> str:
    return "labels: " + "[" * levels + "1" + "]" * levels + "\n" + ITEM


def many_aliases(count: int) -> str:
    return "labels: &x {k: v}\n" + "".join(f"l{n}: *x\n" for n in range(count)) + ITEM


def closed_for_two_years() -> str:
    """A Monday-only calendar whose extra holidays are every Monday of 2027 and 2028."""
    mondays = [date(2027, 1, 4) + timedelta(weeks=n) for n in range(105)]
    holidays = ", ".join(day.isoformat() for day in mondays)
    return (
        f"calendars:\n  b: {{weekly: {{mon: ['09:00-18:00']}}, extra_holidays: [{holidays}]}}\n"
        + item("calendar: b, within: 2h")
    )


SLA = "kind: service_level, target: '>= 80%', window: 1h"

CASES: list[tuple[str, str, int, str, str]] = [
    # name, file body after HEAD, line, field, message fragment
    ("a billion laughs alias bomb", alias_bomb(9), 8, "a4[1]", f"more than {MAX_VALUES} keys"),
    ("an alias inside its own anchor", "labels: &a {b: *a}\n" + ITEM, 4, "labels.b", "a loop"),
    ("nesting too deep", nested(MAX_DEPTH + 5), 4, "labels" + "[0]" * (MAX_DEPTH - 1), "levels"),
    ("too many aliases", many_aliases(MAX_ALIASES + 1), 105, "l100", "aliases"),
    (
        "a python tag",
        "labels: !!python/object/apply:os.system ['echo hi']\n" + ITEM,
        4,
        "labels",
        "YAML tag !!python/object/apply:os.system is not allowed",
    ),
    (
        "a tag the value does not fit",
        "labels: {k: !!bool maybe}\n" + ITEM,
        4,
        "labels.k",
        "'maybe' is not a valid !!bool",
    ),
    ("a custom tag", "title2: !secret x\n" + ITEM, 4, "title2", "YAML tag !secret is not allowed"),
    ("a binary tag", "labels: {k: !!binary aGk=}\n" + ITEM, 4, "labels.k", "!!binary"),
    (
        "an unquoted date that does not exist",
        CALENDAR.replace("}}}", "}, extra_holidays: [2026-02-30]}}") + ITEM,
        4,
        "calendars.b.extra_holidays[0]",
        "'2026-02-30' is not a valid date: day is out of range for month",
    ),
    (
        "an unquoted time that does not exist",
        CALENDAR.replace("}}}", "}, extra_holidays: [2026-02-03 25:00:00]}}") + ITEM,
        4,
        "calendars.b.extra_holidays[0]",
        "a date and time is not allowed here",
    ),
    (
        "a 5000-digit integer",
        window("service_level", "min_volume: " + "9" * 5000),
        5,
        "objectives[0].min_volume",
        "a number of 5000 characters",
    ),
    (
        "a 5000-digit integer with an explicit tag",
        item("within: !!int '" + "9" * 5000 + "'"),
        5,
        "objectives[0].within",
        "a number of 5000 characters",
    ),
    (
        "a 5000-digit float",
        item("within: " + "9" * 5000 + ".5"),
        5,
        "objectives[0].within",
        "a number of 5002 characters",
    ),
    (
        "a 5000-digit duration",
        item("within: '" + "9" * 5000 + "s'"),
        5,
        "objectives[0].within",
        "not a finite number",
    ),
    (
        "a 5000-digit workday count",
        CALENDAR + item(f"calendar: b, within: '{'9' * 5000} workdays'"),
        6,
        "objectives[0].within",
        "at most 366 workdays",
    ),
    (
        "within of 100000000 workdays",
        CALENDAR + item("calendar: b, within: 100000000 workdays"),
        6,
        "objectives[0].within",
        "at most 366 workdays",
    ),
    (
        "within more than a year of a calendar's opening hours",
        "calendars: {b: {weekly: {sat: ['09:00-09:01']}}}\n" + item("calendar: b, within: 366d"),
        6,
        "objectives[0].within",
        "366d of open time is more than a year of calendar 'b' (at most 52m17s)",
    ),
    (
        "a calendar closed for two years",
        closed_for_two_years(),
        5,
        "calendars.b.extra_holidays",
        "calendar 'b' is closed 735 days in a row from 2027-01-04; at most 366",
    ),
    (
        "within longer than a year",
        item("within: 400d"),
        5,
        "objectives[0].within",
        "longer than 366d, the limit",
    ),
    ("within .nan", item("within: .nan"), 5, "objectives[0].within", "not a finite number"),
    ("within .inf", item("within: .inf"), 5, "objectives[0].within", "not a finite number"),
    ("within -.inf", item("within: -.inf"), 5, "objectives[0].within", "is negative"),
    (
        "threshold .nan",
        window("service_level", "threshold: .nan, target: '>= 80%'"),
        5,
        "objectives[0].threshold",
        "not a finite number",
    ),
    (
        "threshold of two days",
        window("service_level", "threshold: 2d, target: '>= 80%'"),
        5,
        "objectives[0].threshold",
        "longer than 1d",
    ),
    (
        "window .inf",
        f"objectives:\n  - {{id: a, {SLA.replace('1h', '.inf')}, threshold: 20s}}\n",
        5,
        "objectives[0].window",
        "not a finite number",
    ),
    (
        "window of 100 days",
        f"objectives:\n  - {{id: a, {SLA.replace('1h', '100d')}, threshold: 20s}}\n",
        5,
        "objectives[0].window",
        "longer than 92d",
    ),
    (
        "short_abandon .nan",
        window("service_level", "threshold: 20s, target: '>= 80%', short_abandon: .nan"),
        5,
        "objectives[0].short_abandon",
        "not a finite number",
    ),
    (
        "a time target of 1e300 s",
        window("average_speed_of_answer", "target: '<= 1e300s'"),
        5,
        "objectives[0].target",
        "bad target",
    ),
    (
        "a time target of a week",
        window("average_speed_of_answer", "target: '<= 7d'"),
        5,
        "objectives[0].target",
        "longer than 1d",
    ),
    (
        "a percent target of 1e400 %",
        window("abandonment_rate", f"target: '<= {'9' * 400}%'"),
        5,
        "objectives[0].target",
        "between 0% and 100%",
    ),
    (
        "scale_max .inf",
        window("satisfaction", "target: '>= 80%', scale_max: .inf"),
        5,
        "objectives[0].scale_max",
        "finite number",
    ),
    (
        "scale_max of a million",
        window("satisfaction", "target: '>= 80%', scale_max: 1e6"),
        5,
        "objectives[0].scale_max",
        "less than or equal to 1000",
    ),
    (
        "satisfied_min_score .nan",
        window("satisfaction", "target: '>= 80%', satisfied_min_score: .nan"),
        5,
        "objectives[0].satisfied_min_score",
        "finite number",
    ),
    (
        "min_volume of a billion",
        window("service_level", "threshold: 20s, target: '>= 80%', min_volume: 1000000000"),
        5,
        "objectives[0].min_volume",
        "less than or equal to 1000000",
    ),
    (
        "warn_at .nan",
        item("within: 1h, warn_at: [.nan]"),
        5,
        "objectives[0].warn_at[0]",
        "expected a percent",
    ),
    ("for .inf", ITEM + "alerting: {for: .inf}\n", 6, "alerting.for", "not a finite number"),
    (
        "escalation after 1e300",
        ITEM + "alerting: {escalation: [{after: 1e300, notify: [x]}]}\n",
        6,
        "alerting.escalation[0].after",
        "longer than 30d",
    ),
    (
        "repeat_interval of a year",
        ITEM + "alerting: {repeat_interval: 365d}\n",
        6,
        "alerting.repeat_interval",
        "longer than 30d",
    ),
    (
        "percent_of_fee .nan",
        item("within: 1h, target: '>= 90%'") + "credits: [{objective: a, percent_of_fee: .nan}]\n",
        6,
        "credits[0].percent_of_fee",
        "finite number",
    ),
    (
        "percent_of_fee .inf",
        item("within: 1h, target: '>= 90%'") + "credits: [{objective: a, percent_of_fee: .inf}]\n",
        6,
        "credits[0].percent_of_fee",
        "finite number",
    ),
    (
        "a merge key of a scalar",
        "objectives:\n  - {<<: 5, id: a, kind: first_response, within: 1h}\n",
        5,
        "(yaml)",
        "expected a mapping or list of mappings for merging",
    ),
]


@pytest.mark.parametrize(
    ("body", "line", "field", "fragment"),
    [
        pytest.param(body, line, field, fragment, id=name)
        for name, body, line, field, fragment in CASES
    ],
)
def test_slamon_validate_locates_a_hostile_file_and_exits_2(
    tmp_path: Path, body: str, line: int, field: str, fragment: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(HEAD + body, encoding="utf-8")

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    prefix = f"{path}:{line}: {field}: "
    problems = [text for text in result.stdout.splitlines() if text.startswith(prefix)]
    assert problems, result.stdout
    assert fragment in problems[0], result.stdout


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "# " + "x" * MAX_FILE_BYTES + "\n" + ITEM, encoding="utf-8")

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 2
    assert result.stdout == (
        f"{path}:0: (file): larger than {MAX_FILE_BYTES} bytes, the limit for an agreement file\n"
    )


def test_a_merge_key_of_an_anchored_mapping_still_shares_settings(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        HEAD + "objectives:\n"
        "  - &email {id: e, kind: first_response, match: {channel: email}, within: 12h}\n"
        "  - {<<: *email, id: p, match: {channel: portal}}\n",
        encoding="utf-8",
    )

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 0, result.output


def test_a_long_value_is_cut_in_the_message_not_echoed_in_full(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(HEAD + item("within: '" + "7" * 5000 + "s'"), encoding="utf-8")

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 2
    assert len(result.stdout) < 400

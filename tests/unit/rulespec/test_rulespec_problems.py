"""Broken agreement files: each one yields exactly the expected ``file:line: field: message``."""

from __future__ import annotations

import textwrap

import pytest

from monitor.domain.errors import AgreementError
from monitor.rulespec.loader import load_text

HEAD = "version: slamon/v1\ncontract: c\ntitle: t\n"
"""Three valid lines, so a case's own lines start at line 4."""


def with_head(body: str) -> str:
    return HEAD + textwrap.dedent(body)


CASES: list[tuple[str, str, list[str]]] = [
    (
        "wrong version",
        "version: slamon/v2\ncontract: c\n",
        ["1: version: unsupported version 'slamon/v2'; this slamon reads slamon/v1"],
    ),
    (
        "missing version",
        "contract: c\ntitle: t\n",
        [
            "1: version: required field is missing; "
            "the first line of an agreement is 'version: slamon/v1'"
        ],
    ),
    (
        "empty file",
        "",
        ["1: version: the file is empty; an agreement starts with 'version: slamon/v1'"],
    ),
    (
        "a list instead of a mapping",
        "- version: slamon/v1\n",
        ["1: (document): expected a mapping of agreement fields, got list"],
    ),
    (
        "YAML syntax error",
        "version: slamon/v1\nobjectives: [\n  {id: a, kind: first_response\ntitle: t\n",
        ["4: (yaml): YAML syntax error: expected ',' or '}', but got ':'"],
    ),
    (
        "duplicate YAML key",
        "version: slamon/v1\ncontract: c\ncontract: d\n",
        [
            "3: (yaml): YAML syntax error: "
            'found duplicate key "contract" with value "d" (original value: "c")'
        ],
    ),
    (
        "typo in a field name",
        with_head(
            """\
        objectives:
          - id: sl
            kind: service_level
            threshhold: 20s
            target: ">= 80%"
            window: 30m
        """
        ),
        [
            "5: objectives[0].threshold: required field is missing",
            "7: objectives[0].threshhold: unknown field 'threshhold' (did you mean 'threshold'?)",
        ],
    ),
    (
        "typo at the top level",
        HEAD + "objectives: [{id: a, kind: first_response, within: 1h}]\ncredit: []\n",
        ["5: credit: unknown field 'credit' (did you mean 'credits'?)"],
    ),
    (
        "bad duration",
        HEAD
        + "objectives:\n"
        + "  - {id: asa, kind: average_speed_of_answer, target: '<= 30s', window: 30 minutes}\n",
        [
            "5: objectives[0].window: bad duration '30 minutes'; "
            "durations look like 20s, 3m, 12h, 7d, 1h30m or a number of seconds"
        ],
    ),
    (
        "target without comparator",
        HEAD + "objectives:\n  - {id: ab, kind: abandonment_rate, target: '5%', window: 1h}\n",
        [
            "5: objectives[0].target: bad target '5%'; write a comparator (>=, >, <=, <) "
            "and a value, like '>= 80%', '<= 30s' or '>= 4.5'"
        ],
    ),
    (
        "percent above 100",
        HEAD + "objectives:\n  - {id: up, kind: availability, service: core, target: '>= 101%'}\n",
        ["5: objectives[0].target: target '>= 101%': a percent must be between 0% and 100%"],
    ),
    (
        "percent target on a time objective",
        HEAD + "objectives:\n  - {id: asa, kind: average_wait, target: '<= 5%', window: 1h}\n",
        ["5: objectives[0].target: target <= 5%: expected a time like '<= 30s'"],
    ),
    (
        "time target on a ratio objective",
        HEAD + "objectives:\n  - {id: ab, kind: abandonment_rate, target: '<= 30s', window: 1h}\n",
        ["5: objectives[0].target: target <= 30s: expected a percent like '>= 80%'"],
    ),
    (
        "target pointing the wrong way",
        HEAD
        + "objectives:\n"
        + "  - {id: sl, kind: service_level, threshold: 20s, target: '<= 80%', window: 1h}\n",
        ["5: objectives[0].target: target <= 80%: this objective needs >= or >"],
    ),
    (
        "service_level without threshold",
        HEAD + "objectives:\n  - {id: sl, kind: service_level, target: '>= 80%', window: 1h}\n",
        ["5: objectives[0].threshold: required field is missing"],
    ),
    (
        "zero window",
        HEAD + "objectives:\n  - {id: ab, kind: abandonment_rate, target: '<= 5%', window: 0m}\n",
        ["5: objectives[0].window: duration '0m' must be greater than zero"],
    ),
    (
        "workdays on a window objective",
        HEAD
        + "objectives:\n"
        + "  - {id: w, kind: average_wait, target: '<= 30s', window: 2 workdays}\n",
        [
            "5: objectives[0].window: '2 workdays': 'N workdays' is only allowed in the "
            "'within' of first_response, next_response and resolution objectives"
        ],
    ),
    (
        "workdays without a calendar",
        HEAD + "objectives:\n  - {id: r, kind: resolution, within: 2 workdays}\n",
        ["5: objectives[0].within: '2 workdays' needs a business calendar: add calendar: <name>"],
    ),
    (
        "unknown objective kind",
        HEAD + "objectives:\n  - id: x\n    kind: response_time\n    within: 1h\n",
        [
            "6: objectives[0].kind: unknown kind 'response_time'; expected one of "
            "'service_level', 'average_speed_of_answer', 'average_wait', "
            "'average_handle_time', 'abandonment_rate', 'satisfaction', 'first_response', "
            "'next_response', 'resolution', 'availability'"
        ],
    ),
    (
        "objective without kind",
        HEAD + "objectives:\n  - id: x\n    within: 1h\n",
        ["5: objectives[0].kind: required field is missing; every objective names its kind"],
    ),
    (
        "no objectives",
        HEAD + "objectives: []\n",
        ["4: objectives: must not be empty"],
    ),
    (
        "unknown calendar",
        with_head(
            """\
        calendars:
          business: {timezone: Europe/Berlin, weekly: {mon-fri: ["09:00-17:00"]}}
        objectives:
          - {id: email, kind: first_response, within: 4h, calendar: office}
        """
        ),
        ["7: objectives[0].calendar: unknown calendar 'office' (defined: business)"],
    ),
    (
        "unknown channel and priority in match",
        HEAD
        + "objectives:\n"
        + "  - id: fax\n"
        + "    kind: first_response\n"
        + "    match: {channel: fax, priority: [high, critical]}\n"
        + "    within: 4h\n",
        [
            "7: objectives[0].match.channel: unknown channel 'fax': matcher can never match "
            "(known: email, portal, phone, chat, other)",
            "7: objectives[0].match.priority: unknown priority 'critical': matcher can never "
            "match (known: urgent, high, normal, low)",
        ],
    ),
    (
        "ticket selectors on a window objective",
        HEAD
        + "objectives:\n"
        + "  - {id: sl, kind: service_level, threshold: 20s, target: '>= 80%', window: 1h,\n"
        + "     match: {channel: email, priority: high}}\n",
        [
            "6: objectives[0].match.channel: unknown channel 'email': matcher can never match "
            "(known: phone, chat)",
            "6: objectives[0].match.priority: calls and chats carry no priority: matcher can "
            "never match (select tickets by priority in an item objective)",
        ],
    ),
    (
        "empty selector list",
        HEAD + "objectives:\n  - {id: a, kind: first_response, match: {queue: []}, within: 1h}\n",
        ["5: objectives[0].match.queue: an empty list: matcher can never match"],
    ),
    (
        "duplicate objective id",
        HEAD
        + "objectives:\n"
        + "  - {id: a, kind: first_response, within: 4h}\n"
        + "  - {id: a, kind: resolution, within: 4h}\n",
        ["6: objectives[1].id: duplicate objective id 'a' (first used on line 5)"],
    ),
    (
        "credit for an unknown objective",
        HEAD
        + "objectives:\n  - {id: a, kind: first_response, within: 4h, target: '>= 90%'}\n"
        + "credits:\n  - {objective: b, percent_of_fee: 5}\n",
        ["7: credits[0].objective: no objective with id 'b'"],
    ),
    (
        "credit for an objective without a monthly target",
        HEAD
        + "objectives:\n  - {id: a, kind: first_response, within: 4h}\n"
        + "credits:\n  - {objective: a, percent_of_fee: 5}\n",
        [
            "7: credits[0].objective: objective 'a' has no monthly target: credits need an "
            "availability objective or an objective with a target and period: month"
        ],
    ),
    (
        "a monthly contact objective with another period",
        HEAD + "objectives:\n  - {id: sl, kind: service_level, threshold: 20s,"
        " target: '>= 80%', period: week}\n",
        ["5: objectives[0].period: got 'week'; expected 'month'"],
    ),
    (
        "a contact objective with neither window nor period",
        HEAD + "objectives:\n  - {id: asa, kind: average_speed_of_answer, target: '<= 30s'}\n",
        [
            "5: objectives[0].period: needs a rolling window (window: 30m) "
            "or a monthly target (period: month)"
        ],
    ),
    (
        "a contact objective with both window and period",
        HEAD + "objectives:\n  - {id: ab, kind: abandonment_rate, target: '<= 5%',"
        " window: 1h, period: month}\n",
        [
            "5: objectives[0].period: give either window or period: month, not both; "
            "for both, write two objectives with different ids"
        ],
    ),
    (
        "a monthly contact objective with a for",
        HEAD + "objectives:\n  - {id: csat, kind: satisfaction, target: '>= 90%',"
        " period: month, for: 5m}\n",
        [
            "5: objectives[0].period: 'for' applies to rolling windows; a monthly target "
            "alerts on its error budget's burn rate"
        ],
    ),
    (
        "a monthly average with a target the wrong way round",
        HEAD + "objectives:\n  - {id: w, kind: average_wait, target: '>= 30s', period: month}\n",
        ["5: objectives[0].target: target >= 30s: this objective needs <= or <"],
    ),
    (
        "a monthly contact objective without a target",
        HEAD + "objectives:\n  - {id: aht, kind: average_handle_time, period: month}\n",
        ["5: objectives[0].target: required field is missing"],
    ),
    (
        "credit for a rolling-window contact objective",
        HEAD + "objectives:\n  - {id: sl, kind: service_level, threshold: 20s, target: '>= 80%',"
        " window: 30m}\n" + "credits:\n  - {objective: sl, percent_of_fee: 5}\n",
        [
            "7: credits[0].objective: objective 'sl' has no monthly target: credits need an "
            "availability objective or an objective with a target and period: month"
        ],
    ),
    (
        "period without a target",
        HEAD + "objectives:\n  - {id: r, kind: resolution, within: 8h, period: month}\n",
        ["5: objectives[0].period: period needs a compliance target, like target: '>= 95%'"],
    ),
    (
        "pause on a closing status",
        HEAD + "objectives:\n  - {id: r, kind: resolution, within: 8h, pause_on: [solved]}\n",
        [
            "5: objectives[0].pause_on[0]: got 'solved'; "
            "expected 'new', 'open', 'pending' or 'on_hold'"
        ],
    ),
    (
        "bad timezone",
        HEAD + "timezone: Mars/Olympus\nobjectives: [{id: a, kind: first_response, within: 1h}]\n",
        ["4: timezone: unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Berlin"],
    ),
    (
        "bad holiday country",
        with_head(
            """\
        calendars:
          business:
            weekly: {mon-fri: ["09:00-18:00"]}
            holidays: {country: XX}
        objectives: [{id: a, kind: first_response, within: 1h, calendar: business}]
        """
        ),
        [
            "7: calendars.business.holidays.country: unknown holiday country 'XX'; "
            "use an ISO 3166 alpha-2 code such as US, CN or DE"
        ],
    ),
    (
        "bad holiday subdivision",
        with_head(
            """\
        calendars:
          business:
            weekly: {mon-fri: ["09:00-18:00"]}
            holidays:
              country: US
              subdivision: ZZ
        objectives: [{id: a, kind: first_response, within: 1h, calendar: business}]
        """
        ),
        ["9: calendars.business.holidays.subdivision: US has no holiday subdivision 'ZZ' ..."],
    ),
    (
        "bad weekly hours",
        with_head(
            """\
        calendars:
          business:
            weekly:
              mon-fir: ["09:00-18:00"]
              sat: ["18:00-09:00"]
              sun:
                - "09:00-12:00"
                - "09:00-25:00"
        objectives: [{id: a, kind: first_response, within: 1h, calendar: business}]
        """
        ),
        [
            "7: calendars.business.weekly.mon-fir: bad day 'mon-fir'; use mon, tue, wed, thu, "
            "fri, sat, sun, a range like mon-fri, or daily",
            "8: calendars.business.weekly.sat[0]: opening hours '18:00-09:00' end before they "
            "start; split a shift that crosses midnight into '..-24:00' and '00:00-..' on the "
            "next day",
            "11: calendars.business.weekly.sun[1]: bad opening hours '09:00-25:00': "
            "not a time of day",
        ],
    ),
    (
        "a day given twice",
        with_head(
            """\
        calendars:
          business:
            weekly: {mon-fri: ["09:00-18:00"], fri: ["09:00-12:00"]}
        objectives: [{id: a, kind: first_response, within: 1h, calendar: business}]
        """
        ),
        ["6: calendars.business.weekly: fri is given in more than one key"],
    ),
    (
        "a date both holiday and workday",
        with_head(
            """\
        calendars:
          business:
            weekly: {mon-fri: ["09:00-18:00"]}
            extra_holidays: [2026-12-24]
            extra_workdays: [2026-12-24]
        objectives: [{id: a, kind: first_response, within: 1h, calendar: business}]
        """
        ),
        [
            "8: calendars.business.extra_workdays: "
            "2026-12-24 is both an extra holiday and an extra workday"
        ],
    ),
    (
        "escalation out of order",
        HEAD
        + "objectives: [{id: a, kind: first_response, within: 1h}]\n"
        + "alerting:\n"
        + "  escalation:\n"
        + "    - {after: 30m, notify: [leads]}\n"
        + "    - {after: 0m, notify: [alertmanager]}\n",
        ["6: alerting.escalation: escalation levels must be listed in order of 'after'"],
    ),
    (
        "warn_at as a fraction",
        HEAD
        + "objectives: [{id: a, kind: first_response, within: 1h}]\n"
        + "alerting: {warn_at: [0.75]}\n",
        ["5: alerting.warn_at[0]: expected a percent like 75%, got 0.75"],
    ),
    (
        "credit above the whole fee",
        HEAD
        + "objectives: [{id: up, kind: availability, service: core, target: '>= 99%'}]\n"
        + "credits: [{objective: up, percent_of_fee: 500}]\n",
        ["5: credits[0].percent_of_fee: input should be less than or equal to 100, got 500"],
    ),
    (
        "bad contract id and empty title",
        "version: slamon/v1\ncontract: C_1\ntitle: ''\n"
        + "objectives: [{id: a, kind: first_response, within: 1h}]\n",
        [
            "2: contract: bad id 'C_1': use lower-case letters, digits, '.', '_' and '-', "
            "starting with a letter or digit",
            "3: title: must not be empty",
        ],
    ),
    (
        "values of the wrong type",
        HEAD
        + "objectives: [null, {id: a, kind: first_response, within: 1h, pause_on: null}]\n"
        + "alerting: {min_volume: '10'}\n"
        + "labels: {a: 1}\n",
        [
            "4: objectives[0]: expected a mapping, got None",
            "4: objectives[1].pause_on: expected a list, got None",
            "5: alerting.min_volume: expected a whole number, got '10'",
            "6: labels.a: expected a string, got 1",
        ],
    ),
    (
        "many mistakes in one file are all reported",
        with_head(
            """\
        timezone: Europe/Nowhere
        calendars:
          business: {weekly: {mon-fri: ["9-17"]}}
        objectives:
          - {id: sl, kind: service_level, target: ">= 80%", window: 1h}
          - {id: sl, kind: first_response, within: 2 weeks, calendar: office}
          - {id: csat, kind: satisfaction, target: ">= 4.5", window: 7d, satisfied_min_score: 7}
        credits:
          - {objective: nope, percent_of_fee: 5}
        """
        ),
        [
            "4: timezone: unknown time zone 'Europe/Nowhere'; use an IANA name like Europe/Berlin",
            "6: calendars.business.weekly.mon-fri[0]: bad opening hours '9-17'; "
            'write them like "09:00-18:00"',
            "8: objectives[0].threshold: required field is missing",
            "9: objectives[1].calendar: unknown calendar 'office' (defined: business)",
            "9: objectives[1].id: duplicate objective id 'sl' (first used on line 8)",
            "9: objectives[1].within: bad duration '2 weeks'; durations look like 20s, 3m, 12h, "
            "7d, 1h30m or a number of seconds (or 'N workdays')",
            "10: objectives[2].satisfied_min_score: 7 is not on the survey scale (0, 5]",
            "10: objectives[2].target: target >= 4.5: expected a percent like '>= 80%'",
            "12: credits[0].objective: no objective with id 'nope'",
        ],
    ),
]


def problems_of(text: str) -> list[str]:
    with pytest.raises(AgreementError) as raised:
        load_text(text, "broken.yaml")
    return [str(problem) for problem in raised.value.problems]


def _matches(actual: str, expected: str) -> bool:
    if expected.endswith(" ..."):
        return actual.startswith(expected.removesuffix(" ..."))
    return actual == expected


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_file_names_file_line_field_and_problem(text: str, expected: list[str]) -> None:
    actual = problems_of(text)
    wanted = [f"broken.yaml:{line}" for line in expected]

    assert len(actual) == len(wanted), actual
    assert all(_matches(a, w) for a, w in zip(actual, wanted, strict=True)), actual


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(AgreementError) as raised:
        load_text(HEAD + "objectives: [{id: A, kind: first_response, within: 0s}]\n", "x.yaml")

    assert str(raised.value).splitlines() == [
        "x.yaml:4: objectives[0].id: bad id 'A': use lower-case letters, digits, '.', '_' "
        "and '-', starting with a letter or digit",
        "x.yaml:4: objectives[0].within: duration '0s' must be greater than zero (or 'N workdays')",
    ]

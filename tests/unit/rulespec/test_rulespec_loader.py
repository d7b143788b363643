"""Loading agreement files into domain objects: the documented sketch, defaults, folders."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from monitor.domain.agreement import (
    AvailabilityObjective,
    BusinessTime,
    Credit,
    EscalationLevel,
    ItemObjective,
    Target,
    WindowObjective,
    Workdays,
)
from monitor.domain.errors import AgreementError, Problem
from monitor.rulespec.loader import load_agreement, load_rules, load_text

# The agreement sketch users were first shown, verbatim: it is a public contract and
# must keep loading.
DESIGN_SKETCH = """\
version: slamon/v1
contract: cta-apc-nj
title: Customer Service Agreement, CTA / APC Telecom (New Jersey)
calendars:
  business:
    timezone: America/New_York
    weekly: {mon-fri: ["09:00-12:00", "13:00-18:00"]}
    holidays: {country: US, subdivision: NJ}     # public holidays from a library
    extra_holidays: [2026-12-24]
    extra_workdays: []                           # e.g. make-up workdays
objectives:
  - {id: phone-60s, kind: service_level, threshold: 60s, target: ">= 80%", window: 30m,
     formula: answered_within_over_offered, short_abandon: 5s, min_volume: 10}
  - {id: asa, kind: average_speed_of_answer, target: "<= 30s", window: 1h}
  - {id: abandonment, kind: abandonment_rate, target: "<= 5%", window: 1h}
  - {id: chat-first-response, kind: first_response, match: {channel: chat}, within: 3m}
  - {id: email-first-response, kind: first_response, match: {channel: email},
     within: 12h, calendar: business}
  - {id: resolution-high, kind: resolution, match: {priority: [urgent, high]},
     within: 8h, calendar: business, pause_on: [pending, on_hold],
     target: ">= 95%", period: month}
  - {id: complaints, kind: resolution, match: {category: complaint}, within: 2 workdays,
     calendar: business}
  - {id: availability, kind: availability, service: core, target: ">= 99.5%", period: month}
  - {id: csat, kind: satisfaction, satisfied_min_score: 4, target: ">= 90%", window: 7d}
alerting:
  warn_at: [75%]          # per-item clocks: at-risk warning when this share is used
  for: 5m                 # window objectives: condition must hold this long
  escalation:
    - {after: 0m, notify: [alertmanager]}
    - {after: 30m, notify: [pagerduty-leads]}
credits:                  # optional: service credit per missed monthly objective
  - {objective: resolution-high, percent_of_fee: 5}
"""

MINIMAL = """\
version: slamon/v1
contract: minimal
title: Minimal
objectives:
  - {id: chat, kind: first_response, match: {channel: chat}, within: 3m}
"""


def test_the_design_sketch_loads_as_written() -> None:
    agreement = load_text(DESIGN_SKETCH, "sketch.yaml")

    assert agreement.contract_id == "cta-apc-nj"
    assert agreement.timezone == "America/New_York"
    assert agreement.source == "sketch.yaml"
    assert [o.id for o in agreement.objectives] == [
        "phone-60s",
        "asa",
        "abandonment",
        "chat-first-response",
        "email-first-response",
        "resolution-high",
        "complaints",
        "availability",
        "csat",
    ]


def test_the_design_sketch_window_objectives() -> None:
    agreement = load_text(DESIGN_SKETCH, "sketch.yaml")
    phone = agreement.objective("phone-60s")
    asa = agreement.objective("asa")
    csat = agreement.objective("csat")

    assert isinstance(phone, WindowObjective)
    assert phone.target == Target(">=", 0.8, "ratio")
    assert (phone.threshold, phone.window, phone.short_abandon) == (60.0, 1800.0, 5.0)
    assert phone.formula == "answered_within_over_offered"
    assert (phone.min_volume, phone.hold_for) == (10, 300.0)
    assert isinstance(asa, WindowObjective)
    assert asa.target == Target("<=", 30.0, "seconds")
    assert asa.window == 3600.0
    assert agreement.objective("abandonment").target == Target("<=", 0.05, "ratio")
    assert isinstance(csat, WindowObjective)
    assert (csat.satisfied_min_score, csat.scale_max, csat.window) == (4.0, 5.0, 604800.0)


def test_the_design_sketch_item_objectives() -> None:
    agreement = load_text(DESIGN_SKETCH, "sketch.yaml")
    chat = agreement.objective("chat-first-response")
    email = agreement.objective("email-first-response")
    high = agreement.objective("resolution-high")
    complaints = agreement.objective("complaints")

    assert isinstance(chat, ItemObjective)
    assert chat.within == BusinessTime(180.0)
    assert chat.calendar.name == "24x7"
    assert chat.calendar.timezone == "America/New_York"
    assert chat.match.channel == frozenset({"chat"})
    assert isinstance(email, ItemObjective)
    assert email.within == BusinessTime(43200.0)
    assert email.calendar is agreement.calendars["business"]
    assert isinstance(high, ItemObjective)
    assert high.match.priority == frozenset({"urgent", "high"})
    assert high.pause_on == frozenset({"pending", "on_hold"})
    assert (high.target, high.period) == (Target(">=", 0.95, "ratio"), "month")
    assert high.warn_at == (0.75,)
    assert isinstance(complaints, ItemObjective)
    assert complaints.within == Workdays(2)
    assert complaints.match.category == frozenset({"complaint"})


def test_the_design_sketch_availability_alerting_and_credits() -> None:
    agreement = load_text(DESIGN_SKETCH, "sketch.yaml")
    availability = agreement.objective("availability")

    assert isinstance(availability, AvailabilityObjective)
    assert (availability.service, availability.period) == ("core", "month")
    assert availability.target == Target(">=", 0.995, "ratio")
    assert not availability.degraded_is_down
    assert agreement.alerting.warn_at == (0.75,)
    assert agreement.alerting.hold_for == 300.0
    assert agreement.alerting.escalation == (
        EscalationLevel(0.0, ("alertmanager",)),
        EscalationLevel(1800.0, ("pagerduty-leads",)),
    )
    assert agreement.credits == (Credit("resolution-high", 5.0),)


def test_the_design_sketch_calendar_has_split_shifts_and_new_jersey_holidays() -> None:
    calendar = load_text(DESIGN_SKETCH, "sketch.yaml").calendars["business"]

    def open_at(day: int, hour: str) -> bool:
        new_york = datetime.fromisoformat(f"2026-11-{day}T{hour}:00:00-05:00")
        return calendar.is_open(new_york.timestamp())

    assert open_at(20, "10")  # Friday morning
    assert not open_at(20, "12")  # lunch break
    assert open_at(20, "13")
    assert not open_at(21, "10")  # Saturday
    assert not open_at(26, "10")  # Thanksgiving


def test_defaults_fill_what_the_file_leaves_out() -> None:
    agreement = load_text(MINIMAL, "minimal.yaml")
    chat = agreement.objective("chat")

    assert agreement.timezone == "UTC"
    assert agreement.calendars == {}
    assert agreement.credits == ()
    assert agreement.alerting.min_volume == 10
    assert isinstance(chat, ItemObjective)
    assert chat.calendar.is_always_open
    assert (chat.target, chat.period, chat.pause_on) == (None, None, frozenset())


def test_the_contract_timezone_defaults_to_the_business_calendar() -> None:
    text = MINIMAL + (
        "calendars:\n"
        "  support: {timezone: Asia/Tokyo, weekly: {daily: ['00:00-24:00']}}\n"
        "  business: {timezone: Asia/Shanghai, weekly: {mon-fri: ['09:00-18:00']}}\n"
        "  other: {weekly: {sat: ['10:00-12:00']}}\n"
    )
    agreement = load_text(text, "tz.yaml")

    assert agreement.timezone == "Asia/Shanghai"
    assert agreement.calendars["other"].timezone == "Asia/Shanghai"


def test_objective_settings_override_the_contract_alerting() -> None:
    text = MINIMAL.replace(
        "objectives:\n",
        "alerting: {for: 10m, min_volume: 30, warn_at: [50%, 90%]}\n"
        "objectives:\n"
        "  - {id: asa, kind: average_speed_of_answer, target: '<= 20s', window: 1h, for: 1m}\n"
        "  - {id: wait, kind: average_wait, target: '<= 20s', window: 1h, min_volume: 5}\n"
        "  - {id: email, kind: first_response, within: 1h, warn_at: [80%]}\n",
    )
    agreement = load_text(text, "override.yaml")
    asa, wait = agreement.objective("asa"), agreement.objective("wait")
    email, chat = agreement.objective("email"), agreement.objective("chat")

    assert isinstance(asa, WindowObjective)
    assert isinstance(wait, WindowObjective)
    assert (asa.hold_for, asa.min_volume) == (60.0, 30)
    assert (wait.hold_for, wait.min_volume) == (600.0, 5)
    assert isinstance(email, ItemObjective)
    assert isinstance(chat, ItemObjective)
    assert (email.warn_at, chat.warn_at) == ((0.8,), (0.5, 0.9))


def test_match_selectors_accept_scalars_lists_and_attributes() -> None:
    text = MINIMAL.replace(
        "match: {channel: chat}",
        "match: {channel: [chat, email], queue: billing, attributes: {tier: [gold, silver]}}",
    )
    match = load_text(text, "match.yaml").objective("chat").match  # type: ignore[union-attr]

    assert match.channel == frozenset({"chat", "email"})
    assert match.queue == frozenset({"billing"})
    assert match.attributes == (("tier", frozenset({"gold", "silver"})),)


def test_satisfaction_scores_default_to_the_top_fifth_of_the_scale() -> None:
    text = (
        MINIMAL
        + "  - {id: nps, kind: satisfaction, scale_max: 10, target: '>= 60%', window: 30d}\n"
    )
    nps = load_text(text, "nps.yaml").objective("nps")

    assert isinstance(nps, WindowObjective)
    assert (nps.satisfied_min_score, nps.scale_max) == (8.0, 10.0)


def test_abandonment_may_leave_out_short_abandons() -> None:
    text = MINIMAL + (
        "  - {id: ab, kind: abandonment_rate, target: '< 5%', window: 1h, short_abandon: 5s}\n"
    )
    abandonment = load_text(text, "ab.yaml").objective("ab")

    assert isinstance(abandonment, WindowObjective)
    assert abandonment.short_abandon == 5.0


def test_a_contact_objective_may_have_a_rolling_window_and_a_monthly_target() -> None:
    text = MINIMAL + (
        "  - {id: phone-sl-30m, kind: service_level, threshold: 20s, target: '>= 80%',"
        " window: 30m}\n"
        "  - {id: phone-sl-month, kind: service_level, threshold: 20s, target: '>= 80%',"
        " period: month}\n"
        "credits: [{objective: phone-sl-month, percent_of_fee: 5}]\n"
    )
    agreement = load_text(text, "sl.yaml")
    rolling, monthly = agreement.objective("phone-sl-30m"), agreement.objective("phone-sl-month")

    assert isinstance(rolling, WindowObjective)
    assert isinstance(monthly, WindowObjective)
    assert (rolling.window, rolling.period) == (1800.0, None)
    assert (monthly.window, monthly.period) == (0.0, "month")
    assert agreement.credits == (Credit("phone-sl-month", 5),)


def test_clauses_are_kept_on_objectives_and_credits() -> None:
    text = (
        MINIMAL.replace("within: 3m}", "within: 3m, clause: '4.1(1) 在线客服响应时间不超过3分钟'}")
        + "  - {id: up, kind: availability, service: core, target: '>= 99%', degraded: down}\n"
        + "credits: [{objective: up, percent_of_fee: 2.5, clause: '10.3'}]\n"
    )
    agreement = load_text(text, "clauses.yaml")
    up = agreement.objective("up")

    assert agreement.objective("chat").clause == "4.1(1) 在线客服响应时间不超过3分钟"
    assert isinstance(up, AvailabilityObjective)
    assert up.degraded_is_down
    assert agreement.credits == (Credit("up", 2.5, "10.3"),)


def test_yaml_anchors_and_merge_keys_may_share_settings() -> None:
    text = MINIMAL + (
        "  - &email {id: email, kind: first_response, match: {channel: email}, within: 12h}\n"
        "  - <<: *email\n"
        "    id: portal\n"
        "    match: {channel: portal}\n"
    )
    portal = load_text(text, "anchors.yaml").objective("portal")

    assert isinstance(portal, ItemObjective)
    assert (portal.within, portal.match.channel) == (BusinessTime(43200.0), frozenset({"portal"}))


def test_load_agreement_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(MINIMAL, encoding="utf-8")

    assert load_agreement(path).source == str(path)


def test_load_rules_reads_yaml_and_yml_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(MINIMAL.replace("minimal", "b"), encoding="utf-8")
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("minimal", "a"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an agreement", encoding="utf-8")

    agreements, problems = load_rules([tmp_path])

    assert problems == []
    assert [a.contract_id for a in agreements] == ["a", "b"]


def test_load_rules_reports_every_problem_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("3m", "3 minutes"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"

    agreements, problems = load_rules([tmp_path, missing])

    assert [a.contract_id for a in agreements] == ["minimal"]
    assert [str(p) for p in problems] == [
        f"{missing}:0: (file): no such file or folder",
        f"{tmp_path / 'b.yaml'}:2: contract: contract id 'minimal' is already used by "
        f"{tmp_path / 'a.yaml'}",
        f"{tmp_path / 'c.yaml'}:5: objectives[0].within: bad duration '3 minutes'; "
        "durations look like 20s, 3m, 12h, 7d, 1h30m or a number of seconds (or 'N workdays')",
    ]


def test_an_empty_folder_is_a_problem(tmp_path: Path) -> None:
    assert load_rules([tmp_path]) == (
        [],
        [Problem(str(tmp_path), 0, "(folder)", "no agreement files (*.yaml, *.yml)")],
    )


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: café".encode("latin-1"))

    with pytest.raises(AgreementError) as raised:
        load_agreement(path)
    assert [str(p) for p in raised.value.problems] == [f"{path}:0: (file): not UTF-8 text"]

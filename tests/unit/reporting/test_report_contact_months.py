"""The monthly report of a contact objective with ``period: month``: value, days, credits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.agreement import Agreement
from monitor.reporting.credits import CreditTerms
from monitor.reporting.period import month_period
from monitor.reporting.run import build_reports
from monitor.rulespec.loader import load_text

AGREEMENT = """\
version: slamon/v1
contract: acme
title: Acme
timezone: America/New_York
objectives:
  - {id: sl-30m, kind: service_level, threshold: 20s, target: ">= 80%", window: 30m}
  - {id: sl-month, kind: service_level, threshold: 20s, target: ">= 80%", period: month}
  - {id: asa-month, kind: average_speed_of_answer, target: "<= 30s", period: month}
credits:
  - {objective: sl-month, percent_of_fee: 5, clause: "4.2 monthly service level"}
  - {objective: asa-month, percent_of_fee: 2}
"""
ZONE = ZoneInfo("America/New_York")


def _agreement() -> Agreement:
    return load_text(AGREEMENT, "acme.yaml")


def _calls(waits_by_day: dict[int, list[float]]) -> list[bytes]:
    """Calls answered after the given waits, one an hour from 09:00 local, in November."""
    lines: list[bytes] = []
    for day, waits in sorted(waits_by_day.items()):
        for n, wait in enumerate(waits):
            offered = datetime(2026, 11, day, 9 + n, tzinfo=ZONE)
            call_id = f"c{day}-{n}"
            for type_, ts, extra in (
                ("call.offered", offered, {}),
                ("call.answered", offered + timedelta(seconds=wait), {"wait_s": wait}),
            ):
                body = {
                    "event_id": f"{call_id}-{type_}",
                    "type": type_,
                    "ts": ts.isoformat(),
                    "contract_id": "acme",
                    "call_id": call_id,
                } | extra
                lines.append(json.dumps(body).encode())
    lines.sort(key=lambda line: datetime.fromisoformat(json.loads(line)["ts"]))
    return lines


def _november(lines: list[bytes]):  # type: ignore[no-untyped-def]
    run = build_reports(
        lines,
        [_agreement()],
        lambda a: month_period(a.timezone, "2026-11"),
        terms=CreditTerms(monthly_fee=1000),
        until=datetime(2026, 12, 1, 1, tzinfo=ZONE).timestamp(),
    )
    (report,) = run.reports
    return report


def test_the_month_shows_its_value_and_each_days_value() -> None:
    # the 3rd: 3 of 4 within 20 s; the 4th: 1 of 2
    report = _november(_calls({3: [5, 10, 15, 40], 4: [60, 5]}))
    sl = next(o for o in report.objectives if o.id == "sl-month")
    assert (sl.value, sl.samples, sl.met) == (pytest.approx(4 / 6), 6, False)
    daily = {point.day: point.value for point in sl.daily if point.value is not None}
    assert daily == {"2026-11-03": 0.75, "2026-11-04": 0.5}
    asa = next(o for o in report.objectives if o.id == "asa-month")
    assert asa.value == pytest.approx(135 / 6)
    assert asa.met is True


def test_a_missed_monthly_contact_objective_owes_its_credit() -> None:
    report = _november(_calls({3: [5, 10, 15, 40], 4: [60, 5]}))
    lines = {line.objective_id: (line.status, line.percent_owed) for line in report.credits.lines}
    assert lines == {"sl-month": ("owed", 5), "asa-month": ("not owed", 0)}
    assert report.credits.amount_owed == 50.0


def test_a_met_monthly_contact_objective_owes_nothing() -> None:
    report = _november(_calls({3: [5, 10, 15, 19], 4: [20, 5]}))
    assert [line.status for line in report.credits.lines] == ["not owed", "not owed"]
    assert report.credits.percent_owed == 0

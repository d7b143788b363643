"""Service credits on hand-computed cases (rules in monitor/reporting/credits.py)."""

from __future__ import annotations

import pytest

from monitor.domain.agreement import Credit
from monitor.reporting.credits import CreditTerms, assess_credits
from monitor.reporting.model import ObjectiveResult
from monitor.reporting.period import month_period, range_period
from tests.support import agreement

OCTOBER = month_period("UTC", "2026-10")


def result(objective_id: str, met: bool | None) -> ObjectiveResult:
    return ObjectiveResult(
        id=objective_id,
        kind="resolution",
        unit="ratio",
        clause=f"clause of {objective_id}",
        value=None if met is None else (1.0 if met else 0.5),
        target=0.9,
        comparator=">=",
        met=met,
        margin=None,
        samples=0 if met is None else 10,
        breaches=0,
    )


def contract_with(*credits: Credit):  # type: ignore[no-untyped-def]
    base = agreement()
    return type(base)(**{**{f: getattr(base, f) for f in base.__slots__}, "credits": credits})


CREDITS = (
    Credit("availability", 10, "§9 uptime penalty"),
    Credit("resolution", 5, "§9 resolution penalty"),
    Credit("csat", 2.5, "§9 satisfaction penalty"),
)


@pytest.mark.parametrize(
    ("verdicts", "terms", "percent", "amount"),
    [
        ({"availability": True, "resolution": True, "csat": True}, CreditTerms(20000), 0, 0),
        ({"availability": False, "resolution": True, "csat": True}, CreditTerms(20000), 10, 2000),
        (
            {"availability": False, "resolution": False, "csat": False},
            CreditTerms(999),
            17.5,
            174.83,
        ),
        (
            {"availability": False, "resolution": False, "csat": True},
            CreditTerms(8000, cap_percent=12),
            12,
            960,
        ),
        ({"availability": None, "resolution": False, "csat": None}, CreditTerms(), 5, None),
    ],
)
def test_missed_objectives_owe_their_percentage_once_capped(
    verdicts: dict[str, bool | None], terms: CreditTerms, percent: float, amount: float | None
) -> None:
    results = {oid: result(oid, met) for oid, met in verdicts.items()}
    credits = assess_credits(contract_with(*CREDITS), results, OCTOBER, terms, complete=True)
    assert credits.applicable
    assert credits.percent_owed == pytest.approx(percent)
    assert credits.amount_owed == amount
    assert not credits.provisional
    statuses = {line.objective_id: line.status for line in credits.lines}
    expected = {True: "not owed", False: "owed", None: "not measured"}
    assert statuses == {oid: expected[met] for oid, met in verdicts.items()}
    assert [line.clause for line in credits.lines] == [c.clause for c in CREDITS]


def test_credits_before_the_cap_are_kept_for_the_reader() -> None:
    results = {oid: result(oid, False) for oid in ("availability", "resolution", "csat")}
    terms = CreditTerms(cap_percent=10)
    credits = assess_credits(contract_with(*CREDITS), results, OCTOBER, terms, complete=True)
    assert (credits.percent_before_cap, credits.percent_owed) == (17.5, 10)


def test_a_month_without_full_data_is_provisional() -> None:
    results = {"resolution": result("resolution", False)}
    credits = assess_credits(
        contract_with(Credit("resolution", 5)), results, OCTOBER, CreditTerms(), complete=False
    )
    assert credits.provisional
    assert credits.percent_owed == 5
    assert "Provisional" in credits.note


def test_a_range_that_is_not_a_calendar_month_owes_no_credit() -> None:
    period = range_period("UTC", "2026-10-01", "2026-10-15")
    results = {"resolution": result("resolution", False)}
    credits = assess_credits(
        contract_with(Credit("resolution", 5)), results, period, CreditTerms(), complete=True
    )
    assert not credits.applicable
    assert credits.percent_owed == 0
    assert "calendar month" in credits.note


def test_an_agreement_without_credits_says_so() -> None:
    credits = assess_credits(agreement(), {}, OCTOBER, CreditTerms(), complete=True)
    assert not credits.applicable
    assert credits.lines == []

"""Service credits owed for a month, from the agreement's ``credits`` section.

An agreement lists ``{objective, percent_of_fee, clause}`` entries and says no
more, so slamon applies these rules (docs/reports.md, "Service credits"):

1. Credits are assessed per calendar month in the contract's time zone; a report
   over another range shows none.
2. An entry is owed when its objective was *missed* in the month: its value over
   the month misses the target (for an item objective without a target: at least
   one item missed its deadline). An objective without samples is "not measured"
   and owes nothing.
3. Each missed objective owes its ``percent_of_fee`` of the monthly fee once,
   however many breaches it had; entries for the same objective add up.
4. The total is capped at ``cap_percent`` of the monthly fee (100 % unless the
   report is told otherwise): a credit never exceeds the fee.
5. Amounts in money need the monthly fee (``--monthly-fee``); without it the
   report states percentages only. Amounts round half up to the cent.
6. While the engine's data does not cover the whole month the assessment is
   marked provisional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

from monitor.domain.agreement import Agreement
from monitor.reporting.period import ReportPeriod

if TYPE_CHECKING:
    from monitor.reporting.model import ObjectiveResult

DEFAULT_CAP_PERCENT = 100.0
CreditStatus = Literal["owed", "not owed", "not measured"]
NotApplicable = Literal["no credit section", "not a month"]


@dataclass(frozen=True, slots=True)
class CreditTerms:
    """What the agreement file does not say: the fee, its currency, the cap."""

    monthly_fee: float | None = None
    currency: str = ""
    cap_percent: float = DEFAULT_CAP_PERCENT


@dataclass(slots=True)
class CreditLine:
    objective_id: str
    clause: str
    objective_clause: str
    percent_of_fee: float
    status: CreditStatus
    percent_owed: float


@dataclass(slots=True)
class CreditAssessment:
    applicable: bool
    note: str
    lines: list[CreditLine] = field(default_factory=list)
    percent_before_cap: float = 0.0
    cap_percent: float = DEFAULT_CAP_PERCENT
    percent_owed: float = 0.0
    monthly_fee: float | None = None
    currency: str = ""
    amount_owed: float | None = None
    provisional: bool = False
    not_applicable: NotApplicable | None = None
    """Why there are no credits, for pages that word the note in the agreement's language."""

    @classmethod
    def empty(cls) -> CreditAssessment:
        return cls(applicable=False, note="")


def assess_credits(
    agreement: Agreement,
    results: Mapping[str, ObjectiveResult],
    period: ReportPeriod,
    terms: CreditTerms,
    *,
    complete: bool,
) -> CreditAssessment:
    if not agreement.credits:
        return CreditAssessment(
            applicable=False,
            note="The agreement has no service credit section.",
            not_applicable="no credit section",
        )
    if period.month is None:
        return CreditAssessment(
            applicable=False,
            note="Service credits are assessed per calendar month; report a month "
            "(--period YYYY-MM) to see them.",
            not_applicable="not a month",
        )
    lines: list[CreditLine] = []
    for credit in agreement.credits:
        result = results.get(credit.objective)
        if result is None or result.met is None:
            status: CreditStatus = "not measured"
        else:
            status = "not owed" if result.met else "owed"
        lines.append(
            CreditLine(
                objective_id=credit.objective,
                clause=credit.clause,
                objective_clause=result.clause if result is not None else "",
                percent_of_fee=credit.percent_of_fee,
                status=status,
                percent_owed=credit.percent_of_fee if status == "owed" else 0.0,
            )
        )
    before_cap = sum(line.percent_owed for line in lines)
    owed = min(before_cap, terms.cap_percent)
    amount = None if terms.monthly_fee is None else _money(terms.monthly_fee, owed)
    provisional = not complete
    note = "Missed objectives owe their percentage of the monthly fee once per month"
    note += f", capped at {terms.cap_percent:g}% in total."
    if provisional:
        note += " Provisional: the data does not cover the whole month."
    return CreditAssessment(
        applicable=True,
        note=note,
        lines=lines,
        percent_before_cap=before_cap,
        cap_percent=terms.cap_percent,
        percent_owed=owed,
        monthly_fee=terms.monthly_fee,
        currency=terms.currency,
        amount_owed=amount,
        provisional=provisional,
    )


def _money(fee: float, percent: float) -> float:
    exact = Decimal(str(fee)) * Decimal(str(percent)) / 100
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

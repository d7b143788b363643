"""The report data of one contract and period, summed from what the engine counted.

Every number here is a sum of the samples the engine handed its observer inside
the period (see :mod:`monitor.domain.observer`), turned into a value with the
engine's own functions (``windows.ratio_value``, ``Target.met``). Over an input
that lies inside the period, each objective's value and samples equal the
engine's ``build_report`` (tested in ``tests/unit/reporting/test_report_model.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from monitor.domain.agreement import (
    AvailabilityObjective,
    ItemObjective,
    Objective,
    WindowObjective,
)
from monitor.domain.alerts import Alert
from monitor.domain.contract import ContractRuntime
from monitor.domain.windows import ratio_value
from monitor.reporting.credits import CreditAssessment, CreditTerms, assess_credits
from monitor.reporting.period import ReportPeriod
from monitor.reporting.recorder import ContractSamples, ItemOutcome

Unit = Literal["ratio", "seconds"]
ROUND = 6
TOP_QUEUES = 10
NO_QUEUE = "(no queue)"


@dataclass(slots=True)
class DailyPoint:
    day: str
    value: float | None
    samples: float


@dataclass(slots=True)
class HourCell:
    day: str
    hour: int
    value: float | None
    samples: int


@dataclass(slots=True)
class ObjectiveResult:
    id: str
    kind: str
    unit: Unit
    clause: str
    value: float | None
    target: float
    comparator: str
    met: bool | None
    margin: float | None
    samples: int
    breaches: int
    daily: list[DailyPoint] = field(default_factory=list)
    hourly: list[HourCell] = field(default_factory=list)
    calls: bool = False


@dataclass(slots=True)
class BreachRow:
    objective_id: str
    kind: str
    item_id: str
    queue: str | None
    channel: str | None
    started: float
    deadline: float | None
    finished: float | None
    late_s: float | None
    still_open: bool


@dataclass(slots=True)
class Segment:
    start: float
    end: float
    status: str


@dataclass(slots=True)
class Outage:
    start: float
    end: float
    duration_s: float
    ongoing: bool


@dataclass(slots=True)
class AvailabilityResult:
    objective_id: str
    service: str
    downtime_s: float
    open_s: float
    segments: list[Segment]
    outages: list[Outage]


@dataclass(slots=True)
class ContractReport:
    contract_id: str
    title: str
    language: str
    timezone: str
    period: ReportPeriod
    covered_from: float | None
    covered_to: float | None
    objectives: list[ObjectiveResult]
    breaches: list[BreachRow]
    top_queues: list[tuple[str, int]]
    availability: list[AvailabilityResult]
    credits: CreditAssessment

    @property
    def complete(self) -> bool:
        """The engine's accounting spans the whole period."""
        return (
            self.covered_from is not None
            and self.covered_to is not None
            and self.covered_from <= self.period.start
            and self.covered_to >= self.period.end
        )


def build_contract_report(
    runtime: ContractRuntime,
    samples: ContractSamples,
    alerts: Iterable[Alert],
    period: ReportPeriod,
    watermark: float,
    terms: CreditTerms,
) -> ContractReport:
    agreement = runtime.agreement
    breach_alerts = Counter(
        alert.objective_id
        for alert in alerts
        if alert.contract_id == agreement.contract_id
        and alert.state == "breached"
        and period.contains(alert.event_time)
    )
    objectives = [
        _objective(objective, samples, breach_alerts, period) for objective in agreement.objectives
    ]
    covered_from = max(runtime.earliest, period.start) if runtime.earliest < period.end else None
    covered_to = min(watermark, period.end) if covered_from is not None else None
    breaches = _breaches(samples, period, watermark)
    queues = Counter(row.queue or NO_QUEUE for row in breaches)
    report = ContractReport(
        contract_id=agreement.contract_id,
        title=agreement.title,
        language=agreement.labels.get("language", "en"),
        timezone=agreement.timezone,
        period=period,
        covered_from=covered_from,
        covered_to=covered_to,
        objectives=objectives,
        breaches=breaches,
        top_queues=sorted(queues.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_QUEUES],
        availability=[
            _availability(objective, samples, period, covered_from, covered_to)
            for objective in agreement.objectives
            if isinstance(objective, AvailabilityObjective)
        ],
        credits=CreditAssessment.empty(),
    )
    report.credits = assess_credits(
        agreement, {o.id: o for o in objectives}, period, terms, complete=report.complete
    )
    return report


# -- objectives -------------------------------------------------------------------


def _objective(
    objective: Objective,
    samples: ContractSamples,
    breach_alerts: Counter[str],
    period: ReportPeriod,
) -> ObjectiveResult:
    if isinstance(objective, WindowObjective):
        return _window(objective, samples.windows.get(objective.id, []), breach_alerts, period)
    if isinstance(objective, ItemObjective):
        return _item(objective, samples.items.get(objective.id, []), period)
    return _period(objective, samples.periods.get(objective.id, []), breach_alerts, period)


def _window(
    objective: WindowObjective,
    rows: Sequence[tuple[float, int, int]],
    breach_alerts: Counter[str],
    period: ReportPeriod,
) -> ObjectiveResult:
    kind = objective.kind
    num = sum(row[1] for row in rows)
    den = sum(row[2] for row in rows)
    value = ratio_value(kind, num, den)
    target = objective.target
    daily: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    hourly: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    for ts, n, d in rows:
        local = period.local(ts)
        day = daily[local.date()]
        day[0] += n
        day[1] += d
        cell = hourly[(local.date(), local.hour)]
        cell[0] += n
        cell[1] += d
    channels = objective.match.channel
    calls = kind != "satisfaction" and (channels is None or "phone" in channels)
    return ObjectiveResult(
        id=objective.id,
        kind=kind,
        unit="seconds" if target.unit == "seconds" else "ratio",
        clause=objective.clause,
        value=_round(value),
        target=target.value,
        comparator=target.comparator,
        met=None if value is None else target.met(value),
        margin=_margin(value, target.value, target.higher_is_better),
        samples=den,
        breaches=breach_alerts[objective.id],
        daily=[
            DailyPoint(day.isoformat(), _round(ratio_value(kind, *daily[day])), daily[day][1])
            if day in daily
            else DailyPoint(day.isoformat(), None, 0)
            for day in period.days()
        ],
        hourly=[
            HourCell(day.isoformat(), hour, _round(ratio_value(kind, n, d)), d)
            for (day, hour), (n, d) in sorted(hourly.items())
        ]
        if calls
        else [],
        calls=calls,
    )


def _item(
    objective: ItemObjective, outcomes: Sequence[ItemOutcome], period: ReportPeriod
) -> ObjectiveResult:
    met = sum(1 for o in outcomes if o.met)
    missed = len(outcomes) - met
    value = met / len(outcomes) if outcomes else None
    if objective.target is not None:
        target_value, comparator = objective.target.value, objective.target.comparator
        verdict = None if value is None else objective.target.met(value)
        higher = objective.target.higher_is_better
    else:
        target_value, comparator, higher = 1.0, ">=", True
        verdict = None if value is None else missed == 0
    daily: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        pair = daily[period.local(outcome.instant).date()]
        pair[0] += int(outcome.met)
        pair[1] += 1
    return ObjectiveResult(
        id=objective.id,
        kind=objective.kind,
        unit="ratio",
        clause=objective.clause,
        value=_round(value),
        target=target_value,
        comparator=comparator,
        met=verdict,
        margin=_margin(value, target_value, higher),
        samples=len(outcomes),
        breaches=missed,
        daily=[_share_point(day, daily.get(day)) for day in period.days()],
    )


def _period(
    objective: AvailabilityObjective,
    rows: Sequence[tuple[float, float, float]],
    breach_alerts: Counter[str],
    period: ReportPeriod,
) -> ObjectiveResult:
    bad = sum(row[1] for row in rows)
    total = sum(row[2] for row in rows)
    value = 1.0 - bad / total if total > 0 else None
    daily: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for minute, b, t in rows:
        pair = daily[period.local(minute).date()]
        pair[0] += b
        pair[1] += t
    target = objective.target
    return ObjectiveResult(
        id=objective.id,
        kind=objective.kind,
        unit="ratio",
        clause=objective.clause,
        value=_round(value),
        target=target.value,
        comparator=target.comparator,
        met=None if value is None else target.met(value),
        margin=_margin(value, target.value, target.higher_is_better),
        samples=int(total),
        breaches=breach_alerts[objective.id],
        daily=[
            DailyPoint(
                day.isoformat(),
                _round(1.0 - daily[day][0] / daily[day][1]) if daily[day][1] > 0 else None,
                daily[day][1],
            )
            if day in daily
            else DailyPoint(day.isoformat(), None, 0)
            for day in period.days()
        ],
    )


def _share_point(day: date, pair: list[int] | None) -> DailyPoint:
    if not pair or pair[1] == 0:
        return DailyPoint(day.isoformat(), None, 0)
    return DailyPoint(day.isoformat(), _round(pair[0] / pair[1]), pair[1])


def _margin(value: float | None, target: float, higher_is_better: bool) -> float | None:
    """How far on the good side of the target (negative: by how much it was missed)."""
    if value is None:
        return None
    return _round(value - target if higher_is_better else target - value)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, ROUND)


# -- breaches and availability ----------------------------------------------------------


def _breaches(samples: ContractSamples, period: ReportPeriod, watermark: float) -> list[BreachRow]:
    rows: list[BreachRow] = []
    for outcomes in samples.items.values():
        for outcome in outcomes:
            if outcome.met:
                continue
            deadline = outcome.deadline if outcome.deadline is not None else outcome.instant
            finished = outcome.finished
            still_open = finished is None or finished > watermark
            until = min(watermark, period.end) if still_open else finished
            rows.append(
                BreachRow(
                    objective_id=outcome.objective_id,
                    kind=outcome.kind,
                    item_id=outcome.item_id,
                    queue=outcome.queue,
                    channel=outcome.channel,
                    started=outcome.started,
                    deadline=deadline,
                    finished=None if still_open else finished,
                    late_s=None if until is None else round(max(0.0, until - deadline), 3),
                    still_open=still_open,
                )
            )
    rows.sort(key=lambda row: (row.deadline or 0.0, row.objective_id, row.item_id))
    return rows


def _availability(
    objective: AvailabilityObjective,
    samples: ContractSamples,
    period: ReportPeriod,
    covered_from: float | None,
    covered_to: float | None,
) -> AvailabilityResult:
    rows = samples.periods.get(objective.id, [])
    down_states = {"down", "degraded"} if objective.degraded_is_down else {"down"}
    end = covered_to if covered_to is not None else period.start
    status = samples.status_before.get(objective.id, "up")
    segments: list[Segment] = []
    t = covered_from if covered_from is not None else period.start
    for ts, new_status in samples.status_changes.get(objective.id, []):
        if ts >= end:
            break
        if ts > t:
            segments.append(Segment(t, ts, status))
        t, status = max(t, ts), new_status
    if end > t:
        segments.append(Segment(t, end, status))
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].status == segment.status:
            merged[-1].end = segment.end
        else:
            merged.append(segment)
    outages: list[Outage] = []
    for segment in merged:
        if segment.status not in down_states:
            continue
        if outages and outages[-1].end == segment.start:
            outages[-1].end = segment.end
            outages[-1].duration_s = outages[-1].end - outages[-1].start
            continue
        outages.append(
            Outage(segment.start, segment.end, segment.end - segment.start, ongoing=False)
        )
    if outages and merged and merged[-1].status in down_states and outages[-1].end == end:
        outages[-1].ongoing = True
    return AvailabilityResult(
        objective_id=objective.id,
        service=objective.service,
        downtime_s=sum(row[1] for row in rows),
        open_s=sum(row[2] for row in rows),
        segments=merged,
        outages=outages,
    )

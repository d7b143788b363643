"""The objective report of `slamon replay --report`: the SLI of every objective over the input."""

from __future__ import annotations

from typing import Any, Final

from monitor.domain.agreement import AvailabilityObjective, ItemObjective, WindowObjective
from monitor.domain.contract import ContractRuntime
from monitor.domain.engine import Engine


def build_report(engine: Engine) -> dict[str, Any]:
    counters = engine.counters
    return {
        "contracts": {cid: _contract(contract) for cid, contract in engine.contracts.items()},
        "events": {
            "total": counters.total,
            "invalid": 0,
            "duplicates": counters.duplicates,
            "late": counters.late,
            "too_late": counters.too_late,
            "unknown_contract": counters.unknown_contract,
        },
        **_unknown_contracts(engine),
    }


#: How many unknown contract ids the report lists (the most frequent).
LISTED_UNKNOWN_CONTRACTS: Final = 20


def _unknown_contracts(engine: Engine) -> dict[str, Any]:
    """The most frequent unknown contract ids, and how many distinct ids there were."""
    unknown = engine.unknown_contracts
    return {
        "unknown_contracts": dict(unknown.top(LISTED_UNKNOWN_CONTRACTS)),
        "unknown_contracts_distinct": unknown.distinct,
        "unknown_contracts_exact": unknown.exact,
    }


def _contract(contract: ContractRuntime) -> dict[str, Any]:
    contract.settle_periods()
    objectives: dict[str, Any] = {}
    for objective in contract.agreement.objectives:
        if isinstance(objective, WindowObjective):
            objectives[objective.id] = _window(contract, objective)
        elif isinstance(objective, ItemObjective):
            objectives[objective.id] = _item(contract, objective)
        elif isinstance(objective, AvailabilityObjective):
            objectives[objective.id] = _availability(contract, objective)
    return {"title": contract.agreement.title, "objectives": objectives}


def _window(contract: ContractRuntime, objective: WindowObjective) -> dict[str, Any]:
    tracker = contract.windows[objective.id]
    value = tracker.overall_value
    return _entry(
        objective.kind,
        value,
        objective.target.value,
        objective.target.comparator,
        None if value is None else objective.target.met(value),
        tracker.samples,
        tracker.breaches,
    )


def _item(contract: ContractRuntime, objective: ItemObjective) -> dict[str, Any]:
    met, missed = contract.item_stats[objective.id]
    samples = met + missed
    value = met / samples if samples else None
    target = objective.target
    if target is not None:
        verdict = None if value is None else target.met(value)
        entry = _entry(
            objective.kind, value, target.value, target.comparator, verdict, samples, missed
        )
    else:
        entry = _entry(
            objective.kind,
            value,
            1.0,
            ">=",
            None if value is None else missed == 0,
            samples,
            missed,
        )
    tracker = contract.compliance.get(objective.id)
    if tracker is not None:
        entry["months"] = _months(tracker)
    return entry


def _availability(contract: ContractRuntime, objective: AvailabilityObjective) -> dict[str, Any]:
    tracker = next(t for t in contract.availability[objective.service] if t.objective is objective)
    bad, total = tracker.overall
    value = 1.0 - bad / total if total > 0 else None
    entry = _entry(
        objective.kind,
        value,
        objective.target.value,
        objective.target.comparator,
        None if value is None else objective.target.met(value),
        int(total),
        tracker.breaches,
    )
    entry["downtime_s"] = bad
    entry["months"] = _months(tracker)
    return entry


def _months(tracker: Any) -> dict[str, Any]:
    return {
        key: {"value": tracker.month_value(key), "projected": tracker.projected_value(key)}
        for key in sorted(tracker.months)
    }


def _entry(
    kind: str,
    value: float | None,
    target: float,
    comparator: str,
    met: bool | None,
    samples: int,
    breaches: int,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "value": None if value is None else round(value, 6),
        "target": target,
        "comparator": comparator,
        "met": met,
        "samples": samples,
        "breaches": breaches,
    }

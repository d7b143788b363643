"""The objective report of ``slamon replay --report``: the SLI of every objective over
the input, and the event counts (its format is in the README)."""

from __future__ import annotations

from typing import Any, Final

from monitor.domain.engine import Engine


def build_report(engine: Engine) -> dict[str, Any]:
    counters = engine.counters
    return {
        "contracts": {cid: contract.report() for cid, contract in engine.contracts.items()},
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

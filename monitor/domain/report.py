"""The objective report: the SLI of every objective over the input, and the event counts.

This is the JSON that ``slamon replay --report`` writes (its format is in the README).
"""

from __future__ import annotations

from typing import Any

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
        "unknown_contracts": dict(sorted(engine.unknown_contracts.items())),
    }

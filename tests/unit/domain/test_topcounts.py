"""The bounded counter of unknown contract ids: exact while small, bounded when flooded."""

from __future__ import annotations

import json
import sys

import pytest

from monitor.domain.engine import Engine
from monitor.domain.report import LISTED_UNKNOWN_CONTRACTS, build_report
from monitor.domain.topcounts import TopCounter
from tests.support import agreement, event


def test_counts_are_exact_until_the_counter_is_full() -> None:
    counter = TopCounter(keep=3)
    for key in ["a", "b", "a", "c", "d", "a", "b", "e", "f"]:
        counter.add(key)

    assert counter.exact
    assert counter.distinct == 6
    assert counter.top(2) == [("a", 3), ("b", 2)]
    assert counter.top(10) == [("a", 3), ("b", 2), ("c", 1), ("d", 1), ("e", 1), ("f", 1)]


def test_a_flood_of_distinct_keys_keeps_memory_bounded_and_the_frequent_keys_listed() -> None:
    counter = TopCounter(keep=50)
    for n in range(100_000):
        counter.add(f"one-off-{n}")
        if n % 10 == 0:
            counter.add("frequent")
        if n % 25 == 0:
            counter.add("regular")

    assert len(counter.counts) <= 100
    assert not counter.exact
    assert counter.distinct >= 100_002
    (first, _), (second, _) = counter.top(2)
    assert (first, second) == ("frequent", "regular")
    assert dict(counter.top(2))["frequent"] == 10_000  # never dropped: always above the rest


def test_its_state_round_trips_through_json_and_reads_the_older_plain_mapping() -> None:
    counter = TopCounter(keep=2)
    for key in "abcabcdde":
        counter.add(key)

    restored = TopCounter.from_state(json.loads(json.dumps(counter.to_state())), keep=2)
    older = TopCounter.from_state({"x": 4, "y": 1})

    assert (restored.counts, restored.distinct, restored.exact) == (
        counter.counts,
        counter.distinct,
        counter.exact,
    )
    assert (older.top(5), older.distinct, older.exact) == ([("x", 4), ("y", 1)], 2, True)


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError, match="keep must be at least 1"):
        TopCounter(keep=0)


def test_the_report_lists_the_most_frequent_unknown_contracts_and_how_many_there_were() -> None:
    engine = Engine([agreement()])
    for n in range(5000):
        engine.apply(
            event("call.offered", "2026-11-20T10:00:00Z", call_id="c", contract_id=f"x{n}")
        )
    for _ in range(3):
        engine.apply(
            event("call.offered", "2026-11-20T10:00:00Z", call_id="c", contract_id="acmee")
        )

    report = build_report(engine)

    listed = report["unknown_contracts"]
    assert len(listed) == LISTED_UNKNOWN_CONTRACTS
    assert next(iter(listed.items())) == ("acmee", 3)
    assert report["events"]["unknown_contract"] == 5003
    assert report["unknown_contracts_distinct"] == 5001
    assert report["unknown_contracts_exact"] is False
    assert sys.getsizeof(engine.unknown_contracts.counts) < 200_000


def test_an_engine_snapshot_keeps_the_unknown_contract_counts() -> None:
    engine = Engine([agreement()])
    for contract_id in ["x", "y", "x"]:
        engine.apply(
            event("call.offered", "2026-11-20T10:00:00Z", call_id="c", contract_id=contract_id)
        )

    restored = Engine.restore([agreement()], json.loads(json.dumps(engine.snapshot())))

    assert build_report(restored)["unknown_contracts"] == {"x": 2, "y": 1}
    assert build_report(restored)["unknown_contracts_distinct"] == 2

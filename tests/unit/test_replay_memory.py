"""Replay's memory: the engine makes no reference cycles, so replay may pause the GC."""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain import items
from monitor.domain.agreement import Agreement
from monitor.replay import replay
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate

RULES = Path(__file__).resolve().parents[2] / "rules"
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


@contextmanager
def saved_garbage_after_setup() -> Iterator[list[object]]:
    """From here on, keep what the collector finds unreachable in ``gc.garbage``."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


BAD_LINES: list[bytes] = [
    b"{not json",
    b'{"type": "call.offered"}',
    b'{"type": "nope"}',
    b"[]",
    b"\xff\xfe",
    b'{"event_id": "x", "type": "call.offered", "ts": "2026-13-45T00:00:00Z",'
    b' "contract_id": "c", "call_id": "a"}',
    b"",
]


def simulated_day() -> tuple[list[Agreement], list[bytes]]:
    agreements, problems = load_rules([RULES])
    assert not problems
    events = simulate(agreements, start=MONDAY, duration=timedelta(days=1), seed=3)
    lines = [json.dumps(event).encode() for event in events]
    lines[10:10] = BAD_LINES
    return agreements, lines


def test_a_replay_of_a_simulated_day_leaves_no_cyclic_garbage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Items are forgotten an hour after they finish instead of a week: the day drops thousands.
    monkeypatch.setattr(items, "ITEM_RETENTION", 3600.0)
    agreements, lines = simulated_day()
    with saved_garbage_after_setup() as garbage:
        result = replay(lines, agreements)
        assert result.engine.counters.total > 10_000
        assert sum(len(c.items) for c in result.engine.contracts.values()) < 1000
        gc.collect()  # the engine itself stays alive: what is found here was dropped
        # Only objects in reference cycles end up here; each type named is a leak.
        leaked = Counter(type(thing).__qualname__ for thing in garbage)

    assert leaked == Counter()


def test_the_collector_is_paused_during_a_replay_and_restored_after_it() -> None:
    during: list[bool] = []

    def lines() -> Iterator[bytes]:
        during.append(gc.isenabled())
        yield b"{not json"

    assert gc.isenabled()
    replay(lines(), [])

    assert during == [False]
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused_and_a_failure_restores_it() -> None:
    def failing() -> Iterator[bytes]:
        yield b"{not json"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        replay(failing(), [])
    assert gc.isenabled()

    gc.disable()
    try:
        replay(iter([b"{not json"]), [])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_state_a_replay_built_goes_straight_to_the_oldest_generation() -> None:
    agreements, lines = simulated_day()

    result = replay(lines[:5000], agreements)

    # not walked by a pass over the young generations first, only to be found alive
    assert any(thing is result.engine for thing in gc.get_objects(generation=2))


def test_objects_the_process_froze_stay_frozen_after_a_replay() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        replay(iter([b"{not json"]), [])
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()

"""The engine's state per key: what a checkpoint of the live path writes and reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain.agreement import BusinessTime, ItemObjective, Target, WindowObjective
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import ENGINE_KEY, Engine
from monitor.domain.errors import StateError
from tests.support import agreement, event

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
AGREEMENT = agreement(
    WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 900),
    ItemObjective("fr", "first_response", BusinessTime(86400), BusinessCalendar.always_open("UTC")),
)


def _iso(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _tickets(engine: Engine, first: int, count: int, at: float) -> None:
    for n in range(first, first + count):
        engine.apply(event("ticket.created", _iso(at), ticket_id=f"T{n}", channel="email"))


def test_a_checkpoint_after_a_few_events_holds_only_their_keys() -> None:
    engine = Engine([AGREEMENT], lateness=0.0, track_changes=True)
    _tickets(engine, 0, 2000, 0.0)
    assert len(engine.changed_keys()) == 2000 + 3  # items, contract, one minute of ids, engine
    engine.clear_changed_keys()
    for n in range(100):
        engine.apply(event("ticket.agent_reply", _iso(1.0), ticket_id=f"T{n}", public=True))
    keys = engine.changed_keys()
    assert {f"i/acme/ticket:T{n}" for n in range(100)} <= keys
    assert len(keys) == 100 + 3
    assert len(engine.all_keys()) == 2000 + 3


def test_a_forgotten_item_becomes_a_tombstone() -> None:
    engine = Engine([AGREEMENT], lateness=0.0, track_changes=True)
    engine.apply(event("ticket.created", _iso(0), ticket_id="T1", channel="email"))
    engine.apply(event("ticket.status_changed", _iso(10), ticket_id="T1", status="closed"))
    engine.clear_changed_keys()
    engine.advance(START.timestamp() + 9 * 86400)  # past the items' retention
    keys = engine.changed_keys()
    assert "i/acme/ticket:T1" in keys
    records = engine.state_records(keys)
    assert records["i/acme/ticket:T1"] is None
    assert records[ENGINE_KEY] is not None


def test_records_round_trip_to_an_equal_snapshot() -> None:
    engine = Engine([AGREEMENT], lateness=0.0, track_changes=True)
    _tickets(engine, 0, 50, 0.0)
    engine.apply(event("call.offered", _iso(5), call_id="c1"))
    records = json.loads(json.dumps(engine.state_records(engine.all_keys())))
    copy = Engine.from_records([AGREEMENT], records.items())
    assert (
        copy.snapshot()["contracts"]["acme"]["items"]
        == engine.snapshot()["contracts"]["acme"]["items"]
    )
    assert copy.snapshot()["seen_minutes"] == engine.snapshot()["seen_minutes"]
    assert copy.watermark == engine.watermark


def test_no_engine_record_gives_a_fresh_engine() -> None:
    engine = Engine.from_records([AGREEMENT], [])
    assert engine.all_keys() == {ENGINE_KEY, "c/acme"}
    assert engine.counters.total == 0


def test_a_record_of_an_unknown_kind_is_a_clear_error() -> None:
    engine = Engine([AGREEMENT], track_changes=True)
    records = engine.state_records(engine.all_keys())
    with pytest.raises(StateError, match="unknown state record kind"):
        Engine.from_records([AGREEMENT], [*records.items(), ("x/1", {"kind": "mystery"})])
    # a key the engine holds no state for (another version's, say) is a tombstone
    assert engine.state_records(["x/1", "d/x", "c/other", "i/acme/ticket:none"]) == {
        "x/1": None,
        "d/x": None,
        "c/other": None,
        "i/acme/ticket:none": None,
    }


def test_an_engine_without_change_tracking_refuses_to_list_changes() -> None:
    with pytest.raises(StateError, match="track_changes"):
        Engine([AGREEMENT]).changed_keys()


def test_a_snapshot_with_event_ids_by_hour_still_deduplicates() -> None:
    engine = Engine([AGREEMENT], lateness=0.0)
    created = event("ticket.created", _iso(0), ticket_id="T1", channel="email")
    engine.apply(created)
    snapshot = engine.snapshot()
    minutes = snapshot.pop("seen_minutes")
    snapshot["seen"] = [[minute // 60, ids] for minute, ids in minutes]  # the earlier form
    again = Engine.restore([AGREEMENT], snapshot)
    assert again.apply(created).outcome == "duplicate"

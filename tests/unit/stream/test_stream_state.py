"""Checkpoints per state key: what a checkpoint writes and what a restore keeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from monitor.domain.agreement import BusinessTime, ItemObjective, Target, WindowObjective
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import ENGINE_KEY
from monitor.stream.state import ChangelogReader, ChangelogRecord, PartitionState, legacy_key
from tests.support import agreement, event

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
AGREEMENTS = [
    agreement(
        WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 900),
        ItemObjective(
            "fr", "first_response", BusinessTime(86400), BusinessCalendar.always_open("UTC")
        ),
    )
]
PARTITION = 3


def _iso(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _state() -> PartitionState:
    return PartitionState.fresh(PARTITION, AGREEMENTS, lateness=0.0)


def _open(state: PartitionState, first: int, count: int) -> None:
    for n in range(first, first + count):
        state.engine.apply(
            event("ticket.created", _iso(n / 1000), ticket_id=f"T{n}", channel="email")
        )
    state.source("slamon.tickets").next_offset = first + count


def _reply(state: PartitionState, tickets: range, at: float) -> None:
    for n in tickets:
        state.engine.apply(event("ticket.agent_reply", _iso(at), ticket_id=f"T{n}", public=True))


def _comparable(state: PartitionState) -> str:
    """The engine's state without its due heap (a restore rebuilds it without stale
    entries; the items' own due instants are compared)."""
    snapshot = state.engine.snapshot()
    for contract in snapshot["contracts"].values():
        del contract["due"]
    return json.dumps(snapshot, sort_keys=True)


def _read(*checkpoints: list[ChangelogRecord]) -> ChangelogReader:
    reader = ChangelogReader(PARTITION)
    for records in checkpoints:
        for record in records:
            reader.add(record.key, record.value, record.seq)
    return reader


def _restore(reader: ChangelogReader) -> PartitionState:
    state = reader.state(AGREEMENTS, lateness=0.0)
    assert state is not None
    return state


def test_a_checkpoint_writes_only_what_changed_then_its_offsets() -> None:
    state = _state()
    _open(state, 0, 20_000)
    first = state.checkpoint_records()
    assert len(first) == 20_000 + 4  # items, contract, one dedup hour, engine, offsets
    _reply(state, range(100), 300.0)
    second = state.checkpoint_records()
    assert len(second) == 100 + 4
    assert second[-1].key == b"p3/offsets"
    assert {r.seq for r in second} == {2}
    assert all(r.key.startswith(b"p3/") for r in second)


def test_a_restore_equals_the_engine_it_was_written_from() -> None:
    state = _state()
    _open(state, 0, 50)
    first = state.checkpoint_records()
    _reply(state, range(10), 200.0)
    _open(state, 50, 5)
    second = state.checkpoint_records()
    restored = _restore(_read(first, second))
    assert _comparable(restored) == _comparable(state)
    assert restored.offsets() == {"slamon.tickets": 55}
    assert restored.seq == 2
    assert restored.restored
    assert restored.rewrite == set()


def test_a_tombstone_removes_a_forgotten_item() -> None:
    state = _state()
    state.engine.apply(event("ticket.created", _iso(0), ticket_id="gone", channel="email"))
    state.engine.apply(event("ticket.status_changed", _iso(1), ticket_id="gone", status="closed"))
    first = state.checkpoint_records()
    state.engine.advance(START.timestamp() + 9 * 86400)  # past the items' retention
    second = state.checkpoint_records()
    tombstones = [r.key for r in second if r.value is None]
    assert b"p3/i/acme/ticket:gone" in tombstones
    restored = _restore(_read(first, second))
    assert restored.engine.contracts["acme"].items.items == {}


def test_a_checkpoint_whose_offsets_record_never_landed_is_ignored() -> None:
    state = _state()
    _open(state, 0, 10)
    first = state.checkpoint_records()
    before = _comparable(state)
    _reply(state, range(5), 100.0)
    _open(state, 10, 3)
    second = state.checkpoint_records()
    assert second[-1].key == b"p3/offsets"
    reader = _read(first, second[:-1])  # the worker died before the offsets record
    restored = _restore(reader)
    assert _comparable(restored) == before
    assert restored.offsets() == {"slamon.tickets": 10}
    # the new owner numbers after the orphans and overrides them at once
    assert restored.seq == 2
    orphans = {r.key.decode().removeprefix("p3/") for r in second[:-1]}
    assert restored.rewrite == orphans
    third = restored.checkpoint_records()
    assert {r.seq for r in third} == {3}
    written = {r.key.decode().removeprefix("p3/"): r.value for r in third}
    assert orphans <= written.keys()
    assert written["i/acme/ticket:T11"] is None  # created only in the lost checkpoint
    again = _restore(_read(first, second[:-1], third))
    assert _comparable(again) == before


def test_other_partitions_records_are_not_read() -> None:
    state = _state()
    _open(state, 0, 3)
    reader = _read(state.checkpoint_records())
    reader.add(b"p31/offsets", b"{}", 9)
    reader.add(b"p4/i/acme/ticket:X", b"{}", 1)
    assert reader.max_seq == 1
    assert _restore(reader).offsets() == {"slamon.tickets": 3}


def test_a_changelog_without_a_finished_checkpoint_gives_no_state() -> None:
    state = _state()
    _open(state, 0, 3)
    reader = _read(state.checkpoint_records()[:-1])
    assert reader.state(AGREEMENTS, lateness=0.0) is None
    fresh = reader.follow(_state())
    assert fresh.seq == 1
    assert "i/acme/ticket:T0" in fresh.rewrite  # its first checkpoint tombstones them


def test_a_whole_state_checkpoint_from_before_is_read_and_rewritten_per_key() -> None:
    state = _state()
    _open(state, 0, 4)
    reader = ChangelogReader(PARTITION)
    reader.add(legacy_key(PARTITION), state.encode(), 0)
    restored = _restore(reader)
    assert restored.offsets() == {"slamon.tickets": 4}
    records = restored.checkpoint_records()
    assert len(records) == 4 + 4
    assert ENGINE_KEY in {r.key.decode().removeprefix("p3/") for r in records}


def test_a_failed_write_is_written_again_next_time() -> None:
    state = _state()
    _open(state, 0, 5)
    lost = state.checkpoint_records()
    state.checkpoint_failed(lost)
    again = state.checkpoint_records()
    assert {r.key for r in again} == {r.key for r in lost}

"""Per-partition state: one engine, the source offsets it has applied, and the checkpoint.

A checkpoint writes, to partition N of the changelog topic, one record per engine
state key changed since the last checkpoint (key ``p<N>/<state key>``, a JSON
value, or no value for a tombstone), then one offsets record (``p<N>/offsets``:
for every source topic the next offset to read, and the checkpoint's sequence
number). Every record carries that sequence in its ``slamon-seq`` header. On
assignment the worker reads the partition's records, keeps the latest per key
among those of checkpoints whose offsets record landed (:class:`ChangelogReader`),
rebuilds the engine from them and resumes each source from exactly those offsets
(docs/kafka.md), whatever the committed group offsets say. Events after the
offsets are applied again; the engine is idempotent (event_id dedup,
deterministic alerts).

``encode``/``decode`` keep the earlier whole-state codec: one blob under key
``p<N>``. A changelog holding only such a blob (written before state per key) is
still read, and the next checkpoint then rewrites every key.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from monitor.domain.agreement import Agreement
from monitor.domain.engine import Engine
from monitor.domain.errors import StateError

__all__ = [
    "CHECKPOINT_VERSION",
    "SEQ_HEADER",
    "ChangelogReader",
    "ChangelogRecord",
    "PartitionState",
    "SourceProgress",
]

CHECKPOINT_VERSION: Final = 1
OFFSETS_VERSION: Final = 2
SEQ_HEADER: Final = "slamon-seq"
OFFSETS_KEY: Final = "offsets"


class ChangelogRecord(NamedTuple):
    """One changelog record of a partition: ``value`` None is a tombstone."""

    key: bytes
    value: bytes | None
    seq: int


def record_prefix(partition: int) -> str:
    return f"p{partition}/"


def legacy_key(partition: int) -> bytes:
    """The key of the whole-state checkpoint written before state per key."""
    return f"p{partition}".encode()


@dataclass(slots=True)
class SourceProgress:
    """How far one source topic-partition has been read and applied."""

    next_offset: int | None = None
    max_event_time: float = -math.inf
    last_message_at: float = -math.inf


@dataclass(slots=True)
class PartitionState:
    """The engine of one partition and its read position in every source topic."""

    partition: int
    engine: Engine
    sources: dict[str, SourceProgress] = field(default_factory=dict)
    events_since_checkpoint: int = 0
    last_checkpoint_at: float = -math.inf
    restored: bool = False
    #: every source caught up and idle at the last advance (see ``Processor._wake``)
    quiet: bool = False
    #: an event near the wall clock was seen: idle, the watermark may follow the clock
    live: bool = False
    #: this run's applied and too-late events (the backfill warning), warned once
    applied: int = 0
    too_late: int = 0
    backfill_warned: bool = False
    #: the sequence number of the last checkpoint written or read
    seq: int = 0
    #: state keys the next checkpoint writes even if unchanged (records of a checkpoint
    #: whose offsets record never landed, or every key after a whole-state restore)
    rewrite: set[str] = field(default_factory=set)

    @classmethod
    def fresh(
        cls, partition: int, agreements: Sequence[Agreement], *, lateness: float
    ) -> PartitionState:
        engine = Engine(agreements, lateness=lateness, auto_advance=False, track_changes=True)
        return cls(partition, engine)

    def source(self, topic: str) -> SourceProgress:
        progress = self.sources.get(topic)
        if progress is None:
            progress = self.sources[topic] = SourceProgress()
        return progress

    def offsets(self) -> dict[str, int]:
        return {t: p.next_offset for t, p in self.sources.items() if p.next_offset is not None}

    # -- checkpoint per key ---------------------------------------------------------

    def checkpoint_records(self) -> list[ChangelogRecord]:
        """The next checkpoint: the changed keys' records, then the offsets record.

        The changed keys are cleared; a caller whose write fails calls
        :meth:`checkpoint_failed` so the next checkpoint writes them again.
        """
        with _collector_paused():
            return self._checkpoint_records()

    def _checkpoint_records(self) -> list[ChangelogRecord]:
        engine = self.engine
        keys = engine.changed_keys() | self.rewrite
        engine.clear_changed_keys()
        self.rewrite = set()
        self.seq += 1
        prefix = record_prefix(self.partition)
        records = [
            ChangelogRecord(
                (prefix + key).encode(),
                None if value is None else _dump(value),
                self.seq,
            )
            for key, value in sorted(engine.state_records(keys).items())
        ]
        offsets = {
            "version": OFFSETS_VERSION,
            "seq": self.seq,
            "partition": self.partition,
            "offsets": self.offsets(),
            "live": self.live,
        }
        records.append(ChangelogRecord((prefix + OFFSETS_KEY).encode(), _dump(offsets), self.seq))
        return records

    def checkpoint_failed(self, records: Iterable[ChangelogRecord]) -> None:
        """The records may not have landed: the next checkpoint writes their keys again."""
        prefix = record_prefix(self.partition)
        for record in records:
            key = record.key.decode()[len(prefix) :]
            if key != OFFSETS_KEY:
                self.rewrite.add(key)

    # -- checkpoint codec ---------------------------------------------------------

    def encode(self) -> bytes:
        """The checkpoint as compressed JSON (one table value, one changelog record)."""
        body = {
            "version": CHECKPOINT_VERSION,
            "partition": self.partition,
            "offsets": self.offsets(),
            "live": self.live,
            "engine": self.engine.snapshot(),
        }
        return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6)

    @classmethod
    def decode(
        cls, blob: bytes, agreements: Sequence[Agreement], *, lateness: float
    ) -> PartitionState:
        body = _load(blob)
        try:
            engine = Engine.restore(
                agreements,
                body["engine"],
                lateness=lateness,
                auto_advance=False,
                track_changes=True,
            )
            state = cls(int(body["partition"]), engine, restored=True)
            state.live = bool(body.get("live", False))
            for topic, offset in body["offsets"].items():
                state.source(str(topic)).next_offset = int(offset)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"checkpoint is corrupt: {exc!r}") from exc
        return state


class ChangelogReader:
    """The latest record per key of one changelog partition, read in log order.

    Data records count only once an offsets record with a sequence at least theirs
    follows them: the records after the last offsets record belong to a checkpoint
    that never finished and are ignored (:attr:`orphans`). A new owner numbers its
    checkpoints after every sequence seen here and rewrites the orphans' keys in
    its first one, so an orphan can never become valid later.
    """

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self._prefix = record_prefix(partition).encode()
        self._legacy = legacy_key(partition)
        self.records: dict[str, bytes | None] = {}
        self._pending: dict[str, tuple[int, bytes | None]] = {}
        self._skipped: set[str] = set()  # numbered past the offsets record that followed
        self.offsets: dict[str, Any] | None = None
        self.legacy: bytes | None = None
        self.max_seq = 0

    def add(self, key: bytes | None, value: bytes | None, seq: int) -> None:
        """One record, in log order (``seq`` 0 where it has no sequence header)."""
        if key is None:
            return
        if key == self._legacy:
            if value is not None:
                self.legacy = value
            return
        if not key.startswith(self._prefix):
            return  # another partition's record (the changelog is co-partitioned)
        name = key[len(self._prefix) :].decode("utf-8", "replace")
        self.max_seq = max(self.max_seq, seq)
        if name != OFFSETS_KEY:
            self._pending[name] = (seq, value)
            return
        if value is None:
            return
        offsets = _offsets(value)
        for pending, (record_seq, record_value) in self._pending.items():
            if record_seq <= offsets["seq"]:
                self.records[pending] = record_value
            else:
                self._skipped.add(pending)
        self._pending.clear()
        self.offsets = offsets

    def follow(self, state: PartitionState) -> PartitionState:
        """Number ``state``'s checkpoints after every one seen here and have its first
        checkpoint rewrite the keys it must override: the orphans, or every key read
        when ``state`` does not come from these records (a fresh start)."""
        state.seq = max(state.seq, self.max_seq)
        state.rewrite |= self.orphans
        if not state.restored or self.offsets is None:
            state.rewrite |= self.records.keys()
        return state

    @property
    def orphans(self) -> set[str]:
        """Keys written after the last offsets record: a checkpoint that never finished."""
        return set(self._pending) | self._skipped

    def state(self, agreements: Sequence[Agreement], *, lateness: float) -> PartitionState | None:
        """The partition's state as of its last complete checkpoint; None if it has none."""
        with _collector_paused():
            return self._state(agreements, lateness=lateness)

    def _state(self, agreements: Sequence[Agreement], *, lateness: float) -> PartitionState | None:
        if self.offsets is None:
            if self.legacy is None:
                return None
            state = PartitionState.decode(self.legacy, agreements, lateness=lateness)
            state.rewrite = state.engine.all_keys()  # move the blob to records at once
            return self.follow(state)
        try:
            engine = Engine.from_records(
                agreements,
                (
                    (key, None if value is None else json.loads(value))
                    for key, value in self.records.items()
                ),
                lateness=lateness,
                auto_advance=False,
                track_changes=True,
            )
            state = PartitionState(self.partition, engine, restored=True)
            state.live = bool(self.offsets.get("live", False))
            for topic, offset in self.offsets["offsets"].items():
                state.source(str(topic)).next_offset = int(offset)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"checkpoint is corrupt: {exc!r}") from exc
        return self.follow(state)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of new objects that all live on: without this the cyclic collector
    scans the growing heap again and again (most of a large restore's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _offsets(value: bytes) -> dict[str, Any]:
    try:
        body = json.loads(value)
    except ValueError as exc:
        raise StateError(f"offsets record is not JSON: {exc}") from exc
    if (
        not isinstance(body, dict)
        or body.get("version") != OFFSETS_VERSION
        or not isinstance(body.get("seq"), int)
        or not isinstance(body.get("offsets"), dict)
    ):
        raise StateError("offsets record version is not supported")
    return body


def _load(blob: bytes) -> dict[str, Any]:
    try:
        body = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError) as exc:
        raise StateError(f"checkpoint is not compressed JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("version") != CHECKPOINT_VERSION:
        raise StateError("checkpoint version is not supported")
    return body

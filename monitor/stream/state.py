"""Per-partition state: one engine, the source offsets it has applied, and the checkpoint.

A checkpoint is the engine snapshot together with, for every source topic of the
partition, the next offset to read. Both are written in one table value, so they
always agree: on assignment the worker restores the engine and resumes each
source from exactly that offset (docs/design.md), whatever Faust's committed
offsets or the changelog's reported end say. Events after the offset are applied
again; the engine is idempotent (event_id dedup, deterministic alerts).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from monitor.domain.agreement import Agreement
from monitor.domain.engine import Engine
from monitor.domain.errors import StateError

__all__ = ["CHECKPOINT_VERSION", "PartitionState", "SourceProgress"]

CHECKPOINT_VERSION: Final = 1


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

    @classmethod
    def fresh(
        cls, partition: int, agreements: Sequence[Agreement], *, lateness: float
    ) -> PartitionState:
        return cls(partition, Engine(agreements, lateness=lateness, auto_advance=False))

    def source(self, topic: str) -> SourceProgress:
        progress = self.sources.get(topic)
        if progress is None:
            progress = self.sources[topic] = SourceProgress()
        return progress

    def offsets(self) -> dict[str, int]:
        return {t: p.next_offset for t, p in self.sources.items() if p.next_offset is not None}

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
                agreements, body["engine"], lateness=lateness, auto_advance=False
            )
            state = cls(int(body["partition"]), engine, restored=True)
            state.live = bool(body.get("live", False))
            for topic, offset in body["offsets"].items():
                state.source(str(topic)).next_offset = int(offset)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"checkpoint is corrupt: {exc!r}") from exc
        return state


def _load(blob: bytes) -> dict[str, Any]:
    try:
        body = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError) as exc:
        raise StateError(f"checkpoint is not compressed JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("version") != CHECKPOINT_VERSION:
        raise StateError("checkpoint version is not supported")
    return body

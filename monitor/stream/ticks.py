"""Event time in the stream: the held watermark and the tick messages that move it.

Each partition reads several source topics (the five event topics and the
re-keying topic) at different speeds, so its watermark is the slowest *active*
source's highest event time minus the allowed lateness. A source is active while
it lags (read position behind its end offset, or either unknown) or has had a
message within ``idle_s``: a backlog therefore holds event time, and with it
every item deadline, until the backlog is read (DESIGN.md §7). When every source
is caught up and idle, the watermark is the partition's highest event time minus
lateness, or — with ``follow_wall_clock`` — the wall clock minus lateness, so a
deadline fires at its time even when no event ever arrives.

Ticks are tiny messages a timer on every worker sends, one per owned partition,
into the ticks topic (co-partitioned with the events); the stateful agent
re-evaluates the watermark when one arrives. Tables may only be written inside
stream iteration, so ticks are also when time-based checkpoints happen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Final

from monitor.stream.state import SourceProgress

__all__ = ["TICK_VALUE_VERSION", "encode_tick", "held_watermark", "is_active"]

TICK_VALUE_VERSION: Final = 1


def is_active(progress: SourceProgress, end_offset: int | None, now: float, idle_s: float) -> bool:
    """True while this source can still deliver events older than what was seen."""
    if end_offset is None or progress.next_offset is None or progress.next_offset < end_offset:
        return True
    return now - progress.last_message_at < idle_s


def held_watermark(
    sources: Iterable[tuple[SourceProgress, int | None]],
    *,
    now: float,
    lateness: float,
    idle_s: float,
    follow_wall_clock: bool,
    max_event_time: float,
) -> float:
    """The watermark a partition may advance to now (``-inf``: not yet anywhere)."""
    active = [p.max_event_time for p, end in sources if is_active(p, end, now, idle_s)]
    if active:
        return min(active) - lateness
    quiet = max_event_time - lateness
    if follow_wall_clock:
        return max(quiet, now - lateness) if math.isfinite(quiet) else now - lateness
    return quiet


def encode_tick(partition: int, now: float) -> bytes:
    return json.dumps({"v": TICK_VALUE_VERSION, "partition": partition, "sent": now}).encode()

"""Event time in the stream: the held watermark of a partition read from several topics.

Each partition reads several source topics (the five event topics and the
re-keying topic) at different speeds, so its watermark is the slowest *active*
source's highest event time minus the allowed lateness. A source is active while
it lags (read position behind its end offset, or either unknown) or has had a
message within ``idle_s``: a backlog therefore holds event time, and with it
every item deadline, until the backlog is read (docs/design.md). When every source
is caught up and idle, the watermark is the partition's highest event time minus
lateness, or — with ``follow_wall_clock`` — the wall clock minus lateness, so a
deadline fires at its time even when no event ever arrives.

The engine service re-evaluates every owned partition's watermark after each
batch and, for partitions without records, on a wall-clock timer
(``tick_interval_s``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from monitor.stream.state import SourceProgress

__all__ = ["held_watermark", "is_active"]


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

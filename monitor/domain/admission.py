"""Which event times the engine accepts at all: a bound on how far ahead an event may be.

One event dated years ahead would drag the watermark there and make every later
event "too late". An event more than ``max_future_s`` ahead of the reference
instant (the wall clock, passed in by the adapter: the domain never reads it) is
rejected with :data:`TIME_OUT_OF_RANGE` before it reaches the engine. Instants
that could break the engine's arithmetic whatever the clock (before 1970, after
year 8999) are already rejected by the parser (``invalid_value``).

An event that raises while the engine applies it is not admitted either: the
adapter counts or dead-letters it with :data:`ENGINE_ERROR` and goes on.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_FUTURE_S", "ENGINE_ERROR", "TIME_OUT_OF_RANGE", "time_out_of_range"]

#: Reason code (dead letter, report, metrics) of an event time outside the accepted range.
TIME_OUT_OF_RANGE: Final = "time_out_of_range"
#: Reason code of an event whose application raised: counted, dead-lettered, never lost.
ENGINE_ERROR: Final = "engine_error"
#: Default bound: clock skew and time-zone mistakes of up to a day are still accepted.
DEFAULT_MAX_FUTURE_S: Final = 86400.0


def time_out_of_range(ts: float, now: float, max_future_s: float) -> str | None:
    """A message naming the problem when ``ts`` is too far ahead of ``now``, else None."""
    if ts - now > max_future_s:
        return f"ts: more than {max_future_s:g} s ahead of the clock ({ts - now:.0f} s)"
    return None

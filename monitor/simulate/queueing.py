"""An exact discrete-event simulation of one FIFO queue with impatient customers.

The model is M(t)/G/c(t)+G: arrivals from any time-ordered iterator, service times
and patience from samplers, and a number of servers that changes at given
instants. When servers leave, those busy finish their current contact (no
preemption). Happenings come out in time order, so callers can render them to
events directly.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple


class Offered(NamedTuple):
    t: float
    n: int


class Answered(NamedTuple):
    t: float
    n: int
    arrived: float
    service: float


class Abandoned(NamedTuple):
    t: float
    n: int
    arrived: float


Happening = Offered | Answered | Abandoned

_ARRIVE, _ABANDON, _DONE, _STAFF = range(4)


def run_queue(
    arrivals: Iterable[float],
    staffing: Iterable[tuple[float, int]],
    *,
    service: Callable[[], float],
    patience: Callable[[], float],
    until: float,
) -> Iterator[Happening]:
    """Simulate the queue up to ``until`` (exclusive); contact ``n`` is the n-th arrival."""
    heap: list[tuple[float, int, int, int]] = []
    order = itertools.count()
    push, pop = heapq.heappush, heapq.heappop
    for t, servers in staffing:
        push(heap, (t, next(order), _STAFF, servers))
    upcoming = iter(arrivals)
    first = next(upcoming, None)
    if first is not None:
        push(heap, (first, next(order), _ARRIVE, 0))

    line: deque[int] = deque()
    waiting: dict[int, float] = {}
    servers = busy = 0
    while heap:
        t, _, kind, value = pop(heap)
        if t >= until:
            return
        if kind == _ARRIVE:
            yield Offered(t, value)
            waiting[value] = t
            line.append(value)
            limit = patience()
            if limit != math.inf:
                push(heap, (t + limit, next(order), _ABANDON, value))
            following = next(upcoming, None)
            if following is not None:
                push(heap, (following, next(order), _ARRIVE, value + 1))
        elif kind == _ABANDON:
            arrived = waiting.pop(value, None)
            if arrived is not None:
                yield Abandoned(t, value, arrived)
            continue
        elif kind == _DONE:
            busy -= 1
        else:
            servers = value
        while busy < servers and line:
            n = line.popleft()
            arrived = waiting.pop(n, None)
            if arrived is None:
                continue
            duration = service()
            busy += 1
            push(heap, (t + duration, next(order), _DONE, n))
            yield Answered(t, n, arrived, duration)

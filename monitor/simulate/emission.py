"""What every traffic source yields, and the small helpers they share.

A source is an iterator of :data:`Emission` ``(epoch, type, body)`` in
non-decreasing time; ``simulate`` merges the sources and stamps event ids and
timestamps. Times are rounded to milliseconds on output, so durations put in a
body (``wait_s``, ``handle_s``) are computed from the rounded instants and agree
exactly with the timestamps.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from random import Random
from typing import Any

from monitor.simulate.profile import Surveys

Body = dict[str, Any]
Emission = tuple[float, str, Body]


def millis(t: float) -> int:
    return round(t * 1000.0)


def seconds_between(earlier: float, later: float) -> float:
    """``later - earlier`` as the rounded timestamps will show it."""
    return (millis(later) - millis(earlier)) / 1000.0


class FollowUps:
    """Emissions scheduled for later, released in time order as the clock passes them."""

    __slots__ = ("_heap", "_order")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, Body]] = []
        self._order = itertools.count()

    def add(self, t: float, kind: str, body: Body) -> None:
        heapq.heappush(self._heap, (t, next(self._order), kind, body))

    def next_at(self) -> float:
        """When the earliest follow-up is due (infinity if none)."""
        return self._heap[0][0] if self._heap else math.inf

    def due(self, now: float) -> Iterator[Emission]:
        """Release everything scheduled at or before ``now``."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            t, _, kind, body = heapq.heappop(heap)
            yield t, kind, body

    def before(self, until: float) -> Iterator[Emission]:
        """Release everything scheduled strictly before ``until``; drop the rest."""
        heap = self._heap
        while heap and heap[0][0] < until:
            t, _, kind, body = heapq.heappop(heap)
            yield t, kind, body
        heap.clear()


def survey_body(
    rng: Random, surveys: Surveys, about: Body, id_field: str, channel: str, unhappy: bool
) -> Body:
    """A ``survey.response`` body scoring the contact whose body is ``about``."""
    weights = surveys.unhappy_weights if unhappy else surveys.weights
    return {
        "contract_id": about["contract_id"],
        "queue": about["queue"],
        "score": rng.choices((1, 2, 3, 4, 5), weights)[0],
        "scale_max": 5,
        "ref": about[id_field],
        "attributes": {"channel": channel},
    }

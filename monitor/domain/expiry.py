"""Which items are old enough to forget, without scanning every item each hour.

An item (its log of events and emitted effects) is forgotten once nothing is due
for it, it is finished (solved, closed, ended) and its latest event is older than
the retention. :class:`ItemExpiry` keeps a heap of ``(latest event time, key)``;
at cleanup only items whose latest event fell behind the retention are looked at,
and those not yet forgettable (still open, or something due) wait in a small
``parked`` set that is checked again at each cleanup. The result is the same as
testing every item at every cleanup.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Item = dict[str, Any]


class ItemExpiry:
    __slots__ = ("_heap", "_parked")

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._parked: set[str] = set()

    def touched(self, key: str, latest: float) -> None:
        """The item's latest event time became ``latest`` (a new item, or a later event)."""
        heapq.heappush(self._heap, (latest, key))

    def rebuild(self, items: dict[str, Item]) -> None:
        self._heap = [(item["log"][-1][0], key) for key, item in items.items() if item["log"]]
        heapq.heapify(self._heap)
        self._parked.clear()

    def expired(
        self, items: dict[str, Item], retention: float, forgettable: Callable[[Item], bool]
    ) -> list[str]:
        """Keys of the items to forget now; the caller deletes them."""
        heap, parked = self._heap, self._parked
        while heap and heap[0][0] < retention:
            latest, key = heapq.heappop(heap)
            item = items.get(key)
            if item is not None and item["log"] and item["log"][-1][0] == latest:
                parked.add(key)
        expired: list[str] = []
        for key in list(parked):
            item = items.get(key)
            if item is None or not item["log"] or item["log"][-1][0] >= retention:
                parked.discard(key)  # gone, or a later event holds it (and its heap entry)
            elif item["due"] is None and forgettable(item):
                parked.discard(key)
                expired.append(key)
        return expired

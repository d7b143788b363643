"""Which items are old enough to forget, without scanning every item each hour.

An item (its log of events and emitted effects) is forgotten once nothing is due
for it, it is finished (solved, closed, ended) and its latest event is older than
the retention. :class:`ItemExpiry` keeps a heap of ``(event time, key)``, one entry
per item, pushed when the item is added: the time is no later than the item's latest
event, so at cleanup only items whose entry fell behind the retention are looked at.
An item that had later events goes back on the heap with its latest event time;
the others, not yet forgettable (still open, or something due), wait in a small
``parked`` set that is checked again at each cleanup. Events of an item cost
nothing here. The result is the same as testing every item at every cleanup.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar


class Logged(Protocol):
    """An item as expiry sees it: a log whose entries start with their event time."""

    @property
    def log(self) -> Sequence[Sequence[Any]]: ...

    @property
    def due(self) -> float | None: ...


Item = TypeVar("Item", bound=Logged)


class ItemExpiry:
    __slots__ = ("_heap", "_parked")

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._parked: set[str] = set()

    def added(self, key: str, first: float) -> None:
        """A new item whose first event arrived at ``first``."""
        heapq.heappush(self._heap, (first, key))

    def rebuild(self, items: Mapping[str, Logged]) -> None:
        self._heap = [(item.log[-1][0], key) for key, item in items.items() if item.log]
        heapq.heapify(self._heap)
        self._parked.clear()

    def expired(
        self, items: Mapping[str, Item], retention: float, forgettable: Callable[[Item], bool]
    ) -> list[str]:
        """Keys of the items to forget now; the caller deletes them."""
        heap, parked = self._heap, self._parked
        while heap and heap[0][0] < retention:
            _seen, key = heapq.heappop(heap)
            item = items.get(key)
            if item is None or not item.log:
                continue
            latest = item.log[-1][0]
            if latest >= retention:
                heapq.heappush(heap, (latest, key))  # a later event holds it
            else:
                parked.add(key)
        expired: list[str] = []
        for key in list(parked):
            item = items.get(key)
            if item is None or not item.log:
                parked.discard(key)
            elif item.log[-1][0] >= retention:
                parked.discard(key)  # a later event holds it: back on the heap
                heapq.heappush(heap, (item.log[-1][0], key))
            elif item.due is None and forgettable(item):
                parked.discard(key)
                expired.append(key)
        return expired

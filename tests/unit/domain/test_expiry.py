"""Item expiry: the heap gives the same items to forget as testing every item each time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.expiry import ItemExpiry


@dataclass
class Item:
    log: list[list[float]] = field(default_factory=list)
    due: float | None = None
    finished: bool = False


# One step of a run: ("event", key, delay) adds an event `delay` after the latest one
# (a new item if the key is unknown), ("due", key, flag) sets or clears something due,
# ("finish", key, flag) finishes or reopens, ("cleanup", _, advance) moves the retention.
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.integers(0, 5), st.floats(0, 50)),
        st.tuples(st.just("due"), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("finish"), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("cleanup"), st.just(0), st.floats(0, 80)),
    ),
    max_size=60,
)


def _forgettable(item: Item) -> bool:
    return item.finished


def _every_item(items: dict[str, Item], retention: float) -> list[str]:
    return sorted(
        key
        for key, item in items.items()
        if item.log[-1][0] < retention and item.due is None and _forgettable(item)
    )


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_expiry_forgets_what_testing_every_item_would(steps: list[tuple[str, int, Any]]) -> None:
    items: dict[str, Item] = {}
    expiry = ItemExpiry()
    now = retention = 0.0
    for action, number, value in steps:
        key = f"ticket:{number}"
        item = items.get(key)
        if action == "event":
            now += value
            if item is None:
                items[key] = Item([[now]])
                expiry.added(key, now)
            else:
                item.log.append([now])
        elif action == "due" and item is not None:
            item.due = now if value else None
        elif action == "finish" and item is not None:
            item.finished = value
        elif action == "cleanup":
            retention = min(now, retention + value)
            expected = _every_item(items, retention)
            got = sorted(expiry.expired(items, retention, _forgettable))
            assert got == expected
            for gone in got:
                del items[gone]


def test_an_item_with_a_later_event_is_kept_until_that_event_is_old() -> None:
    items: dict[str, Item] = {"chat:1": Item([[0.0]], finished=True)}
    expiry = ItemExpiry()
    expiry.added("chat:1", 0.0)
    items["chat:1"].log.append([50.0])
    assert expiry.expired(items, 10.0, _forgettable) == []
    assert expiry.expired(items, 50.0, _forgettable) == []
    assert expiry.expired(items, 50.5, _forgettable) == ["chat:1"]

"""The runtime state of one contract: its objectives' trackers and the route to them.

:mod:`monitor.domain.trackers` makes a tracker per objective and adds it to what
feeds it; :mod:`monitor.domain.routing` sends each event type where it goes. The
snapshot (``to_state``) holds only plain data; whatever else the trackers keep is
derived from it and rebuilt lazily after ``load_state``.
"""

from __future__ import annotations

import math
from typing import Any

from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert
from monitor.domain.contacts import Contacts, Surveys
from monitor.domain.items import ItemClocks
from monitor.domain.monthly import MonthlyTrackers
from monitor.domain.observer import Observer
from monitor.domain.routing import route
from monitor.domain.status import ObjectiveStatus
from monitor.domain.trackers import objective_trackers
from monitor.domain.windows import WindowClock, WindowTracker


class ContractRuntime:
    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.contract_id = agreement.contract_id
        self.window_clock = WindowClock()
        self.calls, self.chats, self.surveys = Contacts([], []), Contacts([], []), Surveys()
        self.monthly = monthly = MonthlyTrackers()
        self.items = ItemClocks(agreement, monthly.record_decided)
        # the item clocks' heap of due instants (its head is the earliest, perhaps stale);
        # the engine reads it after every event, so it is the list itself, not a property
        self.due = self.items.due
        contacts = (self.calls, self.chats, self.surveys)
        # one per objective, in agreement order
        self._trackers = objective_trackers(
            agreement, contacts, self.items, monthly, self.window_clock
        )
        self.windows = {t.objective.id: t for t in self._trackers if isinstance(t, WindowTracker)}
        self.window_list = list(self.windows.values())
        # by event type: handler(fields, ts, watermark) applies one event and returns
        # alerts only when a late event settles an item at once (after start_earlier)
        self.handlers = route(self.calls, self.chats, self.surveys, self.items, monthly)
        # derived: the minute every window and month tracker was last brought to
        self.trackers_minute: int | None = None
        self.earliest = math.inf

    @property
    def observer(self) -> Observer | None:
        return self.items.observer

    @observer.setter
    def observer(self, observer: Observer | None) -> None:
        self.items.observer = observer
        for window in self.window_list:
            window.observer = observer
        self.monthly.observe(observer)

    # -- views -------------------------------------------------------------------

    def objective_status(self, watermark: float) -> list[ObjectiveStatus]:
        """Every objective at ``watermark``, in agreement order."""
        self.monthly.settle()
        return [tracker.objective_status(watermark) for tracker in self._trackers]

    def report(self) -> dict[str, Any]:
        """Every objective's SLI over the input so far, by objective id."""
        self.monthly.settle()
        objectives = {t.objective.id: t.report() for t in self._trackers}
        return {"title": self.agreement.title, "objectives": objectives}

    # -- time --------------------------------------------------------------------

    def start_earlier(self, ts: float) -> None:
        """An event before every one so far: the month trackers start from it."""
        self.earliest = ts
        self.trackers_minute = None
        self.monthly.start_at(ts)

    def advance(self, watermark: float, alerts: list[Alert]) -> None:
        due = self.due
        if due and due[0][0] < watermark:
            self.items.advance(watermark, alerts)
        minute = math.floor(watermark // 60)
        if minute == self.trackers_minute:
            return  # trackers were brought to this minute and no start moved since
        self.window_clock.minute = minute
        for tracker in self.window_list:
            if tracker.wake <= minute:
                tracker.advance(watermark, alerts)
        self.monthly.advance(watermark, minute, alerts)
        self.trackers_minute = minute

    def cleanup(self, watermark: float, horizon: float) -> None:
        self.calls.forget_before(horizon)
        self.chats.forget_before(horizon)
        self.items.forget_finished(watermark)

    # -- state -------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return self._aggregate() | self.items.to_state()

    def aggregate_state(self) -> dict[str, Any]:
        """Everything but the items (windows, months, contacts): one state record."""
        return self._aggregate() | {"item_stats": self.items.aggregate_state()}

    def _aggregate(self) -> dict[str, Any]:
        return {
            "windows": {oid: t.to_state() for oid, t in self.windows.items()},
            "periods": self.monthly.to_state(),
            "calls": self.calls.to_state(),
            "chats": self.chats.to_state(),
            "earliest": None if math.isinf(self.earliest) else self.earliest,
        }

    def load_records(
        self, aggregate: dict[str, Any] | None, items: dict[str, dict[str, Any]]
    ) -> None:
        """Load the aggregate record (if any) and the item records, as ``load_state``."""
        if aggregate is not None:
            self._load_aggregate(aggregate)
        stats = aggregate["item_stats"] if aggregate is not None else {}
        self.items.load_items(items, stats)
        self.trackers_minute = None

    def load_state(self, state: dict[str, Any]) -> None:
        self._load_aggregate(state)
        self.items.load_state(state)

    def _load_aggregate(self, state: dict[str, Any]) -> None:
        for oid, tracker_state in state["windows"].items():
            if oid in self.windows:
                self.windows[oid].load_state(tracker_state)
        self.monthly.load_state(state["periods"])
        self.calls.load_state(state["calls"])
        self.chats.load_state(state["chats"])
        self.earliest = math.inf if state["earliest"] is None else state["earliest"]
        self.trackers_minute = None

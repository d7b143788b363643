"""The runtime state of one contract: it routes each event to the trackers it feeds.

Window objectives are fed by the contact records (:mod:`monitor.domain.contacts`) and
by surveys, item objectives by the item clocks (:mod:`monitor.domain.items`), monthly
objectives by service status changes and by the item clocks' decisions
(:mod:`monitor.domain.periods`), or by the contact records for contact objectives
with ``period: month`` (:mod:`monitor.domain.contact_months`). The snapshot
(``to_state``) holds only plain data; whatever else the trackers keep is derived
from it and rebuilt lazily after ``load_state``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from monitor.domain.agreement import (
    Agreement,
    AvailabilityObjective,
    ItemObjective,
    Objective,
    WindowObjective,
)
from monitor.domain.alerts import Alert
from monitor.domain.contact_months import ContactCounter, ContactMonthTracker
from monitor.domain.contacts import Contacts
from monitor.domain.events import EVENT_TYPES, Fields
from monitor.domain.items import ItemClocks, ItemObjectiveTracker
from monitor.domain.monthly import MonthlyTrackers
from monitor.domain.observer import Observer
from monitor.domain.periods import AvailabilityTracker, ComplianceTracker
from monitor.domain.status import ObjectiveStatus
from monitor.domain.windows import WindowClock, WindowTracker, survey_contribution

Handler = Callable[[Fields, float, float], list[Alert]]


class ObjectiveTracker(Protocol):
    """What every objective's tracker answers, whatever its kind."""

    @property
    def objective(self) -> Objective: ...

    def objective_status(self, watermark: float) -> ObjectiveStatus: ...

    def report(self) -> dict[str, Any]: ...


class ContractRuntime:
    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.contract_id = agreement.contract_id
        labels = dict(agreement.labels)
        self.windows: dict[str, WindowTracker] = {}
        self.window_clock = WindowClock()
        self.calls = Contacts([], [])
        self.chats = Contacts([], [])
        self.survey_windows: list[ContactCounter] = []
        self.monthly = MonthlyTrackers()
        self.items = ItemClocks(agreement, self.monthly.record_decided)
        # the item clocks' heap of due instants (its head is the earliest, perhaps stale);
        # the engine reads it after every event, so it is the list itself, not a property
        self.due = self.items.due
        self._trackers: list[ObjectiveTracker] = []  # one per objective, in agreement order
        for objective in agreement.objectives:
            if isinstance(objective, WindowObjective) and objective.period == "month":
                self._trackers.append(self._add_contact_month(objective, labels))
            elif isinstance(objective, WindowObjective):
                self._trackers.append(self._add_window(objective, labels))
            elif isinstance(objective, ItemObjective):
                self._trackers.append(self._add_item_objective(objective, labels))
            elif isinstance(objective, AvailabilityObjective):
                tracker = AvailabilityTracker(
                    self.contract_id, objective, agreement.timezone, labels
                )
                self.monthly.add_availability(tracker)
                self._trackers.append(tracker)
        self.window_list = list(self.windows.values())
        handlers: dict[str, Handler] = {
            "call": self._call,
            "chat": self._chat,
            "ticket": self.items.apply_ticket,
        }
        # by event type: handler(fields, ts, watermark) applies one event and returns
        # alerts only when a late event settles an item at once (after start_earlier)
        self.handlers: dict[str, Handler] = {
            kind: handlers[family]
            for kind in EVENT_TYPES
            if (family := kind.partition(".")[0]) in handlers
        } | {"survey.response": self._survey, "service.status": self._service}
        # derived: the minute every window and month tracker was last brought to
        self.trackers_minute: int | None = None
        self.earliest = math.inf

    def _add_window(self, objective: WindowObjective, labels: dict[str, str]) -> WindowTracker:
        tracker = WindowTracker(self.contract_id, objective, labels, self.window_clock)
        self.windows[objective.id] = tracker
        self._feed(tracker)
        return tracker

    def _add_contact_month(
        self, objective: WindowObjective, labels: dict[str, str]
    ) -> ContactMonthTracker:
        tracker = ContactMonthTracker(
            self.contract_id,
            objective,
            self.agreement.timezone,
            labels,
            self.monthly.settle_tracker,
        )
        self.monthly.add_contacts(tracker)
        self._feed(tracker)
        return tracker

    def _feed(self, tracker: ContactCounter) -> None:
        """Route the contacts or surveys the tracker's objective selects to it."""
        objective = tracker.objective
        if objective.kind == "satisfaction":
            self.survey_windows.append(tracker)
            return
        channels = objective.match.channel
        media = []
        if channels is None or "phone" in channels:
            media.append(self.calls)
        if channels is not None and "chat" in channels:
            media.append(self.chats)
        for contacts in media:
            if objective.kind == "average_handle_time":
                contacts.handle_windows.append(tracker)
            else:
                contacts.queue_windows.append(tracker)

    def _add_item_objective(
        self, objective: ItemObjective, labels: dict[str, str]
    ) -> ItemObjectiveTracker:
        self.items.add_objective(objective)
        if objective.target is not None and objective.period == "month":
            tracker = ComplianceTracker(
                self.contract_id,
                objective,
                self.agreement.timezone,
                labels,
                self.agreement.alerting.min_volume,
            )
            self.monthly.add_compliance(tracker)
        return ItemObjectiveTracker(self.items, objective, self.monthly.compliance(objective.id))

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

    # -- events ------------------------------------------------------------------

    def start_earlier(self, ts: float) -> None:
        """An event before every one so far: the month trackers start from it."""
        self.earliest = ts
        self.trackers_minute = None
        self.monthly.start_at(ts)

    def _service(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        self.monthly.record_status(event["service"], ts, event["status"], event["event_id"])
        return []

    def _survey(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        for window in self.survey_windows:
            if window.selects(event["queue"], event["attributes"]):
                contribution = survey_contribution(
                    window.objective, event["score"], event["scale_max"]
                )
                if contribution is not None:
                    window.add(ts, contribution)
        return []

    def _call(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        """Offered, answered or abandoned (it left the queue), ended."""
        kind, call_id = event["type"], event["call_id"]
        calls = self.calls
        if kind == "call.offered":
            calls.offered(call_id, ts, event["queue"], event["attributes"])
        elif kind == "call.ended":
            calls.ended(call_id, ts, event["handle_s"])
        else:
            answered = kind == "call.answered"
            calls.left(call_id, ts, answered, event["wait_s"], event["queue"], event["attributes"])
        return self.items.apply_call(event, ts, watermark)

    def _chat(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        """A chat leaves the queue at its first agent message (answered) or when abandoned
        before one; a customer message changes nothing for the queue."""
        kind, chat_id = event["type"], event["chat_id"]
        chats = self.chats
        if kind == "chat.started":
            chats.offered(chat_id, ts, event["queue"], event["attributes"])
        elif kind == "chat.ended":
            chats.ended(chat_id, ts, None)
        elif kind != "chat.customer_message":
            record = chats.records.get(chat_id)
            if record is None or record.left is None:
                answered = kind == "chat.agent_message"
                chats.left(chat_id, ts, answered, None, event["queue"], event["attributes"])
        return self.items.apply_chat(event, ts, watermark)

    # -- time --------------------------------------------------------------------

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

    def to_state(self) -> dict[str, Any]:
        return {
            "windows": {oid: t.to_state() for oid, t in self.windows.items()},
            "periods": self.monthly.to_state(),
            **self.items.to_state(),
            "calls": self.calls.to_state(),
            "chats": self.chats.to_state(),
            "earliest": None if math.isinf(self.earliest) else self.earliest,
        }

    def aggregate_state(self) -> dict[str, Any]:
        """Everything but the items (windows, months, contacts): one state record."""
        return {
            "windows": {oid: t.to_state() for oid, t in self.windows.items()},
            "periods": self.monthly.to_state(),
            "item_stats": self.items.aggregate_state(),
            "calls": self.calls.to_state(),
            "chats": self.chats.to_state(),
            "earliest": None if math.isinf(self.earliest) else self.earliest,
        }

    def load_records(
        self, aggregate: dict[str, Any] | None, items: dict[str, dict[str, Any]]
    ) -> None:
        """Load the aggregate record (if any) and the item records, as ``load_state``."""
        if aggregate is not None:
            for oid, tracker_state in aggregate["windows"].items():
                if oid in self.windows:
                    self.windows[oid].load_state(tracker_state)
            self.monthly.load_state(aggregate["periods"])
            self.calls.load_state(aggregate["calls"])
            self.chats.load_state(aggregate["chats"])
            self.earliest = math.inf if aggregate["earliest"] is None else aggregate["earliest"]
        stats = aggregate["item_stats"] if aggregate is not None else {}
        self.items.load_items(items, stats)
        self.trackers_minute = None

    def load_state(self, state: dict[str, Any]) -> None:
        for oid, tracker_state in state["windows"].items():
            if oid in self.windows:
                self.windows[oid].load_state(tracker_state)
        self.monthly.load_state(state["periods"])
        self.items.load_state(state)
        self.trackers_minute = None
        self.calls.load_state(state["calls"])
        self.chats.load_state(state["chats"])
        self.earliest = math.inf if state["earliest"] is None else state["earliest"]

"""Calls and chats leaving the queue: the contact records behind the window objectives.

A contact counts towards the queue objectives (service level, speed of answer, wait,
abandonment) once it has left the queue, answered or abandoned, and its wait is known;
towards handle time once it has ended. Its events may arrive in any order within the
lateness, so a :class:`ContactRecord` collects them until the contact has counted
everywhere it can, and is then forgotten. Survey responses count at once
(:class:`Surveys`). :func:`feed` says which of them each window or monthly contact
objective takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.domain.events import Fields
from monitor.domain.windows import call_contribution, survey_contribution

if TYPE_CHECKING:
    from monitor.domain.contact_months import ContactCounter


@dataclass(slots=True)
class ContactRecord:
    """What is known of one call or chat so far (event times are epoch seconds)."""

    offered: float | None = None
    left: float | None = None
    answered: bool | None = None
    wait_ms: int | None = None
    queue: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    counted: bool = False  # its queue contribution is in the windows
    ended: float | None = None
    handle_ms: int | None = None

    @property
    def last_seen(self) -> float:
        return max(t for t in (self.offered, self.left, self.ended) if t is not None)

    def to_state(self) -> list[Any]:
        return [
            self.offered,
            self.left,
            self.answered,
            self.wait_ms,
            self.queue,
            self.attributes,
            self.counted,
            self.ended,
            self.handle_ms,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> ContactRecord:
        return cls(*state)


class Contacts:
    """The open records of one medium (calls or chats) and the windows they feed.

    ``queue_windows`` take a contact when it leaves the queue, ``handle_windows`` when
    it ends. A record is dropped as soon as it has counted everywhere it can.
    """

    __slots__ = ("handle_windows", "queue_windows", "records")

    def __init__(
        self, queue_windows: list[ContactCounter], handle_windows: list[ContactCounter]
    ) -> None:
        self.queue_windows = queue_windows
        self.handle_windows = handle_windows
        self.records: dict[str, ContactRecord] = {}

    def apply_call(self, event: Fields, ts: float) -> None:
        """Offered, answered or abandoned (it left the queue), ended."""
        kind, call_id = event["type"], event["call_id"]
        if kind == "call.offered":
            self.offered(call_id, ts, event["queue"], event["attributes"])
        elif kind == "call.ended":
            self.ended(call_id, ts, event["handle_s"])
        else:
            answered = kind == "call.answered"
            self.left(call_id, ts, answered, event["wait_s"], event["queue"], event["attributes"])

    def apply_chat(self, event: Fields, ts: float) -> None:
        """A chat leaves the queue at its first agent message (answered) or when abandoned
        before one; a customer message changes nothing for the queue."""
        kind, chat_id = event["type"], event["chat_id"]
        if kind == "chat.started":
            self.offered(chat_id, ts, event["queue"], event["attributes"])
        elif kind == "chat.ended":
            self.ended(chat_id, ts, None)
        elif kind != "chat.customer_message":
            record = self.records.get(chat_id)
            if record is None or record.left is None:
                answered = kind == "chat.agent_message"
                self.left(chat_id, ts, answered, None, event["queue"], event["attributes"])

    def offered(self, contact_id: str, ts: float, queue: str | None, attrs: dict[str, str]) -> None:
        record = self.records.get(contact_id)
        if record is None:
            self.records[contact_id] = ContactRecord(offered=ts, queue=queue, attributes=attrs)
            return
        if record.offered is not None:
            return
        record.offered = ts
        if record.queue is None:
            record.queue = queue
        if record.left is not None and record.wait_ms is None:
            record.wait_ms = max(0, round((record.left - ts) * 1000))
            self._count_left(record)
            if record.ended is not None or not record.answered:
                del self.records[contact_id]

    def left(
        self,
        contact_id: str,
        ts: float,
        answered: bool,
        wait_s: float | None,
        queue: str | None,
        attrs: dict[str, str],
    ) -> None:
        """Answered or abandoned; the wait is given, or derived from the offer."""
        record = self.records.get(contact_id)
        if record is None:
            record = self.records[contact_id] = ContactRecord()
        if record.left is not None:
            return
        record.left = ts
        record.answered = answered
        if queue is not None:
            record.queue = queue
        if attrs:
            record.attributes = attrs
        if wait_s is not None:
            record.wait_ms = round(wait_s * 1000)
        elif record.offered is not None:
            record.wait_ms = max(0, round((ts - record.offered) * 1000))
        if record.wait_ms is not None:
            self._count_left(record)
        if record.ended is not None:
            self._count_handle(record)
        if record.counted and (record.ended is not None or not answered):
            del self.records[contact_id]

    def ended(self, contact_id: str, ts: float, handle_s: float | None) -> None:
        record = self.records.get(contact_id)
        if record is None:
            record = self.records[contact_id] = ContactRecord()
        if record.ended is not None:
            return
        record.ended = ts
        record.handle_ms = None if handle_s is None else round(handle_s * 1000)
        if record.left is not None:
            self._count_handle(record)
            if record.counted:
                del self.records[contact_id]

    def forget_before(self, horizon: float) -> None:
        """Drop records last seen before ``horizon``: their missing events are too late."""
        stale = [cid for cid, record in self.records.items() if record.last_seen < horizon]
        for contact_id in stale:
            del self.records[contact_id]

    def _count_left(self, record: ContactRecord) -> None:
        if record.counted:
            return
        record.counted = True
        assert record.left is not None
        assert record.answered is not None
        for tracker in self.queue_windows:
            if not (tracker.selects_all or tracker.selects(record.queue, record.attributes)):
                continue
            contribution = call_contribution(
                tracker.objective, answered=record.answered, wait_ms=record.wait_ms
            )
            if contribution is not None:
                tracker.add(record.left, contribution)

    def _count_handle(self, record: ContactRecord) -> None:
        """Handle time counts at the end of the contact, once its answer is known."""
        assert record.ended is not None
        assert record.left is not None
        handle_ms = record.handle_ms
        if handle_ms is None:
            if not record.answered:
                return
            handle_ms = max(0, round((record.ended - record.left) * 1000))
        for tracker in self.handle_windows:
            if tracker.selects_all or tracker.selects(record.queue, record.attributes):
                tracker.add(record.ended, (handle_ms, 1))

    def to_state(self) -> dict[str, list[Any]]:
        return {cid: record.to_state() for cid, record in self.records.items()}

    def load_state(self, state: dict[str, list[Any]]) -> None:
        self.records = {cid: ContactRecord.from_state(saved) for cid, saved in state.items()}


class Surveys:
    """The satisfaction objectives (window or monthly) that survey responses feed."""

    __slots__ = ("trackers",)

    def __init__(self) -> None:
        self.trackers: list[ContactCounter] = []

    def apply(self, event: Fields, ts: float) -> None:
        for tracker in self.trackers:
            if tracker.selects(event["queue"], event["attributes"]):
                contribution = survey_contribution(
                    tracker.objective, event["score"], event["scale_max"]
                )
                if contribution is not None:
                    tracker.add(ts, contribution)


def feed(tracker: ContactCounter, calls: Contacts, chats: Contacts, surveys: Surveys) -> None:
    """Route the contacts or surveys the tracker's objective selects to it.

    ``channel`` ``phone`` selects calls, ``chat`` chats; without a channel selector
    only calls count.
    """
    objective = tracker.objective
    if objective.kind == "satisfaction":
        surveys.trackers.append(tracker)
        return
    channels = objective.match.channel
    media = []
    if channels is None or "phone" in channels:
        media.append(calls)
    if channels is not None and "chat" in channels:
        media.append(chats)
    for contacts in media:
        if objective.kind == "average_handle_time":
            contacts.handle_windows.append(tracker)
        else:
            contacts.queue_windows.append(tracker)

"""Where each event goes: one handler per event type, built once per contract.

A call or chat updates its contact record (the window and monthly contact
objectives) and then its item clocks; a ticket only its item clocks; a survey the
satisfaction objectives; a service status the availability objectives. A handler
returns the alerts a late event settles at once (an item clock stopped behind the
watermark), else an empty list.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.domain.alerts import Alert
from monitor.domain.contacts import Contacts, Surveys
from monitor.domain.events import EVENT_TYPES, Fields
from monitor.domain.items import ItemClocks
from monitor.domain.monthly import MonthlyTrackers

Handler = Callable[[Fields, float, float], list[Alert]]
"""``handler(fields, ts, watermark)`` applies one event; the alerts it settles at once."""


def route(
    calls: Contacts,
    chats: Contacts,
    surveys: Surveys,
    items: ItemClocks,
    monthly: MonthlyTrackers,
) -> dict[str, Handler]:
    """The handler of every event type."""
    apply_call, apply_chat = calls.apply_call, chats.apply_chat
    call_items, chat_items = items.apply_call, items.apply_chat
    record_status = monthly.record_status

    def call(event: Fields, ts: float, watermark: float) -> list[Alert]:
        apply_call(event, ts)
        return call_items(event, ts, watermark)

    def chat(event: Fields, ts: float, watermark: float) -> list[Alert]:
        apply_chat(event, ts)
        return chat_items(event, ts, watermark)

    def survey(event: Fields, ts: float, watermark: float) -> list[Alert]:
        surveys.apply(event, ts)
        return []

    def service(event: Fields, ts: float, watermark: float) -> list[Alert]:
        record_status(event["service"], ts, event["status"], event["event_id"])
        return []

    families: dict[str, Handler] = {"call": call, "chat": chat, "ticket": items.apply_ticket}
    handlers = {
        kind: families[family]
        for kind in EVENT_TYPES
        if (family := kind.partition(".")[0]) in families
    }
    return handlers | {"survey.response": survey, "service.status": service}

"""Small builders shared by the engine tests: agreements and events without files."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from monitor.domain.agreement import Agreement, Alerting, Objective
from monitor.domain.alerts import Alert
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import Engine
from monitor.domain.events import Event, EventError, parse_event

NEW_YORK = "America/New_York"
SPLIT_SHIFT = dict.fromkeys(range(5), ((9 * 60, 12 * 60), (13 * 60, 18 * 60)))
_ids = count()


def business_calendar(timezone: str = NEW_YORK) -> BusinessCalendar:
    return BusinessCalendar("business", timezone, SPLIT_SHIFT)


def agreement(*objectives: Objective, timezone: str = "UTC", **alerting: Any) -> Agreement:
    settings = {"warn_at": (), "hold_for": 0.0, "min_volume": 1} | alerting
    return Agreement(
        contract_id="acme",
        title="Acme test agreement",
        timezone=timezone,
        calendars={},
        objectives=objectives,
        alerting=Alerting(**settings),
    )


def at(text: str, timezone: str = "UTC") -> str:
    """'2026-11-20 10:00' in a zone, as RFC 3339 with offset."""
    moment = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(timezone))
    return moment.isoformat()


def epoch(text: str, timezone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(timezone)).timestamp()


def event(type_: str, ts: str, **fields: Any) -> Event:
    body = {
        "event_id": fields.pop("event_id", f"e{next(_ids)}"),
        "type": type_,
        "ts": ts,
        "contract_id": fields.pop("contract_id", "acme"),
    } | fields
    parsed = parse_event(json.dumps(body).encode())
    assert not isinstance(parsed, EventError), parsed
    return parsed


def run(
    engine_or_agreement: Engine | Agreement, events: list[Event], until: float | None = None
) -> list[Alert]:
    engine = (
        engine_or_agreement
        if isinstance(engine_or_agreement, Engine)
        else Engine([engine_or_agreement])
    )
    alerts = engine.apply_all(events)
    if until is not None:
        alerts.extend(engine.advance(until))
    return alerts


def states(alerts: list[Alert]) -> list[tuple[str, str, str]]:
    """(objective, state, event_time) in emission order."""
    return [(a.objective_id, a.state, a.to_json()["event_time"]) for a in alerts]

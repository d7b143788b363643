"""Escalation policy: which notifications one alert's delivery state calls for at ``now``.

Pure and time-passed-in (alertmanager ``notify/dedup_stage.go`` ``needs_update``
style): the notifier agent keeps a :class:`DeliveryState` per fingerprint in a
changelog table, folds each alert from the outbox into it with :func:`observe`,
asks :func:`decide` what to send (on every alert and on every tick), and records
each outcome with :func:`record`.

Semantics (docs/notifications.md states them for operators):

- Level *n* of ``alerting.escalation`` is due ``after`` seconds past the event
  time of the episode's first breach and stays due until the alert resolves; a
  ``business_hours_only`` level only sends while the agreement's calendar is open
  (it waits for the next opening otherwise). Levels up to the alert's own
  ``escalation_level`` are due at once.
- ``at_risk`` goes to level 1 only, always with severity ``warning``; it never
  escalates.
- A sink gets each alert (``alert_id``) once: a ``trigger``, then a ``repeat``
  every repeat interval while the alert stays unresolved (the route's own
  interval, e.g. Alertmanager's refresh, else the agreement's). A delivery that
  failed for good is tried again after ``min(repeat, FAILED_RETRY_S)``.
- ``resolved`` sends one ``resolve`` to every sink that was told about the
  episode, and to nobody else.
- An alert older than the state's (event time, then at_risk < breached <
  resolved) is stale and ignored: a redelivered outbox record never reopens an
  incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, cast

from monitor.domain.agreement import Alerting
from monitor.domain.alerts import STATE_ORDER, AlertState, Severity
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.timestamps import parse_instant as parse_instant

__all__ = [
    "FAILED_RETRY_S",
    "Action",
    "Delivered",
    "DeliveryState",
    "Notification",
    "Route",
    "decide",
    "observe",
    "parse_instant",
    "record",
    "settled",
    "unrouted_names",
]

Action = Literal["trigger", "repeat", "resolve"]

FAILED_RETRY_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class Route:
    """A configured notifier as the policy sees it: a name plus optional filters.

    A route takes the levels the agreement names it in, plus ``levels`` (so a
    catch-all sink needs no agreement edit); ``contracts`` and ``severities``
    restrict it. ``repeat_interval`` overrides the agreement's (Alertmanager needs
    a short one to keep ``endsAt`` ahead).
    """

    name: str
    contracts: frozenset[str] | None = None
    severities: frozenset[str] | None = None
    levels: frozenset[int] = frozenset()
    repeat_interval: float | None = None

    def accepts(self, contract_id: str, severity: str) -> bool:
        if self.contracts is not None and contract_id not in self.contracts:
            return False
        return self.severities is None or severity in self.severities


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one sink was last told about one fingerprint."""

    alert_id: str
    state: AlertState
    severity: Severity
    level: int
    at: float
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "state": self.state,
            "severity": self.severity,
            "level": self.level,
            "at": self.at,
            "ok": self.ok,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivered:
        return cls(
            alert_id=str(data["alert_id"]),
            state=cast(AlertState, data["state"]),
            severity=cast(Severity, data["severity"]),
            level=int(data["level"]),
            at=float(data["at"]),
            ok=bool(data.get("ok", True)),
        )


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Per-fingerprint state: the latest alert (its outbox JSON) and what each sink has."""

    alert: Mapping[str, Any]
    breached_at: float | None = None
    sinks: Mapping[str, Delivered] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return str(self.alert["alert_id"])

    @property
    def state(self) -> AlertState:
        return cast(AlertState, self.alert["state"])

    @property
    def event_time(self) -> float:
        return parse_instant(str(self.alert["event_time"]))

    def to_json(self) -> dict[str, Any]:
        return {
            "alert": dict(self.alert),
            "breached_at": self.breached_at,
            "sinks": {name: d.to_json() for name, d in sorted(self.sinks.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeliveryState:
        breached_at = data.get("breached_at")
        return cls(
            alert=dict(data["alert"]),
            breached_at=None if breached_at is None else float(breached_at),
            sinks={name: Delivered.from_json(d) for name, d in data.get("sinks", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one sink. ``previous`` is what that sink had before (if anything)."""

    sink: str
    action: Action
    level: int
    severity: Severity
    alert: Mapping[str, Any]
    previous: Delivered | None = None

    @property
    def fingerprint(self) -> str:
        return str(self.alert["fingerprint"])


def observe(state: DeliveryState | None, alert: Mapping[str, Any]) -> DeliveryState:
    """Fold one outbox alert into the state; duplicates and stale alerts leave it unchanged."""
    event_time = parse_instant(str(alert["event_time"]))
    if state is None:
        breached = event_time if alert["state"] == "breached" else None
        return DeliveryState(alert=dict(alert), breached_at=breached)
    if alert["alert_id"] == state.alert_id or _key(event_time, alert) < _key(
        state.event_time, state.alert
    ):
        return state
    breached_at = state.breached_at if state.state != "resolved" else None
    if alert["state"] == "breached" and breached_at is None:
        breached_at = event_time
    return DeliveryState(alert=dict(alert), breached_at=breached_at, sinks=state.sinks)


def decide(
    state: DeliveryState,
    *,
    alerting: Alerting,
    calendar: BusinessCalendar | None,
    routes: Mapping[str, Route],
    now: float,
) -> list[Notification]:
    """The notifications due now, in sink-name order (at most one per sink)."""
    if state.state == "resolved":
        return _resolves(state, alerting, routes, now)
    severity: Severity = "warning" if state.state == "at_risk" else _severity(state.alert)
    targets = _targets(state, alerting, calendar, routes, severity, now)
    notifications = []
    for name, level in sorted(targets.items()):
        before = state.sinks.get(name)
        if before is None or before.alert_id != state.alert_id:
            action: Action = "trigger"
        elif _again(before, _repeat(routes[name], alerting), now):
            action = "repeat"
        else:
            continue
        notifications.append(Notification(name, action, level, severity, state.alert, before))
    return notifications


def record(
    state: DeliveryState, notification: Notification, *, ok: bool, now: float
) -> DeliveryState:
    """The state after ``notification`` was delivered (``ok``) or dead-lettered."""
    delivered = Delivered(
        alert_id=str(notification.alert["alert_id"]),
        state=cast(AlertState, notification.alert["state"]),
        severity=notification.severity,
        level=notification.level,
        at=now,
        ok=ok,
    )
    return replace(state, sinks={**state.sinks, notification.sink: delivered})


def settled(state: DeliveryState, *, now: float, keep: float) -> bool:
    """Resolved, every sink told so, and older than ``keep``: safe to forget."""
    return (
        state.state == "resolved"
        and all(d.state == "resolved" and d.ok for d in state.sinks.values())
        and now - state.event_time >= keep
    )


def unrouted_names(alerting: Alerting, routes: Mapping[str, Route]) -> list[str]:
    """Notifier names the escalation levels use that no route defines."""
    return sorted({n for level in alerting.escalation for n in level.notify} - set(routes))


def _resolves(
    state: DeliveryState, alerting: Alerting, routes: Mapping[str, Route], now: float
) -> list[Notification]:
    notifications = []
    for name, before in sorted(state.sinks.items()):
        if name not in routes:
            continue
        if before.state == "resolved" and (
            before.alert_id != state.alert_id
            or before.ok
            or not _again(before, _repeat(routes[name], alerting), now)
        ):
            continue
        notifications.append(
            Notification(name, "resolve", before.level, before.severity, state.alert, before)
        )
    return notifications


def _targets(
    state: DeliveryState,
    alerting: Alerting,
    calendar: BusinessCalendar | None,
    routes: Mapping[str, Route],
    severity: Severity,
    now: float,
) -> dict[str, int]:
    """Sink name → the highest level due now that reaches it."""
    contract_id = str(state.alert["contract_id"])
    first = max(1, int(state.alert.get("escalation_level") or 1))
    clock = state.breached_at if state.breached_at is not None else state.event_time
    targets: dict[str, int] = {}
    for number, level in enumerate(alerting.escalation, start=1):
        if state.state == "at_risk" and number > 1:
            break
        if number > first and state.state == "breached" and now < clock + level.after:
            continue
        if level.business_hours_only and calendar is not None and not calendar.is_open(now):
            continue
        for name in _names(level.notify, number, routes):
            if routes[name].accepts(contract_id, severity):
                targets[name] = number
    return targets


def _names(named: Iterable[str], number: int, routes: Mapping[str, Route]) -> list[str]:
    extra = [name for name, route in routes.items() if number in route.levels]
    return [name for name in dict.fromkeys([*named, *extra]) if name in routes]


def _again(before: Delivered, repeat: float, now: float) -> bool:
    wait = repeat if before.ok else min(repeat, FAILED_RETRY_S)
    return now - before.at >= wait


def _repeat(route: Route, alerting: Alerting) -> float:
    return route.repeat_interval if route.repeat_interval is not None else alerting.repeat_interval


def _severity(alert: Mapping[str, Any]) -> Severity:
    return "warning" if alert.get("severity") == "warning" else "critical"


def _key(event_time: float, alert: Mapping[str, Any]) -> tuple[float, int]:
    return (event_time, STATE_ORDER[str(alert["state"])])

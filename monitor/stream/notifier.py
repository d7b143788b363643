"""The notifier agent: ``slamon.alerts`` → escalation policy → sinks, state in a changelog table.

Wiring (docs/design.md): one agent, ``concurrency=1``, separate from the engine
agent, reads the alerts topic (key = fingerprint) and the notifier ticks topic
(co-partitioned) in one stream. Per fingerprint, the table ``notifier-deliveries``
holds the latest alert and what each sink was told (``DeliveryState``) plus the
partition it lives in.

- An alert is folded into its state; what :func:`decide` returns is delivered
  (sinks in parallel, each through the retry wrapper), recorded, and the state is
  written to the table and flushed before the next record. A redelivered alert
  (same ``alert_id``) or a stale one changes nothing, so nothing is re-sent.
- A timer on every worker sends one tick per owned partition; on a tick the agent
  runs :func:`decide` for that partition's states (escalation levels, repeats,
  retries of dead-lettered deliveries, business-hours openings). Tables are only
  written inside stream iteration, never from the timer.
- A crash between delivery and the table write re-sends on restart; every sink is
  idempotent on the fingerprint (Alertmanager labels, PagerDuty dedup_key,
  Opsgenie alias), so no second incident opens.

Each table write is flushed on its own: the Tansu test broker under-reports a
changelog's end offset when the last batch holds several records (docs/design.md),
and one record per batch keeps recovery whole.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from monitor.domain.agreement import Agreement, Alerting
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.escalation import (
    DeliveryState,
    Notification,
    decide,
    observe,
    parse_instant,
    record,
    settled,
    unrouted_names,
)
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.sinks.config import Notifiers, load_notifiers
from monitor.sinks.retry import DeadLetter, Deliverer

__all__ = ["TABLE", "Notifier", "attach_notifier", "notifier_attachments"]

log = structlog.get_logger("slamon.notifier")

TABLE = "notifier-deliveries"
KEEP_SETTLED_S = 7 * 86400.0
_REQUIRED = ("alert_id", "fingerprint", "contract_id", "objective_id", "state", "event_time")
_STATES = frozenset({"at_risk", "breached", "resolved"})

Deliver = Callable[[Notification, float | None], Awaitable[bool]]
Table = MutableMapping[str, bytes]


@dataclass(frozen=True, slots=True)
class _Policy:
    alerting: Alerting
    calendar: BusinessCalendar | None


class Notifier:
    """What the agent does with one alert or one tick (Faust wiring: ``attach_notifier``)."""

    def __init__(
        self,
        notifiers: Notifiers,
        agreements: Sequence[Agreement],
        *,
        deliver: Deliver,
        flush: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.notifiers = notifiers
        self._policies = {a.contract_id: _policy(a) for a in agreements}
        self._default = _Policy(Alerting(), None)
        self._deliver = deliver
        self._flush = flush
        self._clock = clock
        self.ticks_handled: dict[int, int] = {}
        for agreement in agreements:
            missing = unrouted_names(agreement.alerting, notifiers.routes)
            if missing:
                log.warning(
                    "notifier_not_configured",
                    contract=agreement.contract_id,
                    names=missing,
                    notifiers_file=notifiers.source,
                )

    async def on_alert(
        self, table: Table, value: bytes, partition: int, published_at: float | None
    ) -> None:
        alert = _decode_alert(value)
        if alert is None:
            return
        key = str(alert["fingerprint"])
        before = _load(table.get(key))
        state = observe(before, alert)
        if before is not None and state == before:
            log.debug("notifier_alert_seen", fingerprint=key, alert_id=alert["alert_id"])
            return
        state = await self._send(state, published_at)
        table[key] = _dump(partition, state)
        await self._flush()

    async def on_tick(self, table: Table, partition: int) -> None:
        now = self._clock()
        written = False
        for key, raw in list(table.items()):
            stored = json.loads(raw)
            if stored["partition"] != partition:
                continue
            state = DeliveryState.from_json(stored["state"])
            if settled(state, now=now, keep=KEEP_SETTLED_S):
                del table[key]
                written = True
                continue
            after = await self._send(state, None)
            if after is not state:
                table[key] = _dump(partition, after)
                written = True
        if written:
            await self._flush()
        self.ticks_handled[partition] = self.ticks_handled.get(partition, 0) + 1

    async def _send(self, state: DeliveryState, published_at: float | None) -> DeliveryState:
        policy = self._policies.get(str(state.alert["contract_id"]), self._default)
        now = self._clock()
        notes = decide(
            state,
            alerting=policy.alerting,
            calendar=policy.calendar,
            routes=self.notifiers.routes,
            now=now,
        )
        if not notes:
            return state
        results = await asyncio.gather(*(self._deliver(note, published_at) for note in notes))
        for note, ok in zip(notes, results, strict=True):
            state = record(state, note, ok=ok, now=now)
            log.info(
                "notification_delivered" if ok else "notification_failed",
                sink=note.sink,
                action=note.action,
                level=note.level,
                fingerprint=note.fingerprint,
                contract=state.alert["contract_id"],
                objective=state.alert["objective_id"],
            )
        return state


def attach_notifier(
    app: Any,
    settings: Settings,
    metrics: Metrics,
    *,
    notifiers: Notifiers | None = None,
    agreements: Sequence[Agreement] | None = None,
) -> Notifier:
    """Add the notifier agent, its table and its tick timer to a Faust app (before it starts).

    ``notifiers`` defaults to ``settings.notifiers_file``, ``agreements`` to the files
    in ``settings.rules_dir``; both errors are raised here, before anything runs.
    """
    if notifiers is None:
        if settings.notifiers_file is None:
            raise ValueError("attach_notifier needs settings.notifiers_file or notifiers")
        notifiers = load_notifiers(settings.notifiers_file)
    if agreements is None:
        agreements = _load_agreements(settings)
    topics = settings.topics
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(topics.alerts, topics.notifier_ticks, internal=True, **raw)
    dead_topic = app.topic(topics.notifications_deadletter, internal=True, **raw)
    table = app.Table(TABLE, default=None, key_type=str, value_type=bytes)

    async def dead_letter(letter: DeadLetter) -> None:
        await dead_topic.maybe_declare()
        value = json.dumps(letter.to_json(), ensure_ascii=False).encode("utf-8")
        key = letter.notification.fingerprint.encode()
        await app.producer.send(topics.notifications_deadletter, key, value, None, None, None)

    http = _Http(notifiers, dead_letter, metrics)

    async def deliver(note: Notification, published_at: float | None) -> bool:
        return await http.deliverer().deliver(notifiers.sinks[note.sink], note, published_at)

    async def flush() -> None:
        await app.producer.flush()

    notifier = Notifier(notifiers, agreements, deliver=deliver, flush=flush)

    async def notifier_agent(stream: Any) -> None:
        try:
            async for event in stream.events():
                message = event.message
                if message.topic == topics.notifier_ticks:
                    await notifier.on_tick(table, message.partition)
                else:
                    published = message.timestamp if message.timestamp else None
                    await notifier.on_alert(table, message.value, message.partition, published)
        finally:
            await http.close()

    app.agent(source, name="slamon-notifier", concurrency=1)(notifier_agent)
    _rewind_uncommitted_alerts(app, topics.alerts)

    async def tick() -> None:
        try:
            assigned = set(app.consumer.assignment())
        except Exception:  # consumer not started yet
            return
        owned = sorted({tp.partition for tp in assigned if tp.topic == topics.notifier_ticks})
        for partition in owned:
            await app.producer.send(topics.notifier_ticks, None, b"tick", partition, None, None)

    app.timer(settings.tick_interval_s, on_leader=False, name="slamon-notifier-ticks")(tick)
    for name, sink in notifiers.sinks.items():
        metrics.notifications_pending.labels(name)
        for outcome in ("sent", "retry", "failed", "dead_letter"):
            metrics.notifications.labels(name, outcome)
        metrics.notification_retries.labels(name)
        log.info("notifier_sink", sink=name, type=sink.kind)
    return notifier


def notifier_attachments(
    settings: Settings, agreements: Sequence[Agreement], metrics: Metrics
) -> list[Callable[[Any], None]]:
    """For the worker: ``[attach]`` when ``settings.notifiers_file`` is set, else ``[]``.

    The file is loaded here, so a bad file stops ``slamon run`` before it starts.
    """
    if settings.notifiers_file is None:
        return []
    notifiers = load_notifiers(settings.notifiers_file)

    def attach(app: Any) -> None:
        attach_notifier(app, settings, metrics, notifiers=notifiers, agreements=agreements)

    return [attach]


def _rewind_uncommitted_alerts(app: Any, alerts_topic: str) -> None:
    """After each rebalance, read alert partitions without a committed offset from the start.

    Faust fetches while it recovers tables and then seeks back to the committed
    offsets; a partition with none keeps the position it had fetched to, so the
    alerts read during recovery were silently skipped (seen on a restart after
    ``kill -9`` before the first commit). Re-reading is safe: every alert is
    de-duplicated against the table. Chains any ``on_resumed`` hook set before.
    """
    previous = app.on_resumed

    async def on_resumed() -> None:
        if previous is not None:
            await previous()
        consumer = app.consumer
        committed = await consumer.seek_to_committed()  # where perform_seek just put them
        rewind = [
            tp for tp in consumer.assignment() if tp.topic == alerts_topic and not committed.get(tp)
        ]
        if not rewind:
            return
        earliest = await consumer.earliest_offsets(*rewind)
        for tp in rewind:
            await consumer.seek(tp, int(earliest.get(tp) or 0))
        log.info("notifier_rewound", partitions=sorted(tp.partition for tp in rewind))

    app.on_resumed = on_resumed


class _Http:
    """One HTTP client and deliverer per running agent, made inside its event loop."""

    def __init__(
        self,
        notifiers: Notifiers,
        dead_letter: Callable[[DeadLetter], Awaitable[None]],
        metrics: Metrics,
    ) -> None:
        self._notifiers = notifiers
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._client: httpx.AsyncClient | None = None
        self._deliverer: Deliverer | None = None

    def deliverer(self) -> Deliverer:
        if self._deliverer is None:
            self._client = httpx.AsyncClient()
            self._deliverer = Deliverer(
                self._client,
                policy=self._notifiers.retry,
                dead_letter=self._dead_letter,
                metrics=self._metrics,
            )
        return self._deliverer

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = self._deliverer = None


def _load_agreements(settings: Settings) -> list[Agreement]:
    from monitor.domain.errors import MonitorError
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules([settings.rules_dir])
    if problems:
        raise MonitorError(
            f"{len(problems)} problem(s) in {settings.rules_dir}: " + "; ".join(map(str, problems))
        )
    return agreements


def _policy(agreement: Agreement) -> _Policy:
    calendars = agreement.calendars
    calendar = calendars.get("business") or next(iter(calendars.values()), None)
    return _Policy(agreement.alerting, calendar)


def _decode_alert(value: bytes) -> dict[str, Any] | None:
    try:
        alert = json.loads(value)
    except (ValueError, TypeError):
        log.error("notifier_bad_alert", reason="not JSON")
        return None
    if not isinstance(alert, dict) or any(name not in alert for name in _REQUIRED):
        log.error("notifier_bad_alert", reason="missing fields")
        return None
    if alert["state"] not in _STATES:
        log.error("notifier_bad_alert", reason=f"unknown state {str(alert['state'])[:20]!r}")
        return None
    try:
        parse_instant(str(alert["event_time"]))
    except ValueError:
        log.error("notifier_bad_alert", reason="event_time is not RFC 3339 with an offset")
        return None
    return alert


def _load(raw: bytes | None) -> DeliveryState | None:
    if raw is None:
        return None
    return DeliveryState.from_json(json.loads(raw)["state"])


def _dump(partition: int, state: DeliveryState) -> bytes:
    return json.dumps({"partition": partition, "state": state.to_json()}).encode("utf-8")

"""The runtime state of one contract: window trackers, item clocks, period trackers.

The snapshot (``to_state``) holds only plain data: item logs, emitted-effect flags and
due instants, contact records, tracker sums. Everything else kept here is derived
from it and rebuilt lazily after ``load_state``: the per-item clock walkers (with
their cached timings and dues), the expiry heap, the objectives an item's fixed
attributes allow, and the minute the trackers were last brought to. Those caches
are what keeps the per-event work small: an event that changes no clock cycle of
its item costs no refresh, and a refresh recomputes only the walkers whose cycles
changed or whose due instant passed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any, Final

from monitor.domain import clocks
from monitor.domain.agreement import (
    Agreement,
    AvailabilityObjective,
    ItemObjective,
    WindowObjective,
)
from monitor.domain.alerts import Alert, Subject, format_instant
from monitor.domain.clocks import Cycle, CycleWalker, Effect, LogEntry
from monitor.domain.contacts import Contacts
from monitor.domain.events import EVENT_TYPES, Fields
from monitor.domain.expiry import ItemExpiry
from monitor.domain.observer import Observer, observe_item_effect
from monitor.domain.periods import AvailabilityTracker, ComplianceTracker, PeriodTracker
from monitor.domain.windows import (
    WindowTracker,
    survey_contribution,
)

ITEM_RETENTION: Final = 7 * 86400.0
_ELIGIBLE_CACHE_SIZE: Final = 4096
CALL, CHAT, TICKET = "call", "chat", "ticket"

_TICKET_OPS: Final = {
    "ticket.customer_reply": clocks.CUSTOMER_REPLY,
    "ticket.reopened": clocks.REOPEN,
}
_CHAT_OPS: Final = {
    "chat.agent_message": clocks.AGENT_REPLY,
    "chat.customer_message": clocks.CUSTOMER_REPLY,
    "chat.ended": clocks.END,
    "chat.abandoned": clocks.ABANDON,
}
_CALL_OPS: Final = {
    "call.answered": clocks.AGENT_REPLY,
    "call.abandoned": clocks.ABANDON,
    "call.ended": clocks.END,
}


class ContractRuntime:
    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.contract_id = agreement.contract_id
        labels = dict(agreement.labels)
        self.windows: dict[str, WindowTracker] = {}
        self.calls = Contacts([], [])
        self.chats = Contacts([], [])
        self.survey_windows: list[WindowTracker] = []
        self.item_objectives: dict[str, list[ItemObjective]] = {TICKET: [], CHAT: [], CALL: []}
        self.availability: dict[str, list[AvailabilityTracker]] = {}
        self.compliance: dict[str, ComplianceTracker] = {}
        self.periods: list[PeriodTracker] = []
        self.item_stats: dict[str, list[int]] = {}
        self.warn_at: dict[str, tuple[float, ...]] = {}
        for objective in agreement.objectives:
            if isinstance(objective, WindowObjective):
                self._add_window(objective, labels)
            elif isinstance(objective, ItemObjective):
                self._add_item_objective(objective, labels)
            elif isinstance(objective, AvailabilityObjective):
                tracker = AvailabilityTracker(
                    self.contract_id, objective, agreement.timezone, labels
                )
                self.availability.setdefault(objective.service, []).append(tracker)
                self.periods.append(tracker)
        self.window_list = list(self.windows.values())
        handlers = {"call": self._call, "chat": self._chat, "ticket": self._ticket}
        # by event type: handler(fields, ts, watermark) applies one event and returns
        # alerts only when a late event settles an item at once (after start_earlier)
        self.handlers: dict[str, Callable[[Fields, float, float], list[Alert]]] = {
            kind: handlers[family]
            for kind in EVENT_TYPES
            if (family := kind.partition(".")[0]) in handlers
        } | {"survey.response": self._survey, "service.status": self._service}
        self.items: dict[str, dict[str, Any]] = {}
        self._walkers: dict[str, list[CycleWalker]] = {}  # derived from the items' logs
        self._expiry = ItemExpiry()  # derived from the items' logs
        # derived: the minute every window and month tracker was last brought to
        self.trackers_minute: int | None = None
        # derived: some period tracker skipped quiet minutes up to trackers_minute
        self.periods_owed = False
        self._eligible_by_signature: dict[tuple[Any, ...], list[ItemObjective]] = {}
        self.due: list[tuple[float, str]] = []
        self.earliest = math.inf
        self.observer: Observer | None = None

    def _add_window(self, objective: WindowObjective, labels: dict[str, str]) -> None:
        tracker = WindowTracker(self.contract_id, objective, labels)
        self.windows[objective.id] = tracker
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

    def _add_item_objective(self, objective: ItemObjective, labels: dict[str, str]) -> None:
        self.item_objectives[TICKET].append(objective)
        channels = objective.match.channel or frozenset()
        if "chat" in channels:
            self.item_objectives[CHAT].append(objective)
        if "phone" in channels:
            self.item_objectives[CALL].append(objective)
        self.item_stats[objective.id] = [0, 0]
        self.warn_at[objective.id] = tuple(
            sorted(objective.warn_at or self.agreement.alerting.warn_at)
        )
        if objective.target is not None and objective.period == "month":
            tracker = ComplianceTracker(
                self.contract_id,
                objective,
                self.agreement.timezone,
                labels,
                self.agreement.alerting.min_volume,
            )
            self.compliance[objective.id] = tracker
            self.periods.append(tracker)

    # -- events ------------------------------------------------------------------

    def start_earlier(self, ts: float) -> None:
        """An event before every one so far: the month trackers start from it."""
        self.settle_periods()
        self.earliest = ts
        self.trackers_minute = None
        for tracker in self.periods:
            tracker.start_at(ts)

    def _service(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        self.settle_periods()
        for availability in self.availability.get(event["service"], ()):
            availability.record(ts, event["status"], event["event_id"])
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
        kind = event["type"]
        call_id = event["call_id"]
        if kind == "call.offered":
            self.calls.offered(call_id, ts, event["queue"], event["attributes"])
            op = clocks.CREATE
        elif kind == "call.ended":
            self.calls.ended(call_id, ts, event["handle_s"])
            op = clocks.END
        else:
            answered = kind == "call.answered"
            self.calls.left(
                call_id,
                ts,
                answered=answered,
                wait_s=event["wait_s"],
                queue=event["queue"],
                attrs=event["attributes"],
            )
            op = _CALL_OPS[kind]
        if not self.item_objectives[CALL]:
            return []
        arg = (
            ["phone", None, None, event["queue"], event["attributes"]]
            if op == clocks.CREATE
            else None
        )
        return self._item_event(
            CALL, call_id, [ts, clocks.RANK[op], event["event_id"], op, arg], watermark
        )

    def _chat(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        kind = event["type"]
        chat_id = event["chat_id"]
        if kind == "chat.started":
            self.chats.offered(chat_id, ts, event["queue"], event["attributes"])
            op = clocks.CREATE
        else:
            op = _CHAT_OPS[kind]
            if kind == "chat.ended":
                self.chats.ended(chat_id, ts, None)
            elif kind != "chat.customer_message" and not self.chats.has_left(chat_id):
                self.chats.left(
                    chat_id,
                    ts,
                    answered=kind == "chat.agent_message",
                    wait_s=None,
                    queue=event["queue"],
                    attrs=event["attributes"],
                )
        if not self.item_objectives[CHAT]:
            return []
        arg = (
            ["chat", None, None, event["queue"], event["attributes"]]
            if op == clocks.CREATE
            else None
        )
        return self._item_event(
            CHAT, chat_id, [ts, clocks.RANK[op], event["event_id"], op, arg], watermark
        )

    def _ticket(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        kind = event["type"]
        arg: Any = None
        if kind == "ticket.created":
            op = clocks.CREATE
            arg = [
                event["channel"],
                event["priority"],
                event["category"],
                event["queue"],
                event["attributes"],
            ]
        elif kind == "ticket.agent_reply":
            if not event["public"]:
                return []
            op = clocks.AGENT_REPLY
        elif kind == "ticket.status_changed":
            op, arg = clocks.STATUS, event["status"]
        elif kind == "ticket.priority_changed":
            op, arg = clocks.PRIORITY, event["priority"]
        else:
            op = _TICKET_OPS[kind]
        if not self.item_objectives[TICKET]:
            return []
        return self._item_event(
            TICKET, event["ticket_id"], [ts, clocks.RANK[op], event["event_id"], op, arg], watermark
        )

    # -- item clocks -------------------------------------------------------------

    def _item_event(
        self, kind: str, item_id: str, entry: LogEntry, watermark: float
    ) -> list[Alert]:
        key = f"{kind}:{item_id}"
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = {"log": [], "fx": {}, "due": None}
        log = item["log"]
        if not log or log[-1][0] < entry[0] or _comes_before(log[-1], entry):
            log.append(entry)
            if len(log) == 1:
                self._expiry.added(key, entry[0])
            walkers = self._walkers.get(key)
            if walkers is not None:
                changed = False
                for walker in walkers:
                    if walker.feed(entry):
                        changed = True
                if not changed:
                    # Same cycles as at the item's last refresh, and nothing of theirs was
                    # due since (the due heap would have woken it): nothing new to decide.
                    return []
        else:
            clocks.insert_entry(log, entry)
            self._walkers.pop(key, None)
        alerts: list[Alert] = []
        self._refresh(key, kind, item, watermark, alerts)
        return alerts

    def item_walkers(
        self, key: str, kind: str, log: list[LogEntry], *, keep: bool = True
    ) -> list[CycleWalker]:
        """The item's clock machines per objective, derived from its log once and kept."""
        walkers = self._walkers.get(key)
        if walkers is None:
            checked = log[0][3] == clocks.CREATE  # then _eligible checked its attributes
            walkers = [
                CycleWalker(objective, checked=checked) for objective in self._eligible(kind, log)
            ]
            for entry in log:
                for walker in walkers:
                    walker.feed(entry)
            if keep:
                self._walkers[key] = walkers
        return walkers

    def _eligible(self, kind: str, log: list[LogEntry]) -> list[ItemObjective]:
        """The objectives an item can ever meet, known once its log starts with its creation."""
        objectives = self.item_objectives[kind]
        first = log[0]
        if first[3] != clocks.CREATE:
            return objectives
        channel, _priority, category, queue, labels = first[4]
        signature = (kind, channel, category, queue, tuple(labels.items()))
        eligible = self._eligible_by_signature.get(signature)
        if eligible is None:
            if len(self._eligible_by_signature) >= _ELIGIBLE_CACHE_SIZE:
                self._eligible_by_signature.clear()
            attrs = clocks.Attributes(channel, None, category, queue, labels)
            eligible = [o for o in objectives if not clocks.excluded_for_good(o, attrs)]
            self._eligible_by_signature[signature] = eligible
        return eligible

    def _refresh(
        self, key: str, kind: str, item: dict[str, Any], watermark: float, alerts: list[Alert]
    ) -> None:
        log = item["log"]
        fx: dict[str, list[int]] = item["fx"]
        next_due: float | None = None
        walkers = self._walkers.get(key)
        if walkers is None:
            walkers = self.item_walkers(key, kind, log)
        for walker in walkers:
            walker_due = walker.due
            # A fresh walker has the same cycles as when its due was computed: nothing to
            # decide before that due.
            if not walker.fresh or (walker_due is not None and walker_due < watermark):
                if walker.dead:
                    continue
                walker_due = self._refresh_walker(key, kind, log, fx, walker, watermark, alerts)
            if walker_due is not None and (next_due is None or walker_due < next_due):
                next_due = walker_due
        item["due"] = next_due
        if next_due is not None:
            heapq.heappush(self.due, (next_due, key))

    def _refresh_walker(
        self,
        key: str,
        kind: str,
        log: list[LogEntry],
        fx: dict[str, list[int]],
        walker: CycleWalker,
        watermark: float,
        alerts: list[Alert],
    ) -> float | None:
        """Decide the walker's cycles by ``watermark``; returns its next due instant."""
        walker_due: float | None = None
        objective = walker.objective
        warn_at = self.warn_at[objective.id]
        effects: list[Effect] = []
        for cycle in walker.cycles:
            if cycle.active_from is None:
                continue
            flag_key = cycle.flag
            flags = fx.get(flag_key)
            stored = flags is not None
            if flags is None:
                flags = clocks.new_flags()
            elif _settled(cycle, flags, watermark):
                continue
            due = clocks.cycle_effects(cycle, objective, flags, watermark, warn_at, effects)
            if not stored and any(flags):
                fx[flag_key] = flags
            if effects:
                for effect in effects:
                    self._item_effect(
                        kind, key[len(kind) + 1 :], log, objective, cycle, effect, alerts
                    )
                effects.clear()
            if due is not None and (walker_due is None or due < walker_due):
                walker_due = due
        walker.due, walker.fresh = walker_due, True
        return walker_due

    def _item_effect(
        self,
        kind: str,
        item_id: str,
        log: list[LogEntry],
        objective: ItemObjective,
        cycle: Cycle,
        effect: Effect,
        alerts: list[Alert],
    ) -> None:
        warn_at = self.warn_at[objective.id]
        if self.observer is not None:
            timing = clocks.cycle_timing(cycle, objective, warn_at)
            observe_item_effect(
                self.observer, self, kind, item_id, log, objective, cycle, timing, effect
            )
        stats = self.item_stats[objective.id]
        compliance = self.compliance.get(objective.id)
        if compliance is not None and self.periods_owed:
            self.settle_periods()
        if effect.kind == "met":
            stats[0] += 1
            if compliance is not None:
                compliance.record(effect.instant, True)
            return
        if effect.kind == "breached":
            stats[1] += 1
            if compliance is not None:
                compliance.record(effect.instant, False)
        timing = clocks.cycle_timing(cycle, objective, warn_at)
        attrs = clocks.item_attributes(log, effect.instant)
        queue = attrs.queue if attrs is not None else None
        share = effect.share
        if effect.kind == "resolved":
            share = clocks.used_share(cycle, objective.calendar, timing.budget, effect.instant)
        due = timing.deadline
        if effect.kind == "at_risk":
            due = clocks.deadline_as_of(cycle, objective, effect.instant)
        deadline = "n/a" if due is None else format_instant(due)
        noun = {
            "first_response": "first response",
            "next_response": "next response",
            "resolution": "resolution",
        }[objective.kind]
        summary = {
            "at_risk": f"{kind} {item_id}: {share or 0:.0%} of the {objective.within} {noun} "
            f"time used, due {deadline}",
            "breached": f"{kind} {item_id}: {noun} deadline ({objective.within}) missed at "
            f"{deadline}",
            "resolved": f"{kind} {item_id}: {noun} done",
        }[effect.kind]
        extra = {
            "deadline": deadline,
            "within": str(objective.within),
            "started": format_instant(cycle.start),
        }
        if attrs is not None:
            extra.update(
                {
                    name: value
                    for name, value in (
                        ("channel", attrs.channel),
                        ("priority", attrs.priority),
                        ("category", attrs.category),
                    )
                    if value
                }
            )
        alerts.append(
            Alert(
                contract_id=self.contract_id,
                objective_id=objective.id,
                state=effect.kind,  # type: ignore[arg-type]
                severity="warning" if effect.kind == "at_risk" else "critical",
                subject=Subject(kind, item_id, queue),  # type: ignore[arg-type]
                observed=share,
                target=1.0,
                event_time=effect.instant,
                summary=f"{self.contract_id}/{objective.id}: {summary}",
                description=objective.clause,
                labels=dict(self.agreement.labels),
                extra=extra,
            )
        )

    # -- time --------------------------------------------------------------------

    def advance(self, watermark: float, alerts: list[Alert]) -> None:
        due = self.due
        if due and due[0][0] < watermark:
            refreshed: set[str] = set()
            while due and due[0][0] < watermark:
                instant, key = heapq.heappop(due)
                item = self.items.get(key)
                if item is None or item["due"] != instant or key in refreshed:
                    continue
                refreshed.add(key)
                self._refresh(key, key.partition(":")[0], item, watermark, alerts)
        minute = math.floor(watermark // 60)
        if minute == self.trackers_minute:
            return  # trackers were brought to this minute and no start moved since
        for tracker in self.window_list:
            boundary = tracker.next_boundary
            if boundary is None or boundary <= minute:
                tracker.advance(watermark, alerts)
        for period in self.periods:
            next_minute = period.next_minute
            if next_minute is not None and next_minute < minute:
                if minute <= period.quiet_until and period.observer is None:
                    self.periods_owed = True  # quiet minutes: accounted when next looked at
                    continue
                period.advance(watermark, alerts)
        self.trackers_minute = minute

    def settle_periods(self) -> None:
        """Account the quiet minutes :meth:`advance` let period trackers skip.

        A quiet minute (see ``PeriodTracker._quiet_horizon``) only adds to totals and can
        raise no alert, so it is accounted when the tracker is next read or written: a
        record, a status, a report, a snapshot. Most minutes of most trackers are quiet.
        """
        if not self.periods_owed:
            return
        self.periods_owed = False
        minute = self.trackers_minute
        if minute is None:
            return
        for period in self.periods:
            period.settle_quiet(minute)

    def cleanup(self, watermark: float, horizon: float) -> None:
        self.calls.forget_before(horizon)
        self.chats.forget_before(horizon)
        retention = watermark - ITEM_RETENTION
        for key in self._expiry.expired(self.items, retention, _finished_item):
            del self.items[key]
            self._walkers.pop(key, None)

    def to_state(self) -> dict[str, Any]:
        self.settle_periods()
        return {
            "windows": {oid: t.to_state() for oid, t in self.windows.items()},
            "periods": {p.objective_id: p.to_state() for p in self.periods},
            "items": self.items,
            "due": [list(entry) for entry in self.due],
            "calls": self.calls.to_state(),
            "chats": self.chats.to_state(),
            "item_stats": self.item_stats,
            "earliest": None if math.isinf(self.earliest) else self.earliest,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        for oid, tracker_state in state["windows"].items():
            if oid in self.windows:
                self.windows[oid].load_state(tracker_state)
        saved = state["periods"]
        if isinstance(saved, list):  # older snapshots: trackers in agreement order
            saved = {p.objective_id: st for p, st in zip(self.periods, saved, strict=False)}
        for tracker in self.periods:
            if tracker.objective_id in saved:
                tracker.load_state(saved[tracker.objective_id])
        self.items = state["items"]
        self._walkers.clear()
        self.trackers_minute = None
        self.periods_owed = False
        self._expiry.rebuild(self.items)
        self.due = [(entry[0], entry[1]) for entry in state["due"]]
        heapq.heapify(self.due)
        self.calls.load_state(state["calls"])
        self.chats.load_state(state["chats"])
        for oid, stats in state["item_stats"].items():
            if oid in self.item_stats:
                self.item_stats[oid] = list(stats)
        self.earliest = math.inf if state["earliest"] is None else state["earliest"]


def _comes_before(entry: LogEntry, other: LogEntry) -> bool:
    """Log order: by time, then rank, then event id."""
    ts: float = entry[0]
    other_ts: float = other[0]
    if ts != other_ts:
        return ts < other_ts
    rank: int = entry[1]
    other_rank: int = other[1]
    if rank != other_rank:
        return rank < other_rank
    event_id: str = entry[2]
    other_event_id: str = other[2]
    return event_id < other_event_id


def _settled(cycle: Cycle, flags: list[int], watermark: float) -> bool:
    """Nothing more can happen to this cycle: skip the calendar work."""
    finish = cycle.finish
    if finish is None or finish >= watermark:
        return False
    if flags[clocks.ALERTED] and not flags[clocks.RESOLVED]:
        return False
    return bool(flags[clocks.DECIDED])


def _finished_item(item: dict[str, Any]) -> bool:
    return _finished(item["log"])


def _finished(log: list[LogEntry]) -> bool:
    status = None
    has_create = False
    for _ts, _rank, _eid, op, arg in log:
        if op == clocks.CREATE:
            has_create = True
        elif op == clocks.STATUS:
            status = arg
        elif op in (clocks.END, clocks.ABANDON):
            status = "closed"
        elif op == clocks.REOPEN:
            status = "open"
    return not has_create or status in clocks.DONE_STATUSES

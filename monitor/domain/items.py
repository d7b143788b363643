"""Per-item SLA clocks of one contract: each item's log, its emitted effects, what is due.

An item (ticket, chat or call) is an :class:`Item`: its log of events sorted by event
time, the flags of what each of its clock cycles already emitted, and the next instant
something of it is due. Everything else kept here is derived from the items and
rebuilt lazily after :meth:`ItemClocks.load_state`: the per-item clock walkers (with
their cached timings and dues), the expiry heap and the objectives an item's fixed
attributes allow. Those caches keep the per-event work small: an event that changes
no clock cycle of its item costs no refresh, and a refresh recomputes only the
walkers whose cycles changed or whose due instant passed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from monitor.domain import clocks
from monitor.domain.agreement import Agreement, ItemObjective
from monitor.domain.alerts import Alert, Subject, format_instant
from monitor.domain.clocks import CREATE, Cycle, CycleFlags, CycleWalker, Effect, LogEntry
from monitor.domain.events import Fields
from monitor.domain.expiry import ItemExpiry
from monitor.domain.observer import Observer, observe_item_effect
from monitor.domain.periods import PeriodTracker
from monitor.domain.status import (
    AT_RISK,
    BREACHED,
    NO_BUDGET,
    OK,
    ObjectiveStatus,
    report_entry,
)

ITEM_RETENTION: Final = 7 * 86400.0
_ELIGIBLE_CACHE_SIZE: Final = 4096
CALL, CHAT, TICKET = "call", "chat", "ticket"
_NOUNS: Final = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}

_TICKET_OPS: Final = {
    "ticket.agent_reply": clocks.AGENT_REPLY,
    "ticket.customer_reply": clocks.CUSTOMER_REPLY,
    "ticket.reopened": clocks.REOPEN,
}
_CHAT_OPS: Final = {
    "chat.started": clocks.CREATE,
    "chat.agent_message": clocks.AGENT_REPLY,
    "chat.customer_message": clocks.CUSTOMER_REPLY,
    "chat.ended": clocks.END,
    "chat.abandoned": clocks.ABANDON,
}
_CALL_OPS: Final = {
    "call.offered": clocks.CREATE,
    "call.answered": clocks.AGENT_REPLY,
    "call.abandoned": clocks.ABANDON,
    "call.ended": clocks.END,
}

_NO_LABELS: Final[dict[str, str]] = {}
"""Shared by every item created without labels (never mutated: copied where changed)."""

Decided = Callable[[str, float, bool], None]
"""Told of every clock counted as met or missed: (objective id, instant, met)."""


@dataclass(slots=True)
class Item:
    """One ticket, chat or call: its sorted log, emitted flags per cycle, next due instant.

    ``flags`` is None until a cycle of the item emits something (most open items never
    do); ``walkers`` are derived from the log, made when first needed and not saved.
    """

    log: list[LogEntry] = field(default_factory=list)
    flags: dict[str, CycleFlags] | None = None
    due: float | None = None
    walkers: tuple[CycleWalker, ...] | None = None

    def to_state(self) -> dict[str, Any]:
        flags = self.flags or {}
        return {
            "log": self.log,
            "fx": {key: cycle_flags.to_state() for key, cycle_flags in flags.items()},
            "due": self.due,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Item:
        saved_flags = state["fx"]
        return cls(
            [clocks.entry_from_state(entry) for entry in state["log"]],
            {key: CycleFlags.from_state(saved) for key, saved in saved_flags.items()}
            if saved_flags
            else None,
            state["due"],
        )

    @property
    def finished(self) -> bool:
        """Created and then solved, closed or ended (an item never created is finished)."""
        status = None
        has_create = False
        for entry in self.log:
            op = entry.op
            if op == clocks.CREATE:
                has_create = True
            elif op == clocks.STATUS:
                status = entry.arg
            elif op in (clocks.END, clocks.ABANDON):
                status = "closed"
            elif op == clocks.REOPEN:
                status = "open"
        return not has_create or status in clocks.DONE_STATUSES


@dataclass(slots=True)
class ItemStats:
    """Clocks of one objective counted so far."""

    met: int = 0
    missed: int = 0


@dataclass(slots=True)
class ItemTally:
    """Item clocks of one objective at the watermark."""

    open: int = 0
    at_risk: int = 0
    open_warnings: int = 0
    open_breaches: int = 0


class ItemObjectiveTracker:
    """One item objective's status and report, from the contract's item clocks.

    With a monthly target (``period: month``) the month's compliance tracker gives the
    value, the budget and its burn rates; without, the value is the share of items
    decided in time so far.
    """

    __slots__ = ("clocks", "compliance", "objective")

    def __init__(
        self, clocks: ItemClocks, objective: ItemObjective, compliance: PeriodTracker | None
    ) -> None:
        self.clocks = clocks
        self.objective = objective
        self.compliance = compliance

    def objective_status(self, watermark: float) -> ObjectiveStatus:
        objective = self.objective
        stats = self.clocks.stats[objective.id]
        tally = self.clocks.tallies(watermark)[objective.id]
        decided = stats.met + stats.missed
        value = stats.met / decided if decided else None
        budget, month_state = NO_BUDGET, OK
        if self.compliance is not None:
            budget, month_state = self.compliance.budget_at(watermark), self.compliance.open_state
            value = budget.value
        if tally.open_breaches or month_state == BREACHED:
            state = BREACHED
        elif tally.open_warnings or month_state == AT_RISK:
            state = AT_RISK
        else:
            state = OK
        target = objective.target
        return ObjectiveStatus(
            contract_id=self.clocks.contract_id,
            objective_id=objective.id,
            kind=objective.kind,
            value=value,
            target=1.0 if target is None else target.value,
            comparator=">=" if target is None else target.comparator,
            status=state,
            open_items=tally.open,
            at_risk_items=tally.at_risk,
            breaches=stats.missed,
            budget_remaining=budget.remaining,
            burn_rate_fast=budget.fast,
            burn_rate_slow=budget.slow,
        )

    def report(self) -> dict[str, Any]:
        """The share of items decided in time; met when it reaches the target (or, without
        one, when no item missed)."""
        objective = self.objective
        stats = self.clocks.stats[objective.id]
        samples = stats.met + stats.missed
        value = stats.met / samples if samples else None
        target = objective.target
        met: bool | None = None
        if value is not None:
            met = stats.missed == 0 if target is None else target.met(value)
        entry = report_entry(
            objective.kind,
            value,
            1.0 if target is None else target.value,
            ">=" if target is None else target.comparator,
            met,
            samples,
            stats.missed,
        )
        if self.compliance is not None:
            entry["months"] = self.compliance.months_report()
        return entry


class ItemClocks:
    """The item objectives of one contract and the clocks of its items."""

    def __init__(self, agreement: Agreement, decided: Decided) -> None:
        self.contract_id = agreement.contract_id
        self._labels = dict(agreement.labels)
        self._default_warn_at = agreement.alerting.warn_at
        self._decided = decided
        self.objectives: dict[str, list[ItemObjective]] = {TICKET: [], CHAT: [], CALL: []}
        self.stats: dict[str, ItemStats] = {}
        self._warn_at: dict[str, tuple[float, ...]] = {}
        self.items: dict[str, Item] = {}
        self.due: list[tuple[float, str]] = []  # a heap; entries go stale, items hold the truth
        self.observer: Observer | None = None
        self._expiry = ItemExpiry()  # derived from the items' logs
        self._eligible_by_signature: dict[tuple[Any, ...], list[ItemObjective]] = {}
        self._changes = 0  # counts what may change the tallies, so they can be cached
        self._tallies: tuple[float, int, dict[str, ItemTally]] | None = None
        #: with ``track_changes``: the keys of the items changed (or forgotten) since the
        #: caller last cleared it (off in replay, where nothing clears it)
        self.track_changes = False
        self.changed: set[str] = set()

    def __len__(self) -> int:
        """How many items are held (open, or finished within the retention)."""
        return len(self.items)

    def add_objective(self, objective: ItemObjective) -> None:
        self.objectives[TICKET].append(objective)
        channels = objective.match.channel or frozenset()
        if "chat" in channels:
            self.objectives[CHAT].append(objective)
        if "phone" in channels:
            self.objectives[CALL].append(objective)
        self.stats[objective.id] = ItemStats()
        self._warn_at[objective.id] = tuple(sorted(objective.warn_at or self._default_warn_at))

    # -- events ------------------------------------------------------------------

    def apply_ticket(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        if not self.objectives[TICKET]:
            return []
        kind = event["type"]
        arg: Any = None
        if kind == "ticket.created":
            op = clocks.CREATE
            arg = clocks.Creation(
                event["channel"],
                event["priority"],
                event["category"],
                event["queue"],
                _labels(event),
            )
        elif kind == "ticket.status_changed":
            op, arg = clocks.STATUS, event["status"]
        elif kind == "ticket.priority_changed":
            op, arg = clocks.PRIORITY, event["priority"]
        elif kind == "ticket.agent_reply" and not event["public"]:
            return []  # a private note answers nobody
        else:
            op = _TICKET_OPS[kind]
        entry = LogEntry(ts, clocks.RANK[op], event["event_id"], op, arg)
        return self.event(TICKET, event["ticket_id"], entry, watermark)

    def apply_call(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        """A call is an item only for objectives that select the phone channel."""
        if not self.objectives[CALL]:
            return []
        op = _CALL_OPS[event["type"]]
        arg = None
        if op == CREATE:
            arg = clocks.Creation("phone", None, None, event["queue"], _labels(event))
        entry = LogEntry(ts, clocks.RANK[op], event["event_id"], op, arg)
        return self.event(CALL, event["call_id"], entry, watermark)

    def apply_chat(self, event: Fields, ts: float, watermark: float) -> list[Alert]:
        """A chat is an item only for objectives that select the chat channel."""
        if not self.objectives[CHAT]:
            return []
        op = _CHAT_OPS[event["type"]]
        arg = None
        if op == CREATE:
            arg = clocks.Creation("chat", None, None, event["queue"], _labels(event))
        entry = LogEntry(ts, clocks.RANK[op], event["event_id"], op, arg)
        return self.event(CHAT, event["chat_id"], entry, watermark)

    def event(self, kind: str, item_id: str, entry: LogEntry, watermark: float) -> list[Alert]:
        """Add one entry to an item's log; the alerts a late entry settles at once."""
        self._changes += 1
        key = f"{kind}:{item_id}"
        if self.track_changes:
            self.changed.add(key)
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = Item()
        log = item.log
        if not log or log[-1][0] < entry[0] or _comes_before(log[-1], entry):
            log.append(entry)
            if len(log) == 1:
                self._expiry.added(key, entry[0])
            walkers = item.walkers
            if walkers is not None:
                if entry.op == clocks.PRIORITY and self._may_add_objectives(kind, walkers, entry):
                    item.walkers = None  # derived again from the log with the new objective
                else:
                    changed = False
                    for walker in walkers:
                        if walker.feed(entry):
                            changed = True
                    if not changed:
                        # Same cycles as at the item's last refresh, and nothing of theirs
                        # was due since (the due heap would have woken it): nothing to decide.
                        return []
        else:
            clocks.insert_entry(log, entry)
            item.walkers = None
        alerts: list[Alert] = []
        self._refresh(key, kind, item, watermark, alerts)
        return alerts

    # -- time --------------------------------------------------------------------

    def advance(self, watermark: float, alerts: list[Alert]) -> None:
        """Refresh the items something of which fell due before ``watermark``."""
        due = self.due
        if not due or due[0][0] >= watermark:
            return
        self._changes += 1
        refreshed: set[str] = set()
        while due and due[0][0] < watermark:
            instant, key = heapq.heappop(due)
            item = self.items.get(key)
            if item is None or item.due != instant or key in refreshed:
                continue
            refreshed.add(key)
            if self.track_changes:
                self.changed.add(key)
            self._refresh(key, key.partition(":")[0], item, watermark, alerts)

    def forget_finished(self, watermark: float) -> None:
        """Forget finished items with nothing due whose last event is past the retention."""
        self._changes += 1
        retention = watermark - ITEM_RETENTION
        for key in self._expiry.expired(self.items, retention, _finished_item):
            del self.items[key]
            if self.track_changes:
                self.changed.add(key)

    # -- views -------------------------------------------------------------------

    def tallies(self, watermark: float) -> dict[str, ItemTally]:
        """Running clocks and open item alerts per item objective, from the items' state.

        One walk over the items serves every objective: the result is kept until an
        item changes or the watermark moves.
        """
        cached = self._tallies
        if cached is not None and cached[:2] == (watermark, self._changes):
            return cached[2]
        tallies = self._tally(watermark)
        self._tallies = (watermark, self._changes, tallies)
        return tallies

    def _tally(self, watermark: float) -> dict[str, ItemTally]:
        tallies = {oid: ItemTally() for oid in self.stats}
        no_flags = CycleFlags()
        for key, item in self.items.items():
            stored_flags = item.flags or {}
            for walker in self._walkers_of(key.partition(":")[0], item, keep=False):
                if walker.dead:
                    continue
                tally = tallies[walker.objective.id]
                for cycle in walker.cycles:
                    active_from = cycle.active_from
                    if active_from is None or active_from > watermark:
                        continue
                    flags = stored_flags.get(walker.flag_key(cycle)) or no_flags
                    warn_at = self._warn_at[walker.objective.id]
                    if clocks.has_open_alert(cycle, walker.objective, flags, warn_at):
                        if flags.breached:
                            tally.open_breaches += 1
                        else:
                            tally.open_warnings += 1
                    finish = cycle.finish
                    running = finish is None or finish > watermark
                    if running and (
                        not cycle.lapses or clocks.applying_from(cycle, watermark) == watermark
                    ):
                        tally.open += 1
                        if flags.warned and not flags.breached:
                            tally.at_risk += 1
        return tallies

    # -- state -------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "items": {key: item.to_state() for key, item in self.items.items()},
            "due": [list(entry) for entry in self.due],
            "item_stats": {oid: [s.met, s.missed] for oid, s in self.stats.items()},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._changes += 1
        self.changed.clear()
        self.items = {key: Item.from_state(saved) for key, saved in state["items"].items()}
        self._expiry.rebuild(self.items)
        self.due[:] = [(entry[0], entry[1]) for entry in state["due"]]  # the same list: shared
        heapq.heapify(self.due)
        for oid, (met, missed) in state["item_stats"].items():
            if oid in self.stats:
                self.stats[oid] = ItemStats(met, missed)

    def item_state(self, key: str) -> dict[str, Any] | None:
        """One item's state record; None once it is forgotten (a tombstone)."""
        item = self.items.get(key)
        return None if item is None else item.to_state()

    def aggregate_state(self) -> dict[str, Any]:
        """What is not per item: the met and missed counts per objective."""
        return {oid: [s.met, s.missed] for oid, s in self.stats.items()}

    def load_items(self, items: dict[str, dict[str, Any]], stats: dict[str, Any]) -> None:
        """Load items record by record; the due heap is rebuilt from the items' dues."""
        self.load_state(
            {
                "items": items,
                "due": [[s["due"], key] for key, s in items.items() if s["due"] is not None],
                "item_stats": stats,
            }
        )

    # -- deciding ----------------------------------------------------------------

    def _walkers_of(self, kind: str, item: Item, *, keep: bool = True) -> tuple[CycleWalker, ...]:
        """The item's clock machines per objective, derived from its log once and kept."""
        walkers = item.walkers
        if walkers is None:
            log = item.log
            checked = log[0].op == clocks.CREATE  # then _eligible checked its attributes
            walkers = tuple(
                CycleWalker(objective, checked=checked) for objective in self._eligible(kind, log)
            )
            for entry in log:
                for walker in walkers:
                    walker.feed(entry)
            if keep:
                item.walkers = walkers
        return walkers

    def _eligible(self, kind: str, log: list[LogEntry]) -> list[ItemObjective]:
        """The objectives that can apply to an item, known once its log starts with its creation.

        Its fixed attributes (channel, category, queue, labels) must allow the objective,
        and so must one of the priorities it has had: a clock that never applied decides
        nothing, so it needs no walker until a priority change makes it apply (see
        :meth:`_may_add_objectives`).
        """
        objectives = self.objectives[kind]
        first = log[0]
        if first.op != clocks.CREATE:
            return objectives
        channel, priority, category, queue, labels = first.arg
        signature = (kind, channel, category, queue, tuple(labels.items()))  # all but priority
        eligible = self._eligible_by_signature.get(signature)
        if eligible is None:
            if len(self._eligible_by_signature) >= _ELIGIBLE_CACHE_SIZE:
                self._eligible_by_signature.clear()
            attrs = clocks.Attributes(channel, None, category, queue, labels)
            eligible = [o for o in objectives if not clocks.excluded_for_good(o, attrs)]
            self._eligible_by_signature[signature] = eligible
        priorities = {priority}
        priorities.update(entry.arg for entry in log if entry.op == clocks.PRIORITY)
        return [
            o
            for o in eligible
            if o.match.priority is None or not o.match.priority.isdisjoint(priorities)
        ]

    def _may_add_objectives(
        self, kind: str, walkers: tuple[CycleWalker, ...], entry: LogEntry
    ) -> bool:
        """Whether a priority change may make an objective apply that has no walker yet."""
        priority = entry.arg
        present = {walker.objective.id for walker in walkers}
        return any(
            o.match.priority is not None and priority in o.match.priority and o.id not in present
            for o in self.objectives[kind]
        )

    def _refresh(
        self, key: str, kind: str, item: Item, watermark: float, alerts: list[Alert]
    ) -> None:
        next_due: float | None = None
        walkers = item.walkers
        if walkers is None:
            walkers = self._walkers_of(kind, item)
        for walker in walkers:
            walker_due = walker.due
            # A fresh walker has the same cycles as when its due was computed: nothing to
            # decide before that due.
            if not walker.fresh or (walker_due is not None and walker_due < watermark):
                if walker.dead:
                    continue
                walker_due = self._refresh_walker(key, kind, item, walker, watermark, alerts)
            if walker_due is not None and (next_due is None or walker_due < next_due):
                next_due = walker_due
        item.due = next_due
        if next_due is not None:
            heapq.heappush(self.due, (next_due, key))

    def _refresh_walker(
        self,
        key: str,
        kind: str,
        item: Item,
        walker: CycleWalker,
        watermark: float,
        alerts: list[Alert],
    ) -> float | None:
        """Decide the walker's cycles by ``watermark``; returns its next due instant."""
        walker_due: float | None = None
        objective = walker.objective
        warn_at = self._warn_at[objective.id]
        effects: list[Effect] = []
        for cycle in walker.cycles:
            if cycle.active_from is None:
                continue
            stored_flags = item.flags
            flags = None if stored_flags is None else stored_flags.get(walker.flag_key(cycle))
            stored = flags is not None
            if flags is None:
                flags = CycleFlags()
            elif _settled(cycle, objective, flags, watermark, warn_at):
                continue
            due = clocks.cycle_effects(cycle, objective, flags, watermark, warn_at, effects)
            # Keep flags once any is set: every flag but ``warned`` is set with an effect.
            if not stored and (effects or flags.warned):
                if stored_flags is None:
                    stored_flags = item.flags = {}
                stored_flags[walker.flag_key(cycle)] = flags
            if effects:
                for effect in effects:
                    self._effect(kind, key[len(kind) + 1 :], item, objective, cycle, effect, alerts)
                effects.clear()
            if due is not None and (walker_due is None or due < walker_due):
                walker_due = due
        walker.due, walker.fresh = walker_due, True
        return walker_due

    def _effect(
        self,
        kind: str,
        item_id: str,
        item: Item,
        objective: ItemObjective,
        cycle: Cycle,
        effect: Effect,
        alerts: list[Alert],
    ) -> None:
        warn_at = self._warn_at[objective.id]
        if self.observer is not None:
            timing = clocks.cycle_timing(cycle, objective, warn_at)
            observe_item_effect(
                self.observer,
                self.contract_id,
                kind,
                item_id,
                item.log,
                objective,
                cycle,
                timing,
                effect,
            )
        if effect.kind == "met":
            self.stats[objective.id].met += 1
            self._decided(objective.id, effect.instant, True)
            return
        if effect.kind == "breached":
            self.stats[objective.id].missed += 1
            self._decided(objective.id, effect.instant, False)
        alerts.append(self._alert(kind, item_id, item, objective, cycle, effect))

    def _alert(
        self,
        kind: str,
        item_id: str,
        item: Item,
        objective: ItemObjective,
        cycle: Cycle,
        effect: Effect,
    ) -> Alert:
        timing = clocks.cycle_timing(cycle, objective, self._warn_at[objective.id])
        attrs = clocks.item_attributes(item.log, effect.instant)
        queue = attrs.queue if attrs is not None else None
        share = effect.share
        if effect.kind == "resolved":
            share = clocks.used_share(cycle, objective.calendar, timing.budget, effect.instant)
        # The deadline as it stood at the alert's own instant, so the text does not depend
        # on which later events had arrived (within the lateness) when it fired. A breach
        # fires at or after its deadline: every pause that shapes it is known by then.
        if effect.kind == "breached":
            due = timing.deadline
        else:
            due = clocks.deadline_as_of(cycle, objective, effect.instant)
        deadline = "n/a" if due is None else format_instant(due)
        noun = _NOUNS[objective.kind]
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
        return Alert(
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
            labels=dict(self._labels),
            extra=extra,
        )


def _labels(event: Fields) -> dict[str, str]:
    """The event's labels; one shared empty dict for the many items that have none."""
    labels: dict[str, str] = event["attributes"]
    return labels or _NO_LABELS


def _comes_before(entry: LogEntry, other: LogEntry) -> bool:
    """Log order: by time, then rank, then event id."""
    if entry.ts != other.ts:
        return entry.ts < other.ts
    if entry.rank != other.rank:
        return entry.rank < other.rank
    return entry.event_id < other.event_id


def _settled(
    cycle: Cycle,
    objective: ItemObjective,
    flags: CycleFlags,
    watermark: float,
    warn_at: tuple[float, ...],
) -> bool:
    """Nothing more can happen to this cycle: skip the calendar work."""
    finish = cycle.finish
    if finish is None or finish >= watermark or not flags.decided:
        return False
    return not clocks.has_open_alert(cycle, objective, flags, warn_at)


def _finished_item(item: Item) -> bool:
    return item.finished

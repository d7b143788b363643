"""Per-item SLA clocks (first_response, next_response, resolution).

An item (ticket, chat or call) keeps a small log of its events sorted by event
time. Its clocks are a pure function of that log: a :class:`CycleWalker` walks it
once per objective and yields *cycles* (a clock run from start to stop, with
pauses and the interval during which the objective applied). Because clocks are
derived from the sorted log, events that arrive out of order within the allowed
lateness give exactly the same deadlines and alerts.

Alerts and statistics are derived from the cycles and the watermark by
:func:`cycle_effects`; what was already emitted is remembered per cycle so that
re-deriving never repeats an alert.

On the hot path the engine keeps one :class:`CycleWalker` per item and objective:
an event appended at the end of the log (the common case) is one step of the
walk, and only an event that lands inside the log re-derives the item from
scratch. A cycle caches its :class:`Timing` until its pauses change; the calendar
work behind it is done only once a cheap lower bound (a *floor*) can no longer
decide, which most cycles, answered well before their first warning, never reach.
Walkers and timings are derived data: they are not part of the engine's snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from monitor.domain.agreement import BusinessTime, ItemObjective, Workdays
from monitor.domain.calendar import BusinessCalendar

# Log operations and their order among events with the same timestamp.
CREATE: Final = "create"
PRIORITY: Final = "prio"
STATUS: Final = "status"
CUSTOMER_REPLY: Final = "creply"
AGENT_REPLY: Final = "reply"
REOPEN: Final = "reopen"
END: Final = "end"
ABANDON: Final = "abandon"
RANK: Final[Mapping[str, int]] = {
    CREATE: 0,
    PRIORITY: 1,
    STATUS: 2,
    CUSTOMER_REPLY: 3,
    AGENT_REPLY: 4,
    REOPEN: 5,
    END: 6,
    ABANDON: 6,
}
DONE_STATUSES: Final = frozenset({"solved", "closed"})


class Creation(NamedTuple):
    """What an item's creation says of it (the ``arg`` of its ``CREATE`` log entry)."""

    channel: str | None
    priority: str | None
    category: str | None
    queue: str | None
    labels: dict[str, str]


class LogEntry(NamedTuple):
    """One event in an item's log; a log is sorted by ``(ts, rank, event_id)``.

    ``arg`` is what the operation needs: for ``CREATE`` a :class:`Creation`, for
    ``STATUS`` and ``PRIORITY`` the new value, else None.
    """

    ts: float
    rank: int
    event_id: str
    op: str
    arg: Any = None


def entry_from_state(saved: Sequence[Any]) -> LogEntry:
    """A log entry from its saved form (a JSON array; a creation's arg is one too)."""
    ts, rank, event_id, op, arg = saved
    if op == CREATE:
        arg = Creation(*arg)
    return LogEntry(ts, rank, event_id, op, arg)


@dataclass(slots=True)
class Attributes:
    channel: str | None
    priority: str | None
    category: str | None
    queue: str | None
    attributes: dict[str, str]


@dataclass(slots=True)
class Cycle:
    """One run of a clock: from ``start`` until ``stop`` (met-able) or ``ended``.

    The objective applies from ``active_from`` on, except during ``lapses``: spans
    ``(ended, applies again)`` in which a priority change had taken the item out of the
    objective. They are kept so that what happened before a lapse ends does not depend
    on whether the change back had arrived (within the lateness) when it was decided.
    """

    start: float
    active_from: float | None
    stop: float | None = None
    ended: float | None = None
    pauses: Sequence[list[float | None]] = ()  # [start, end or None]; a new list per pause
    lapses: Sequence[tuple[float, float]] = ()  # a new tuple per lapse
    timing: Timing | None = None  # cache: a function of start and pauses only, made when needed

    @property
    def finish(self) -> float | None:
        """When the clock stopped applying, whatever the reason."""
        return self.stop if self.stop is not None else self.ended


def insert_entry(log: list[LogEntry], entry: LogEntry) -> None:
    """Insert keeping the log sorted by (ts, rank, event_id)."""
    key = entry[:3]
    low, high = 0, len(log)
    while low < high:
        mid = (low + high) // 2
        if log[mid][:3] < key:
            low = mid + 1
        else:
            high = mid
    log.insert(low, entry)


def item_attributes(log: list[LogEntry], until: float) -> Attributes | None:
    """The item's attributes as of ``until`` (priority changes applied), if it was created."""
    attrs: Attributes | None = None
    for ts, _rank, _eid, op, arg in log:
        if ts > until:
            break
        if op == CREATE and attrs is None:
            attrs = Attributes(arg.channel, arg.priority, arg.category, arg.queue, dict(arg.labels))
        elif op == PRIORITY and attrs is not None:
            attrs.priority = arg
    return attrs


class CycleWalker:
    """The clock cycles of one objective, derived from a sorted log fed one entry at a time.

    An entry appended at the end of the log (the common case) costs one step instead
    of a walk of the whole log. ``dead`` says the item's fixed
    attributes (channel, category, queue, labels) exclude the objective for good:
    none of its cycles can ever apply. Once they are known to allow it, only the
    priority decides whether the objective applies.

    ``checked``: the caller already knows that the fixed attributes of the item's
    creation (the first entry it will feed) allow the objective.
    """

    __slots__ = (
        "checked",
        "created",
        "current",
        "cycles",
        "dead",
        "due",
        "fresh",
        "matched",
        "objective",
        "responded",
        "status",
    )

    def __init__(self, objective: ItemObjective, *, checked: bool = False) -> None:
        self.objective = objective
        self.checked = checked
        self.created = False
        self.matched = False
        self.status = "new"
        self.responded = False
        self.current: Cycle | None = None
        self.cycles: tuple[Cycle, ...] = ()  # most items have one: a tuple is the smallest
        self.dead = False
        # Kept by the owner: the next instant any cycle needs a look, valid while fresh
        # (fresh means: computed since the cycles last changed).
        self.due: float | None = None
        self.fresh = False

    def _start(self, ts: float) -> Cycle:
        cycle = Cycle(ts, ts if self.matched else None)
        if self.status in self.objective.pause_on:
            cycle.pauses = [[ts, None]]
        self.cycles = (*self.cycles, cycle)
        return cycle

    def flag_key(self, cycle: Cycle) -> str:
        """Where the effects a cycle emitted are remembered: ``"<objective id>|<start>"``.

        Made when needed, not kept: most open items never emit anything.
        """
        return f"{self.objective.id}|{cycle.start!r}"

    def _applies_at(self, priority: str | None) -> bool:
        allowed = self.objective.match.priority
        return allowed is None or priority in allowed

    def feed(self, entry: LogEntry) -> bool:
        """Step over one more entry; False when no cycle changed (nothing new to decide)."""
        if self.dead:
            return False
        ts, _rank, _eid, op, arg = entry
        kind = self.objective.kind
        current = self.current
        if op == CREATE:
            if self.created:
                return False
            self.created = True
            if not self.checked and excluded_for_good(
                self.objective,
                Attributes(arg.channel, arg.priority, arg.category, arg.queue, arg.labels),
            ):
                self.dead = True
                return True
            self.matched = self._applies_at(arg.priority)
            if kind != "next_response":
                self.current = self._start(ts)
            self.fresh = False
            return True
        if not self.created:
            return False
        pause_on = self.objective.pause_on
        changed = False
        if op == PRIORITY:
            now_matched = self._applies_at(arg)
            if now_matched != self.matched:
                self.matched = now_matched
                changed = True
                if current is not None:
                    if now_matched:
                        _applies_again(current, ts)
                    elif current.active_from is not None:
                        current.ended = ts
        elif op == STATUS:
            status = self.status
            was_paused, now_paused = status in pause_on, arg in pause_on
            self.status = arg
            if current is not None and was_paused != now_paused:
                _toggle_pause(current, ts, now_paused)
                changed = True
            if arg in DONE_STATUSES and current is not None:
                _stop(current, ts)
                self.current = None
                changed = True
        elif op == AGENT_REPLY:
            self.responded = True
            if kind != "resolution" and current is not None:
                _stop(current, ts)
                self.current = None
                changed = True
        elif op == CUSTOMER_REPLY:
            if (
                kind == "next_response"
                and current is None
                and self.responded
                and self.status not in DONE_STATUSES
            ):
                self.current = self._start(ts)
                changed = True
        elif op == REOPEN:
            if current is not None and self.status in pause_on:
                _toggle_pause(current, ts, False)
                changed = True
            self.status = "open"
            if kind == "resolution" and current is None:
                self.current = self._start(ts)
                changed = True
        elif op == END:
            if kind == "resolution" and current is not None:
                _stop(current, ts)
                self.current = None
                changed = True
        elif op == ABANDON and current is not None:
            if current.ended is None:
                current.ended = ts
            self.current = None
            changed = True
        if changed:
            self.fresh = False
        return changed


def excluded_for_good(objective: ItemObjective, attrs: Attributes) -> bool:
    """Only the priority of an item changes: a mismatch on anything else is final."""
    match = objective.match
    if match.channel is not None and attrs.channel not in match.channel:
        return True
    if match.category is not None and attrs.category not in match.category:
        return True
    if match.queue is not None and attrs.queue not in match.queue:
        return True
    labels = attrs.attributes
    return not all(labels.get(name) in allowed for name, allowed in match.attributes)


def _applies_again(cycle: Cycle, ts: float) -> None:
    if cycle.active_from is None:
        cycle.active_from = ts
    elif cycle.ended is not None:
        cycle.lapses = (*cycle.lapses, (cycle.ended, ts))
        cycle.ended = None


def applying_from(cycle: Cycle, instant: float) -> float:
    """The first instant at or after ``instant`` when the objective applies (lapses skipped;
    an ``ended`` cycle is the caller's to check)."""
    assert cycle.active_from is not None
    instant = max(instant, cycle.active_from)
    for lapse_start, lapse_end in cycle.lapses:
        if lapse_start <= instant < lapse_end:
            instant = lapse_end
    return instant


def alert_ends(
    cycle: Cycle, objective: ItemObjective, flags: CycleFlags, warn_at: tuple[float, ...]
) -> list[float | None]:
    """When each span of the clock that raised an alert stops applying, in order.

    A span ends at the first lapse that starts after its alert, else at the finish
    (None: not known yet). Each end is one ``resolved`` alert: a clock that alerts,
    leaves the objective (resolved), applies again and alerts again is resolved again.
    """
    finish = cycle.stop if cycle.stop is not None else cycle.ended
    if not cycle.lapses:
        return [finish]
    timing = cycle_timing(cycle, objective, warn_at)
    alerted = [
        w for w in timing.warnings[: flags.warned] if w is not None and applying_from(cycle, w) == w
    ]
    if flags.breached and timing.deadline is not None:
        alerted.append(applying_from(cycle, timing.deadline))
    ends: list[float | None] = []
    for instant in sorted(alerted):
        end = next((start for start, _end in cycle.lapses if start > instant), finish)
        if not ends or end != ends[-1]:
            ends.append(end)
    return ends


def has_open_alert(
    cycle: Cycle, objective: ItemObjective, flags: CycleFlags, warn_at: tuple[float, ...]
) -> bool:
    """Whether the cycle raised an alert that no ``resolved`` alert has ended yet."""
    return flags.alerted and flags.resolved < len(alert_ends(cycle, objective, flags, warn_at))


def _toggle_pause(cycle: Cycle, ts: float, paused: bool) -> None:
    if paused:
        cycle.pauses = [*cycle.pauses, [ts, None]]
        cycle.timing = None
    elif cycle.pauses and cycle.pauses[-1][1] is None:
        cycle.pauses[-1][1] = ts
        cycle.timing = None


def _stop(cycle: Cycle, ts: float) -> None:
    if cycle.ended is None:
        cycle.stop = ts
    if cycle.pauses and cycle.pauses[-1][1] is None:
        cycle.pauses[-1][1] = ts
        cycle.timing = None


FLOOR_SLACK: Final = 1e-3
"""Seconds a floor keeps below the plain sum, far more than float rounding in the calendar math."""


class Timing:
    """The instants that matter for one cycle; the calendar work is done on first use.

    A ``None`` instant means never: the clock is paused for good before it is reached.
    Most cycles stop long before their first warning, so until the exact instants are
    needed :func:`cycle_effects` decides with a *floor*, which costs no calendar work:
    running time never passes faster than real time, so ``amount`` business seconds
    cannot have elapsed before ``start + amount``. The cycle's pauses must not change
    while this object is in use (a cycle drops its timing whenever they do). It keeps
    the cycle's start and pauses, not the cycle: no reference cycle, so a finished
    item's clocks are freed at once, without the cyclic garbage collector.
    """

    __slots__ = (
        "_deadline",
        "_objective",
        "_pauses",
        "_start",
        "_warn_at",
        "_warnings",
        "budget",
        "exact",
    )

    def __init__(self, cycle: Cycle, objective: ItemObjective, warn_at: tuple[float, ...]) -> None:
        self._start = cycle.start
        self._pauses = cycle.pauses
        self._objective = objective
        self._warn_at = warn_at
        self.budget = budget_seconds(objective, objective.calendar, cycle.start)
        self._deadline: float | None = None
        self._warnings: tuple[float | None, ...] = ()
        self.exact = False  # whether deadline and warnings are computed yet

    @property
    def deadline(self) -> float | None:
        if not self.exact:
            self._compute()
        return self._deadline

    @property
    def warnings(self) -> tuple[float | None, ...]:
        """The instants each share of ``warn_at`` of the budget is used up."""
        if not self.exact:
            self._compute()
        return self._warnings

    def _compute(self) -> None:
        start, pauses = self._start, self._pauses
        calendar, budget = self._objective.calendar, self.budget
        # The earliest instant the budget is used up: a budget spent at a closing time is
        # due then, not at the next opening (as help desks' "due by" computes it).
        self._deadline = _instant_after(start, pauses, calendar, budget)
        self._warnings = tuple(
            _instant_after(start, pauses, calendar, budget * share) for share in self._warn_at
        )
        self.exact = True


def budget_seconds(objective: ItemObjective, calendar: BusinessCalendar, start: float) -> float:
    within = objective.within
    if isinstance(within, BusinessTime):
        return within.seconds
    assert isinstance(within, Workdays)
    return calendar.business_seconds(start, calendar.add_workdays(start, within.count))


def cycle_timing(cycle: Cycle, objective: ItemObjective, warn_at: tuple[float, ...]) -> Timing:
    """The cycle's timing, made and cached on first use."""
    timing = cycle.timing
    if timing is None:
        timing = cycle.timing = Timing(cycle, objective, warn_at)
    return timing


def deadline_as_of(cycle: Cycle, objective: ItemObjective, instant: float) -> float | None:
    """The deadline as it looked at ``instant``: pauses that begin later are not yet known.

    Alerts describe the clock at their own instant, so their text does not depend on
    which later events happened to have arrived (within the lateness) when they fired.
    """
    known: list[list[float | None]] = []
    for pause_start, pause_end in cycle.pauses:
        assert pause_start is not None
        if pause_start > instant:
            break
        ended_by_then = pause_end is not None and pause_end <= instant
        known.append([pause_start, pause_end if ended_by_then else None])
    view = Cycle(cycle.start, cycle.active_from, pauses=known)
    return cycle_timing(view, objective, ()).deadline


def _instant_after(
    start: float,
    pauses: Sequence[list[float | None]],
    calendar: BusinessCalendar,
    amount: float,
) -> float | None:
    """When ``amount`` business seconds of running (unpaused) time have elapsed."""
    t = start
    remaining = amount
    for pause_start, pause_end in pauses:
        assert pause_start is not None
        if pause_start > t:
            available = calendar.business_seconds(t, pause_start)
            if available >= remaining:
                return calendar.add_business_seconds(t, remaining)
            remaining -= available
        if pause_end is None:
            return None
        t = max(t, pause_end)
    return calendar.add_business_seconds(t, remaining)


def used_share(cycle: Cycle, calendar: BusinessCalendar, budget: float, until: float) -> float:
    """Share of the budget spent by ``until`` (running time only)."""
    if budget <= 0:
        return 1.0
    spent = calendar.business_seconds(cycle.start, until)
    for pause_start, pause_end in cycle.pauses:
        assert pause_start is not None
        if pause_start >= until:
            break
        end = until if pause_end is None else min(pause_end, until)
        spent -= calendar.business_seconds(pause_start, end)
    return max(0.0, spent) / budget


@dataclass(slots=True)
class CycleFlags:
    """What a cycle already emitted or counted, so that re-deriving repeats nothing."""

    warned: int = 0  # how many of the warn_at shares have passed
    breached: bool = False
    resolved: int = 0  # how many ``resolved`` alerts went out (see alert_ends)
    decided: bool = False  # counted as met or missed
    alerted: bool = False  # an at-risk or breach alert went out

    def to_state(self) -> list[int]:
        return [
            self.warned,
            int(self.breached),
            self.resolved,
            int(self.decided),
            int(self.alerted),
        ]

    @classmethod
    def from_state(cls, state: list[int]) -> CycleFlags:
        warned, breached, resolved, decided, alerted = state
        return cls(warned, bool(breached), int(resolved), bool(decided), bool(alerted))


@dataclass(slots=True)
class Effect:
    """Something a cycle did by the watermark: an alert to emit or an outcome to count."""

    kind: str  # "at_risk", "breached", "resolved", "met"
    instant: float
    share: float | None = None


def cycle_effects(
    cycle: Cycle,
    objective: ItemObjective,
    flags: CycleFlags,
    watermark: float,
    warn_at: tuple[float, ...],
    effects: list[Effect],
) -> float | None:
    """Append the cycle's new effects by ``watermark``; returns the next instant worth a look.

    The cycle gets its :class:`Timing` only once floors cannot decide.
    """
    active_from = cycle.active_from
    if active_from is None:
        return None
    stop = cycle.stop
    finish = stop if stop is not None else cycle.ended
    timing = cycle.timing
    # next_due: the earliest instant that may still fire (inf: none)
    next_due = None
    if timing is None or not timing.exact:
        within = objective.within
        if isinstance(within, BusinessTime):
            budget = within.seconds
        else:
            budget = cycle_timing(cycle, objective, warn_at).budget
        next_due = _floor_due(cycle, active_from, finish, budget, flags, watermark, warn_at)
    if next_due is None:
        next_due = _deadline_effects(
            cycle,
            cycle_timing(cycle, objective, warn_at),
            finish,
            flags,
            watermark,
            warn_at,
            effects,
        )
    if stop is not None and not flags.decided:
        if stop < watermark:
            flags.decided = True
            effects.append(Effect("met", stop))
        elif stop < next_due:
            next_due = stop
    if flags.alerted and (finish is not None or cycle.lapses):
        for end in alert_ends(cycle, objective, flags, warn_at)[flags.resolved :]:
            if end is None:
                break
            if end >= watermark:
                next_due = min(next_due, end)
                break
            flags.resolved += 1
            effects.append(Effect("resolved", end))
    # A cycle that merely *ended* (its objective stopped applying, e.g. a priority
    # change) is not decided: a later change back re-activates it, so it stays
    # unsettled and is re-evaluated on the item's next event.
    return None if next_due == math.inf else next_due


def _floor_due(
    cycle: Cycle,
    active_from: float,
    finish: float | None,
    budget: float,
    flags: CycleFlags,
    watermark: float,
    warn_at: tuple[float, ...],
) -> float | None:
    """The next instant to look at the cycle, if floors settle it without the calendar.

    A floor at or after the finish can never fire; one at or after the watermark cannot
    fire yet (look again then). ``None``: some floor has passed, the exact instants decide.
    """
    base = cycle.start - FLOOR_SLACK
    due = math.inf
    if flags.warned < len(warn_at):
        floor = base + budget * warn_at[flags.warned]
        if finish is None or finish > floor:
            if floor < watermark:
                return None
            due = floor
    if not flags.breached:
        floor = base + budget
        if finish is None or finish > floor:
            fires_floor = max(floor, active_from)
            if fires_floor < watermark:
                return None
            if fires_floor < due:
                due = fires_floor
    return due


def _deadline_effects(
    cycle: Cycle,
    timing: Timing,
    finish: float | None,
    flags: CycleFlags,
    watermark: float,
    warn_at: tuple[float, ...],
    effects: list[Effect],
) -> float:
    """At-risk and breach effects by ``watermark``; the next of them to wait for (inf: none)."""
    next_due = math.inf
    for index in range(flags.warned, len(warn_at)):
        warning = timing.warnings[index]
        if warning is None or (finish is not None and warning >= finish):
            break
        deadline = timing.deadline
        if deadline is not None and warning >= deadline:
            break
        if warning >= watermark:
            next_due = warning
            break
        flags.warned = index + 1
        if applying_from(cycle, warning) == warning and not flags.breached:
            flags.alerted = True
            effects.append(Effect("at_risk", warning, warn_at[index]))

    deadline = None if flags.breached else timing.deadline
    if deadline is not None:
        fires_at = applying_from(cycle, deadline)
        if finish is None or finish > deadline:
            if fires_at < watermark and (finish is None or finish > fires_at):
                flags.breached = flags.decided = flags.alerted = True
                effects.append(Effect("breached", fires_at, 1.0))
            elif (finish is None or finish > fires_at) and fires_at < next_due:
                next_due = fires_at
    return next_due

"""Rolling-window objectives: per-minute buckets of numerator and denominator sums.

Every window SLI reduces to a ratio of two integer sums (durations are summed in
milliseconds, so the arithmetic is exact and a split run equals a single run):

==========================  ===============================  ==========================
objective                   numerator                        denominator
==========================  ===============================  ==========================
service_level               contacts handled within T        offered (or answered)
average_speed_of_answer     wait of answered contacts (ms)   answered contacts
average_wait                wait of all dequeued (ms)        dequeued contacts
abandonment_rate            abandoned contacts               offered contacts
average_handle_time         handle time (ms)                 ended contacts
satisfaction                satisfied responses              responses
==========================  ===============================  ==========================

The window is evaluated at every bucket boundary the watermark passes, over the
contacts that left the queue in ``[boundary - window, boundary)``. An evaluation
changes something only when a bucket enters or leaves the window or a ``for`` is
running, so a window keeps the first boundary at which that can happen (its
``wake``) and its owner does not advance it before then: a quiet window costs
nothing per minute. The indexes of its buckets are kept in order as buckets come
(the newest last) and go (the oldest first), so the next one to enter or leave is
found at either end, whatever the window's length.
"""

from __future__ import annotations

import math
from bisect import insort
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from monitor.domain import status
from monitor.domain.agreement import WindowObjective
from monitor.domain.alerts import Alert, AlertState, Subject, format_instant
from monitor.domain.observer import Observer
from monitor.domain.status import ObjectiveStatus, report_entry

BUCKET_SECONDS: Final = 60
_TIME_KINDS: Final = frozenset({"average_speed_of_answer", "average_wait", "average_handle_time"})

OK: Final = "ok"
PENDING: Final = "pending"
BREACHED: Final = "breached"
_NO_BOUNDARY: Final = 2**62


Contribution = tuple[int, int]
"""What one dequeued contact adds to one window objective: ``(numerator, denominator)``."""


@dataclass(slots=True)
class Sums:
    """A numerator and a denominator summed over some contributions."""

    num: int = 0
    den: int = 0


class WindowClock:
    """The minute a contract last advanced its windows to, shared by those windows.

    A window is not advanced before its wake, so its own ``next_boundary`` may lag
    behind; the boundaries it skipped change nothing, and a contribution arriving
    meanwhile is placed against the boundary this clock gives.
    """

    __slots__ = ("minute",)

    def __init__(self) -> None:
        self.minute: int | None = None


def call_contribution(
    objective: WindowObjective, *, answered: bool, wait_ms: int | None
) -> Contribution | None:
    """The contribution of a call or chat leaving the queue (answered or abandoned)."""
    kind = objective.kind
    if wait_ms is None:
        if kind == "abandonment_rate":
            return (0 if answered else 1, 1)
        return None
    short = not answered and wait_ms < objective.short_abandon * 1000
    if kind == "service_level":
        within = wait_ms <= (objective.threshold or 0.0) * 1000
        formula = objective.formula
        if formula == "answered_within_over_answered":
            return (int(within), 1) if answered else None
        if short:
            return None
        if formula == "removed_within_over_offered":
            return (int(within), 1)
        return (int(answered and within), 1)
    if kind == "average_speed_of_answer":
        return (wait_ms, 1) if answered else None
    if kind == "average_wait":
        return (wait_ms, 1)
    if kind == "abandonment_rate":
        return None if short else (0 if answered else 1, 1)
    return None


def survey_contribution(
    objective: WindowObjective, score: float, scale_max: float
) -> Contribution | None:
    if objective.kind != "satisfaction":
        return None
    normalised = score / scale_max * objective.scale_max
    return (int(normalised >= objective.satisfied_min_score - 1e-9), 1)


def ratio_value(kind: str, numerator: int, denominator: int) -> float | None:
    if denominator == 0:
        return None
    value = numerator / denominator
    return value / 1000 if kind in _TIME_KINDS else value


class WindowTracker:
    """One window objective of one contract: buckets, rolling sums and alert state."""

    __slots__ = (
        "_clock",
        "_dirty",
        "_n_buckets",
        "breaches",
        "buckets",
        "contract_id",
        "held",
        "labels",
        "next_boundary",
        "objective",
        "observer",
        "pending_since",
        "selects_all",
        "status",
        "total",
        "value",
        "wake",
        "window_sum",
    )

    def __init__(
        self,
        contract_id: str,
        objective: WindowObjective,
        labels: dict[str, str],
        clock: WindowClock | None = None,
    ) -> None:
        self.contract_id = contract_id
        self.objective = objective
        self.labels = labels
        self._n_buckets = max(1, round(objective.window / BUCKET_SECONDS))
        self.selects_all = objective.match.queue is None and not objective.match.attributes
        self.buckets: dict[int, Sums] = {}
        self.held: deque[int] = deque()  # derived: the keys of ``buckets``, sorted
        self.window_sum = Sums()
        self.total = Sums()
        self.next_boundary: int | None = None
        # derived: the first boundary whose evaluation may change anything; the owner
        # advances the window once the watermark's minute reaches it
        self.wake = -_NO_BOUNDARY
        self._clock = WindowClock() if clock is None else clock
        self.status = OK
        self.pending_since: float | None = None
        self.value: float | None = None
        self.breaches = 0
        self._dirty = True  # the sums changed since the last evaluation
        self.observer: Observer | None = None

    def selects(self, queue: str | None, attributes: dict[str, str]) -> bool:
        """Whether a contact or survey of this queue and attributes counts here."""
        if self.selects_all:
            return True
        match = self.objective.match
        if match.queue is not None and queue not in match.queue:
            return False
        return all(attributes.get(name) in allowed for name, allowed in match.attributes)

    def add(self, ts: float, contribution: Contribution) -> bool:
        """Count a contribution at event time ``ts``; False if its bucket is gone."""
        num, den = contribution
        if self.observer is not None:
            self.observer.window_sample(self.contract_id, self.objective.id, ts, num, den)
        total = self.total
        total.num += num
        total.den += den
        index = math.floor(ts // BUCKET_SECONDS)
        boundary = self._catch_up()
        if boundary is not None and index < boundary - self._n_buckets:
            return False
        bucket = self.buckets.get(index)
        if bucket is None:
            self.buckets[index] = Sums(num, den)
            held = self.held
            if not held or index > held[-1]:
                held.append(index)  # the usual case: contributions come in time order
            else:
                insort(held, index)
        else:
            bucket.num += num
            bucket.den += den
        if boundary is None:
            return True
        if index < boundary - 1:
            # already inside the window of the last evaluated boundary (boundary - 1)
            window_sum = self.window_sum
            window_sum.num += num
            window_sum.den += den
            self._dirty = True
            if boundary < self.wake:
                self.wake = boundary  # evaluated at the next boundary
        elif index < self.wake - 1:
            self.wake = index + 1  # the boundary at which its bucket enters
        return True

    def _catch_up(self) -> int | None:
        """The next boundary to evaluate, at the clock's minute if the window lags.

        Before its wake the window is not advanced; the boundaries it skipped would
        have changed nothing, so moving ``next_boundary`` over them is all they owe.
        """
        boundary = self.next_boundary
        minute = self._clock.minute
        if boundary is not None and minute is not None and boundary <= minute:
            boundary = self.next_boundary = minute + 1
        return boundary

    def advance(self, watermark: float, alerts: list[Alert]) -> None:
        """Evaluate every bucket boundary up to the watermark, in order.

        A boundary is evaluated when the window's sums changed or a ``for`` is running;
        otherwise the evaluation would change nothing.
        """
        last = math.floor(watermark // BUCKET_SECONDS)
        boundary = self.next_boundary
        buckets = self.buckets
        if boundary is None:
            # Anchor at the watermark, or earlier if data is already held: every boundary
            # after the earliest contribution gets evaluated, whatever the arrival order.
            boundary = min(min(buckets, default=last + 1), last + 1)
        window_sum = self.window_sum
        span = self._n_buckets
        dirty = self._dirty
        while boundary <= last:
            if not buckets and self.status == OK and not window_sum.num and not window_sum.den:
                boundary = last + 1  # nothing held and nothing to resolve: skip to the end
                dirty = False  # no traffic held: an evaluation would find what the last did
                break
            entering = buckets.get(boundary - 1)
            if entering is not None:
                window_sum.num += entering.num
                window_sum.den += entering.den
                dirty = True
            leaving = buckets.pop(boundary - 1 - span, None)
            if leaving is not None:
                window_sum.num -= leaving.num
                window_sum.den -= leaving.den
                dirty = True
                if self.held[0] == boundary - 1 - span:
                    self.held.popleft()  # buckets leave oldest first
                else:
                    self.held.remove(boundary - 1 - span)
            # Unchanged sums and no pending `for`: an evaluation would change nothing.
            if dirty or not (
                self.status == BREACHED or (self.status == OK and self.pending_since is None)
            ):
                self._evaluate(boundary * BUCKET_SECONDS, alerts)
                dirty = False
            boundary += 1
            if boundary < last and not dirty:
                boundary = min(last, self._next_change(boundary))
        self._dirty = dirty
        self.next_boundary = boundary
        if (
            dirty
            or boundary - 1 in buckets  # a bucket enters at the next boundary
            or boundary - 1 - span in buckets  # or leaves there
        ):
            self.wake = boundary
        else:
            self.wake = self._next_change(boundary)

    def _next_change(self, boundary: int) -> int:
        """The first boundary from ``boundary`` on whose evaluation may change anything.

        Until a bucket enters or leaves the window its sums stay as they are, so an
        evaluation changes nothing, except a running ``for`` that turns into a breach
        once it has held long enough. Jumping there makes a quiet span of any length
        cost a few steps, not a step per minute.
        """
        held = self.held
        change = _NO_BOUNDARY
        for index in reversed(held):  # the buckets still to enter are the newest few
            if index < boundary - 1:
                break
            change = index + 1
        if held:  # the oldest leaves first: every older one has left at its boundary
            change = min(change, held[0] + 1 + self._n_buckets)
        if self.status == PENDING and self.pending_since is not None:
            # a step or two early, never late: the loop evaluates the exact boundary
            held_long_enough = (self.pending_since + self.objective.hold_for) // BUCKET_SECONDS
            change = min(change, int(held_long_enough) - 1)
        elif not (self.status == BREACHED or self.pending_since is None):
            change = boundary  # just resolved: the next evaluation clears pending_since
        return max(boundary, change)

    def _evaluate(self, instant: float, alerts: list[Alert]) -> None:
        objective = self.objective
        num, den = self.window_sum.num, self.window_sum.den
        value = ratio_value(objective.kind, num, den)
        self.value = value
        violating = (
            value is not None and den >= objective.min_volume and not objective.target.met(value)
        )
        if self.status == BREACHED:
            if not violating:
                self.status = OK
                alerts.append(self._alert("resolved", instant, value))
            return
        if not violating:
            self.status = OK
            self.pending_since = None
            return
        if self.status == OK:
            self.status = PENDING
            self.pending_since = instant
        if instant - (self.pending_since or instant) >= objective.hold_for:
            self.status = BREACHED
            self.breaches += 1
            alerts.append(self._alert("breached", instant, value))

    def _alert(self, state: AlertState, instant: float, value: float | None) -> Alert:
        objective = self.objective
        shown = "no traffic" if value is None else _show(objective.kind, value)
        verb = "back within" if state == "resolved" else "outside"
        summary = (
            f"{self.contract_id}/{objective.id}: {objective.kind} {shown} {verb} target "
            f"{objective.target} over the last {_minutes(objective.window)}"
        )
        extra = {"window": _minutes(objective.window), "samples": str(self.window_sum.den)}
        if self.pending_since is not None and state == "breached":
            extra["since"] = format_instant(self.pending_since)
        return Alert(
            contract_id=self.contract_id,
            objective_id=objective.id,
            state=state,
            severity="critical",
            subject=Subject("window", objective.id),
            observed=value,
            target=objective.target.value,
            event_time=instant,
            summary=summary,
            description=objective.clause,
            labels=self.labels,
            extra=extra,
        )

    @property
    def samples(self) -> int:
        return self.total.den

    @property
    def overall_value(self) -> float | None:
        return ratio_value(self.objective.kind, self.total.num, self.total.den)

    def objective_status(self, watermark: float) -> ObjectiveStatus:
        """The window's value and state as last evaluated (at or before ``watermark``)."""
        objective = self.objective
        return ObjectiveStatus(
            contract_id=self.contract_id,
            objective_id=objective.id,
            kind=objective.kind,
            value=self.value,
            target=objective.target.value,
            comparator=objective.target.comparator,
            status=status.BREACHED if self.status == BREACHED else status.OK,
            open_items=0,
            at_risk_items=0,
            breaches=self.breaches,
            budget_remaining=None,
            burn_rate_fast=None,
            burn_rate_slow=None,
        )

    def report(self) -> dict[str, Any]:
        """The SLI over every contribution counted, not just the last window."""
        target = self.objective.target
        value = self.overall_value
        met = None if value is None else target.met(value)
        return report_entry(
            self.objective.kind,
            value,
            target.value,
            target.comparator,
            met,
            self.samples,
            self.breaches,
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "buckets": [[k, v.num, v.den] for k, v in sorted(self.buckets.items())],
            "window_sum": [self.window_sum.num, self.window_sum.den],
            "total": [self.total.num, self.total.den],
            "next_boundary": self._catch_up(),
            "status": self.status,
            "pending_since": self.pending_since,
            "value": self.value,
            "breaches": self.breaches,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.buckets = {k: Sums(n, d) for k, n, d in state["buckets"]}
        self.held = deque(sorted(self.buckets))
        self.window_sum = Sums(*state["window_sum"])
        self.total = Sums(*state["total"])
        self.next_boundary = state["next_boundary"]
        self.status = state["status"]
        self.pending_since = state["pending_since"]
        self.value = state["value"]
        self.breaches = state["breaches"]
        self._dirty = True
        self.wake = -_NO_BOUNDARY


def _show(kind: str, value: float) -> str:
    if kind in _TIME_KINDS:
        return f"{value:.1f}s"
    return f"{value * 100:.1f}%"


def _minutes(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 60)}m"

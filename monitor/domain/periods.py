"""Calendar-month objectives: availability and compliance targets, with burn-rate alerts.

Each tracker keeps per-minute ``(bad, total)`` amounts (seconds down for
availability, missed items for compliance), the month-to-date totals, and the
rolling sums of four burn-rate windows. Alerting follows the multi-window,
multi-burn-rate recipe of the SRE workbook, scaled from its 30-day budget to the
month at hand:

* fast burn (1 h and 5 m windows both spending >= 2 % of the month's budget per
  hour: 14.4x for 30 days) -> ``at_risk``, critical;
* slow burn (6 h and 30 m windows both spending >= 5 % per 6 h: 6x) -> ``at_risk``,
  warning;
* budget exhausted (the month can no longer meet its target) -> ``breached``.

The alert subject is the month (``period`` ``2026-11``), so each month has its own
fingerprint and open alerts resolve when the month ends.

Most minutes change nothing: state ok (or the month already missed), every burn
window clean, nothing recorded. Such quiet minutes are accounted (month total,
window totals) without evaluation and in closed form, so a quiet span of any length
costs a few steps per month; the rolling sums are left alone wherever recomputing
them would give the same floats. An attached observer, which samples every minute,
turns this off. Both ways give the same alerts, burn rates and state.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from monitor.domain.agreement import AvailabilityObjective, ItemObjective, Target, WindowObjective
from monitor.domain.alerts import Alert, AlertState, Severity, Subject, format_instant
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.observer import Observer
from monitor.domain.status import (
    AT_RISK,
    BREACHED,
    NO_BUDGET,
    OK,
    Budget,
    ObjectiveStatus,
    report_entry,
)

MINUTE: Final = 60
FAST_BUDGET_SHARE, FAST_LONG, FAST_SHORT = 0.02, 60, 5
SLOW_BUDGET_SHARE, SLOW_LONG, SLOW_SHORT = 0.05, 360, 30
WINDOWS_MINUTES: Final = (FAST_SHORT, SLOW_SHORT, FAST_LONG, SLOW_LONG)
_LONGEST: Final = SLOW_LONG
_WINDOW_INDEX: Final = {window: index for index, window in enumerate(WINDOWS_MINUTES)}
_CLEAN: Final = [0.0] * len(WINDOWS_MINUTES)
_NEVER: Final = 2**62  # a minute no idle stretch reaches


@lru_cache(maxsize=1024)
def month_bounds(timezone: str, year: int, month: int) -> tuple[float, float]:
    """Epoch start and end of a calendar month in a time zone."""
    zone = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.timestamp(), end.timestamp()


@lru_cache(maxsize=1024)
def _thresholds(timezone: str, year: int, month: int) -> tuple[float, float]:
    """Fast and slow burn-rate thresholds, scaled from 30 days to this month."""
    start, end = month_bounds(timezone, year, month)
    period_hours = (end - start) / 3600
    fast_threshold = FAST_BUDGET_SHARE * period_hours / (FAST_LONG / 60)
    slow_threshold = SLOW_BUDGET_SHARE * period_hours / (SLOW_LONG / 60)
    return fast_threshold, slow_threshold


def month_of(timezone: str, instant: float) -> tuple[int, int]:
    local = datetime.fromtimestamp(instant, ZoneInfo(timezone))
    return local.year, local.month


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


class RollingSums:
    """Sums of ``(bad, total)`` over the last N minutes for a few N at once.

    Every sum moves by ``sum - leaving + entering`` in that order, so a restored run
    (which pushes the saved minutes again from zero) rounds like the original did.
    A sum is left alone only where that formula gives it back unchanged: for the bad
    sums, when the minute entering and every minute leaving have no bad amount; for
    the total sums, when every minute held and the one entering have the same
    whole-number total and the sums are whole numbers (``sum - x + x`` is then exact).
    """

    __slots__ = (
        "bad_sums",
        "minutes",
        "quiet_pushes",
        "run_length",
        "run_total",
        "steady_total",
        "total_sums",
    )

    def __init__(self) -> None:
        self.minutes: deque[tuple[float, float]] = deque(maxlen=_LONGEST)
        self.bad_sums = [0.0] * len(WINDOWS_MINUTES)
        self.total_sums = [0.0] * len(WINDOWS_MINUTES)
        # pushes since the last minute with a bad amount, capped: once it reaches the
        # longest window, every minute a push can read as leaving has bad == 0.
        self.quiet_pushes = _LONGEST
        # the total of the latest pushes and how many in a row had it (capped)
        self.run_total: float | None = None
        self.run_length = 0
        # set while pushing this total leaves every total sum as it is
        self.steady_total: float | None = None

    def push(self, bad: float, total: float) -> bool:
        """Add a minute (the oldest leaves each window); True if every window is clean."""
        minutes = self.minutes
        size = len(minutes)
        bads, totals = self.bad_sums, self.total_sums
        if size < _LONGEST:
            self._push_while_filling(bad, total, size)
        else:  # every window full: the four windows unrolled (this runs every minute)
            if bad or self.quiet_pushes < _LONGEST:
                bads[0] = bads[0] - minutes[size - FAST_SHORT][0] + bad
                bads[1] = bads[1] - minutes[size - SLOW_SHORT][0] + bad
                bads[2] = bads[2] - minutes[size - FAST_LONG][0] + bad
                bads[3] = bads[3] - minutes[size - SLOW_LONG][0] + bad
            totals[0] = totals[0] - minutes[size - FAST_SHORT][1] + total
            totals[1] = totals[1] - minutes[size - SLOW_SHORT][1] + total
            totals[2] = totals[2] - minutes[size - FAST_LONG][1] + total
            totals[3] = totals[3] - minutes[size - SLOW_LONG][1] + total
            minutes.append((bad, total))
        if bad:
            self.quiet_pushes = 0
        elif self.quiet_pushes < _LONGEST:
            self.quiet_pushes += 1
        if total != self.steady_total:
            self._count_run(total)
        return bads == _CLEAN

    def push_idle(self, total: float, count: int) -> None:
        """Push ``count`` minutes of ``(0.0, total)`` while no bad minute is within reach
        (``quiet_pushes`` is at its cap): the bad sums stay as they are."""
        minutes = self.minutes
        totals = self.total_sums
        idle = (0.0, total)
        for done in range(count):
            if total == self.steady_total:
                # Every sum stays as it is; only the last _LONGEST minutes are held.
                minutes.extend(repeat(idle, min(count - done, _LONGEST)))
                return
            size = len(minutes)
            if size < _LONGEST:
                self.push(0.0, total)
                continue
            totals[0] = totals[0] - minutes[size - FAST_SHORT][1] + total
            totals[1] = totals[1] - minutes[size - SLOW_SHORT][1] + total
            totals[2] = totals[2] - minutes[size - FAST_LONG][1] + total
            totals[3] = totals[3] - minutes[size - SLOW_LONG][1] + total
            minutes.append(idle)
            self._count_run(total)

    def push_idle_minutes(self, totals: Callable[[int, int], list[float]], count: int) -> None:
        """Push ``count`` idle minutes while no bad minute is within reach (``quiet_pushes``
        at its cap, bad sums 0); ``totals(skip, count)`` gives the totals of those minutes
        from the ``skip``-th on.

        Only the last ``_LONGEST`` of them stay in any window. With whole-number totals
        the sums are exact whichever way they are added, so a longer stretch sets the
        windows afresh from those minutes, with the same sums and run state as pushing
        every minute: O(1) work however long the stretch.
        """
        if count <= _LONGEST or not all(map(_whole, self.total_sums)):
            for total in totals(0, count):
                self.push(0.0, total)
            return
        held = totals(count - _LONGEST, count)
        if all(map(_whole, held)):
            self._hold_idle(held)
        else:
            for total in totals(0, count):
                self.push(0.0, total)

    def _hold_idle(self, held: list[float]) -> None:
        """Hold exactly the idle minutes ``held`` (``_LONGEST`` whole totals, oldest first)."""
        self.minutes.clear()
        self.minutes.extend((0.0, total) for total in held)
        self.total_sums = [float(sum(held[-window:])) for window in WINDOWS_MINUTES]
        last = held[-1]
        trailing = next((i for i, total in enumerate(reversed(held)) if total != last), len(held))
        self.run_total, self.run_length = last, trailing
        self.steady_total = last if self._exact_run() else None

    def _count_run(self, total: float) -> None:
        """Note a pushed total; the sums turn steady once every minute held has it."""
        if total != self.run_total:
            self.run_total, self.run_length, self.steady_total = total, 1, None
            return
        if self.run_length < _LONGEST:
            self.run_length += 1
        self.steady_total = total if self._exact_run() else None

    def _exact_run(self) -> bool:
        """Every minute held has the run's whole-number total and every sum is whole."""
        return (
            self.run_length == _LONGEST == len(self.minutes)
            and self.run_total is not None
            and _whole(self.run_total)
            and all(map(_whole, self.total_sums))
        )

    def _push_while_filling(self, bad: float, total: float, size: int) -> None:
        minutes = self.minutes
        bads, totals = self.bad_sums, self.total_sums
        for index, window in enumerate(WINDOWS_MINUTES):
            if size >= window:
                old_bad, old_total = minutes[size - window]
                bads[index] = bads[index] - old_bad + bad
                totals[index] = totals[index] - old_total + total
            else:
                bads[index] += bad
                totals[index] += total
        minutes.append((bad, total))

    def clean(self) -> bool:
        """No bad amount in any window (every error rate is exactly 0)."""
        return self.bad_sums == _CLEAN

    def error_rate(self, window: int) -> float:
        index = _WINDOW_INDEX[window]
        bad, total = self.bad_sums[index], self.total_sums[index]
        return bad / total if total > 0 else 0.0

    def total(self, window: int) -> float:
        return self.total_sums[_WINDOW_INDEX[window]]

    def to_state(self) -> list[list[float]]:
        return [list(pair) for pair in self.minutes]

    def load_state(self, minutes: list[list[float]]) -> None:
        self.minutes.clear()
        self.bad_sums = [0.0] * len(WINDOWS_MINUTES)
        self.total_sums = [0.0] * len(WINDOWS_MINUTES)
        self.quiet_pushes = _LONGEST
        self.run_total, self.run_length, self.steady_total = None, 0, None
        for bad, total in minutes:
            self.push(bad, total)


def _add_repeatedly(total: float, amount: float, count: int) -> float:
    """``total + amount`` done ``count`` times: the float that adding one by one gives.

    With whole numbers (seconds of a minute, zero) one multiplication is exact, so a
    quiet stretch of any length costs O(1); anything else is added one by one.
    """
    result = total + amount * count
    if _whole(total) and _whole(amount) and _whole(result):
        return result
    for _ in range(count):
        total += amount
    return total


def _whole(amount: float) -> bool:
    """A whole number small enough that adding and subtracting it is exact."""
    return abs(amount) < 2**52 and float(amount).is_integer()


class PeriodTracker:
    """What availability and compliance trackers share: months, burn rates, alerts."""

    kind: str = "period"

    def __init__(
        self,
        contract_id: str,
        objective_id: str,
        target: Target,
        timezone: str,
        labels: dict[str, str],
        min_volume: int = 1,
        clause: str = "",
    ) -> None:
        self.contract_id = contract_id
        self.objective_id = objective_id
        self.target = target
        self.timezone = timezone
        self.labels = labels
        self.min_volume = min_volume
        self.clause = clause
        self.next_minute: int | None = None
        self.months: dict[str, list[float]] = {}
        self.burn = RollingSums()
        self.alert_state: str = "ok"
        self.alert_severity: str = "warning"
        self.breaches = 0
        self.burn_rates: dict[str, float] = {"fast": 0.0, "slow": 0.0}
        # derived: the month last accounted, (start, end, year, month, key)
        self._month: tuple[float, float, int, int, str] = (0.0, 0.0, 0, 0, "")
        # derived: minutes before this one are quiet (see _quiet_horizon); the owner may
        # skip advancing through them and call settle_quiet later (MonthlyTrackers.advance)
        self.quiet_until = 0
        # the total of an idle minute (nothing recorded in it; its bad amount is 0)
        self.idle_total: float = 0.0
        self.observer: Observer | None = None

    @property
    def budget(self) -> float:
        """Allowed bad share (1 - target) for ``>=`` ratio targets."""
        return max(1e-9, 1.0 - self.target.value)

    def start_at(self, ts: float) -> None:
        """Account from the earliest event's minute; it may move earlier until accounting began."""
        minute = math.floor(ts // MINUTE)
        if self.next_minute is None or (not self.months and minute < self.next_minute):
            self.next_minute = minute

    def minute_amounts(self, minute: int) -> tuple[float, float]:
        raise NotImplementedError

    def idle_until(self, minute: int) -> int:
        """A minute such that every minute from ``minute`` up to it (excluded) is idle:
        nothing recorded, nothing bad, the same total."""
        raise NotImplementedError

    def budget_holds_while_idle(self, bad: float, total: float, year: int, month: int) -> bool:
        """Idle minutes alone cannot exhaust the month's budget, ``(bad, total)`` so far."""
        raise NotImplementedError

    def expected_total(
        self, year: int, month: int, month_total: float, until: float | None = None
    ) -> float:
        """The month's projected total; ``until`` = the instant accounted so far (default:
        the minute after the last one accounted)."""
        raise NotImplementedError

    def advance(self, watermark: float, alerts: list[Alert]) -> None:
        minute = self.next_minute
        if minute is None:
            return
        last = math.floor(watermark // MINUTE)
        if minute < last <= self.quiet_until and self.observer is None:
            self.next_minute = self._pass_quiet(minute, last)  # the usual minute: quiet
            return
        month_start, month_end, year, month, key = self._month
        totals = self.months.get(key)
        burn = self.burn
        while minute < last:
            if minute < self.quiet_until and self.observer is None:
                minute = self._pass_quiet(minute, min(last, self.quiet_until))
                continue
            start = minute * MINUTE
            boundary = start + MINUTE
            bad, total = self.minute_amounts(minute)
            if self.observer is not None:
                self.observer.period_sample(self.contract_id, self.objective_id, start, bad, total)
            if not month_start <= start < month_end:
                year, month = month_of(self.timezone, start)
                key = month_key(year, month)
                month_start, month_end = month_bounds(self.timezone, year, month)
                self._month = (month_start, month_end, year, month, key)
                totals = self.months.get(key)
            if totals is None:
                totals = self.months[key] = [0.0, 0.0]
            totals[0] += bad
            totals[1] += total
            clean = burn.push(bad, total)
            self.quiet_until = 0
            if boundary >= month_end:
                self._close_month(key, month_end, alerts)
            elif clean and (
                self.alert_state == "breached"
                or (self.alert_state == "ok" and not self._exhausted(totals, year, month, boundary))
            ):
                # every burn rate is 0, and the budget is left (ok) or the month is missed
                # for good (breached): the evaluation would change nothing else
                rates = self.burn_rates
                rates["fast"] = rates["slow"] = 0.0
                self.quiet_until = self._quiet_horizon(minute + 1, totals, year, month, month_end)
            else:
                self._evaluate(key, year, month, boundary, alerts)
            minute += 1
        self.next_minute = minute

    def _quiet_horizon(
        self, minute: int, totals: list[float], year: int, month: int, month_end: float
    ) -> int:
        """Where the quiet that ``minute - 1`` found ends (``minute`` if it does not go on).

        The tracker is quiet when its last minute was evaluated with every burn window
        clean, no bad minute within reach of any window (so pushing 0 leaves the bad
        sums exactly as they are), and either the state ok with a budget idle minutes
        cannot exhaust or the month missed for good (breached until it ends).
        Until the next minute with something recorded (or the month's last minute,
        which closes it) every minute would be evaluated the same way, to the same
        result: it only needs its total accounted.
        """
        if self.burn.quiet_pushes < _LONGEST:
            return minute
        if self.alert_state == "ok" and not self.budget_holds_while_idle(
            totals[0], totals[1], year, month
        ):
            return minute
        closing = -(-month_end // MINUTE) - 1  # the minute whose boundary ends the month
        return max(minute, min(self.idle_until(minute), int(closing)))

    def settle_quiet(self, minute: int) -> None:
        """Account the quiet minutes up to ``minute`` that the owner skipped.

        Only minutes :meth:`advance` would pass as quiet (``minute <= quiet_until``, no
        observer) are accounted, all at once, exactly as minute by minute: no alert can
        come of them. Anything else is left to :meth:`advance`.
        """
        next_minute = self.next_minute
        if next_minute is None or self.observer is not None:
            return
        if next_minute < minute <= self.quiet_until:
            self.next_minute = self._pass_quiet(next_minute, minute)

    def _pass_quiet(self, minute: int, stop: int) -> int:
        """Account the quiet minutes ``minute`` to ``stop`` (excluded): their bad amounts
        are 0 and their evaluations would change nothing (see :meth:`_quiet_horizon`)."""
        totals = self.months[self._month[4]]
        totals[1] = _add_repeatedly(totals[1], self.idle_total, stop - minute)
        self.burn.push_idle(self.idle_total, stop - minute)
        return stop

    def _exhausted(self, totals: list[float], year: int, month: int, instant: float) -> bool:
        """The month can no longer meet its target (projected at ``instant``)."""
        bad, total = totals
        if bad == 0.0:
            return False  # nothing spent (and ``0 > budget * expected`` never holds)
        expected = self.expected_total(year, month, total, instant)
        return total >= self.min_volume and bad > self.budget * expected

    def _evaluate(
        self, key: str, year: int, month: int, instant: float, alerts: list[Alert]
    ) -> None:
        burn = self.burn
        fast_threshold, slow_threshold = _thresholds(self.timezone, year, month)
        budget = self.budget
        fast = min(burn.error_rate(FAST_LONG), burn.error_rate(FAST_SHORT)) / budget
        slow = min(burn.error_rate(SLOW_LONG), burn.error_rate(SLOW_SHORT)) / budget
        rates = self.burn_rates
        rates["fast"], rates["slow"] = fast, slow
        enough = burn.total(SLOW_LONG) >= self.min_volume
        if self._exhausted(self.months[key], year, month, instant):
            state, severity = "breached", "critical"
        elif enough and fast >= fast_threshold:
            state, severity = "at_risk", "critical"
        elif enough and slow >= slow_threshold:
            state, severity = "at_risk", "warning"
        else:
            state, severity = "ok", self.alert_severity
        if self.alert_state == "breached":
            return  # a missed month stays missed until it ends
        if (state, severity) == (self.alert_state, self.alert_severity):
            return
        previous = self.alert_state
        self.alert_state, self.alert_severity = state, severity
        if state == "ok":
            if previous != "ok":
                alerts.append(self._alert("resolved", key, instant))
            return
        if state == "breached":
            self.breaches += 1
        alerts.append(self._alert(state, key, instant))  # type: ignore[arg-type]

    def _close_month(self, key: str, month_end: float, alerts: list[Alert]) -> None:
        if self.alert_state != "ok":
            alerts.append(self._alert("resolved", key, month_end))
        self.alert_state, self.alert_severity = "ok", "warning"

    def budget_at(self, watermark: float) -> Budget:
        """Month to date at the watermark's month, the budget left and the burn rates."""
        if not math.isfinite(watermark) or self.next_minute is None:
            return NO_BUDGET
        year, month = month_of(self.timezone, watermark)
        key = month_key(year, month)
        bad, total = self.months.get(key, (0.0, 0.0))
        allowed = self.budget * self.expected_total(year, month, total)
        return Budget(
            value=self.month_value(key),
            remaining=1.0 - bad / allowed if allowed > 0 else 1.0,
            fast=self.burn.error_rate(FAST_LONG) / self.budget,
            slow=self.burn.error_rate(SLOW_LONG) / self.budget,
        )

    @property
    def open_state(self) -> str:
        """``breached`` or ``at_risk`` while such an alert of the month is open, else ``ok``."""
        return self.alert_state if self.alert_state in (AT_RISK, BREACHED) else OK

    def months_report(self) -> dict[str, Any]:
        return {
            key: {"value": self.month_value(key), "projected": self.projected_value(key)}
            for key in sorted(self.months)
        }

    def month_value(self, key: str) -> float | None:
        bad, total = self.months.get(key, (0.0, 0.0))
        return 1.0 - bad / total if total > 0 else None

    def projected_value(self, key: str, until: float | None = None) -> float | None:
        bad, total = self.months.get(key, (0.0, 0.0))
        year, month = (int(part) for part in key.split("-"))
        expected = self.expected_total(year, month, total, until)
        return 1.0 - bad / expected if expected > 0 else None

    def show_value(self, value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.3f}%"

    @property
    def overall(self) -> tuple[float, float]:
        bad = sum(pair[0] for pair in self.months.values())
        total = sum(pair[1] for pair in self.months.values())
        return bad, total

    def _alert(self, state: AlertState, key: str, instant: float) -> Alert:
        value = self.month_value(key)
        projected = self.projected_value(key, instant)
        shown = self.show_value(value)
        summary = {
            "breached": f"{self.contract_id}/{self.objective_id}: {key} can no longer meet "
            f"{self.target} (month to date {shown})",
            "at_risk": f"{self.contract_id}/{self.objective_id}: error budget for {key} burning "
            f"fast (month to date {shown}, target {self.target})",
            "resolved": f"{self.contract_id}/{self.objective_id}: {key} back within budget "
            f"(month to date {shown})",
        }[state]
        severity: Severity = "critical" if state == "breached" else self.alert_severity  # type: ignore[assignment]
        return Alert(
            contract_id=self.contract_id,
            objective_id=self.objective_id,
            state=state,
            severity=severity,
            subject=Subject("period", key),
            observed=value,
            target=self.target.value,
            event_time=instant,
            summary=summary,
            description=self.clause,
            labels=self.labels,
            extra={
                "projected": "n/a" if projected is None else f"{projected:.6f}",
                "burn_rate_fast": f"{self.burn_rates['fast']:.2f}",
                "burn_rate_slow": f"{self.burn_rates['slow']:.2f}",
                "at": format_instant(instant),
            },
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "next_minute": self.next_minute,
            "months": {k: list(v) for k, v in self.months.items()},
            "burn": self.burn.to_state(),
            "alert": [self.alert_state, self.alert_severity],
            "breaches": self.breaches,
            "burn_rates": dict(self.burn_rates),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.next_minute = state["next_minute"]
        self.months = {k: list(v) for k, v in state["months"].items()}
        self.burn.load_state(state["burn"])
        self.quiet_until = 0
        self.alert_state, self.alert_severity = state["alert"]
        self.breaches = state["breaches"]
        self.burn_rates = dict(state["burn_rates"])

    def month_status(self, kind: str, watermark: float) -> ObjectiveStatus:
        """The status of an objective this tracker alone measures: its month at ``watermark``."""
        budget = self.budget_at(watermark)
        return ObjectiveStatus(
            contract_id=self.contract_id,
            objective_id=self.objective_id,
            kind=kind,
            value=budget.value,
            target=self.target.value,
            comparator=self.target.comparator,
            status=self.open_state,
            open_items=0,
            at_risk_items=0,
            breaches=self.breaches,
            budget_remaining=budget.remaining,
            burn_rate_fast=budget.fast,
            burn_rate_slow=budget.slow,
        )


class Transition(NamedTuple):
    """A service status change; changes at the same instant apply in event id order."""

    ts: float
    status: str
    event_id: str = ""  # snapshots from before the tie-break have none: they go first

    @property
    def order(self) -> tuple[float, str]:
        return (self.ts, self.event_id)


class AvailabilityTracker(PeriodTracker):
    """Seconds a service is down (or degraded, if configured) against open seconds."""

    kind = "availability"

    def __init__(
        self,
        contract_id: str,
        objective: AvailabilityObjective,
        timezone: str,
        labels: dict[str, str],
    ) -> None:
        super().__init__(
            contract_id, objective.id, objective.target, timezone, labels, clause=objective.clause
        )
        self.objective = objective
        self.calendar: BusinessCalendar | None = objective.calendar
        self.down_states = {"down", "degraded"} if objective.degraded_is_down else {"down"}
        self.status = "up"
        self.transitions: list[Transition] = []  # not yet accounted, in (ts, event_id) order
        self._open_months: dict[tuple[int, int], float] = {}  # derived from the calendar
        self.idle_total = MINUTE  # minute_amounts' ``end - start`` without a calendar

    def record(self, ts: float, status: str, event_id: str) -> None:
        """A ``service.status`` event; transitions already accounted apply from now on.

        Transitions are kept in (time, event_id) order, so two changes at the same
        instant apply in the same order whatever order they arrived in.
        """
        if self.next_minute is not None:
            ts = max(ts, self.next_minute * MINUTE)
        self.quiet_until = min(self.quiet_until, int(ts // MINUTE))
        entry = Transition(ts, status, event_id)
        index = len(self.transitions)
        while index > 0 and self.transitions[index - 1].order > entry.order:
            index -= 1
        self.transitions.insert(index, entry)

    def minute_amounts(self, minute: int) -> tuple[float, float]:
        start, end = minute * MINUTE, (minute + 1) * MINUTE
        bad = 0.0
        t: float = start
        status = self.status
        while self.transitions and self.transitions[0].ts < end:
            ts, new_status, _event_id = self.transitions.pop(0)
            ts = max(ts, start)
            if self.observer is not None:
                self.observer.availability_change(
                    self.contract_id, self.objective_id, ts, new_status
                )
            if status in self.down_states:
                bad += self._open_seconds(t, ts)
            t, status = ts, new_status
        if status in self.down_states:
            bad += self._open_seconds(t, end)
        self.status = status
        return bad, self._open_seconds(start, end)

    def objective_status(self, watermark: float) -> ObjectiveStatus:
        return self.month_status(self.objective.kind, watermark)

    def report(self) -> dict[str, Any]:
        """Availability over every month seen, the downtime and each month's value."""
        objective = self.objective
        bad, total = self.overall
        value = 1.0 - bad / total if total > 0 else None
        entry = report_entry(
            objective.kind,
            value,
            objective.target.value,
            objective.target.comparator,
            None if value is None else objective.target.met(value),
            int(total),
            self.breaches,
        )
        entry["downtime_s"] = bad
        entry["months"] = self.months_report()
        return entry

    def idle_until(self, minute: int) -> int:
        if self.status in self.down_states:
            return minute  # a down minute is bad
        if not self.transitions:
            return _NEVER
        return int(self.transitions[0].ts // MINUTE)

    def _pass_quiet(self, minute: int, stop: int) -> int:
        """With a calendar an idle minute's total is its open seconds, which vary: they are
        summed per stretch (whole seconds, so exactly as minute by minute)."""
        calendar = self.calendar
        if calendar is None:
            return super()._pass_quiet(minute, stop)
        totals = self.months[self._month[4]]
        open_seconds = calendar.business_seconds(minute * MINUTE, stop * MINUTE)
        if _whole(totals[1]) and _whole(open_seconds) and _whole(totals[1] + open_seconds):
            totals[1] += open_seconds
        else:
            for each in range(minute, stop):
                totals[1] += self._minute_open_seconds(each)
        self.burn.push_idle_minutes(
            lambda skip, count: self._minute_totals(minute + skip, minute + count), stop - minute
        )
        return stop

    def _minute_open_seconds(self, minute: int) -> float:
        return self._open_seconds(minute * MINUTE, (minute + 1) * MINUTE)

    def _minute_totals(self, first: int, stop: int) -> list[float]:
        """Open seconds of each minute from ``first`` to ``stop`` (excluded).

        The same floats as ``_minute_open_seconds`` minute by minute (each minute's
        overlaps with the open intervals, added in order), from the intervals of the
        days the span touches: a minute wholly open is 60 without a calendar query.
        """
        calendar = self.calendar
        assert calendar is not None
        start, end = first * MINUTE, stop * MINUTE
        totals = [0.0] * (stop - first)
        day = datetime.fromtimestamp(start, calendar.zone).date()
        last_day = datetime.fromtimestamp(end - 1, calendar.zone).date()
        while day <= last_day:
            for open_, close in calendar.open_intervals_on(day):
                low, high = max(open_, start), min(close, end)
                if low >= high:
                    continue
                first_index = int((low - start) // MINUTE)
                last_index = int((high - start) // MINUTE)
                if first_index == last_index:
                    totals[first_index] += high - low
                    continue
                totals[first_index] += start + (first_index + 1) * MINUTE - low
                for index in range(first_index + 1, last_index):
                    totals[index] += MINUTE
                if last_index < len(totals) and high > start + last_index * MINUTE:
                    totals[last_index] += high - (start + last_index * MINUTE)
            day += timedelta(days=1)
        return totals

    def budget_holds_while_idle(self, bad: float, total: float, year: int, month: int) -> bool:
        """The month's open seconds are fixed, so a budget left stays left without bad."""
        return not bad > self.budget * self.expected_total(year, month, total)

    def _open_seconds(self, start: float, end: float) -> float:
        if self.calendar is None:
            return end - start
        return self.calendar.business_seconds(start, end)

    def expected_total(
        self, year: int, month: int, month_total: float, until: float | None = None
    ) -> float:
        cached = self._open_months.get((year, month))
        if cached is None:
            start, end = month_bounds(self.timezone, year, month)
            cached = self._open_months[year, month] = self._open_seconds(start, end)
        return cached

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["status"] = self.status
        state["transitions"] = [list(t) for t in self.transitions]
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.status = state["status"]
        # [ts, status] entries predate the event_id tie-break: order them first.
        self.transitions = [Transition(*t) for t in state["transitions"]]


class ComplianceTracker(PeriodTracker):
    """Share of items that met their deadline per month (``target`` on an item objective)."""

    kind = "compliance"

    def __init__(
        self,
        contract_id: str,
        objective: ItemObjective | WindowObjective,
        timezone: str,
        labels: dict[str, str],
        min_volume: int,
    ) -> None:
        assert objective.target is not None
        super().__init__(
            contract_id,
            objective.id,
            objective.target,
            timezone,
            labels,
            min_volume=min_volume,
            clause=objective.clause,
        )
        self.pending: dict[int, list[float]] = {}

    def record(self, instant: float, met: bool) -> None:
        minute = math.floor(instant // MINUTE)
        if self.next_minute is not None:
            minute = max(minute, self.next_minute)
        self.quiet_until = min(self.quiet_until, minute)
        pair = self.pending.setdefault(minute, [0.0, 0.0])
        pair[0] += 0.0 if met else 1.0
        pair[1] += 1.0

    def minute_amounts(self, minute: int) -> tuple[float, float]:
        pair = self.pending.pop(minute, None)
        return (pair[0], pair[1]) if pair else (0.0, 0.0)

    def idle_until(self, minute: int) -> int:
        return min((m for m in self.pending if m >= minute), default=_NEVER)

    def budget_holds_while_idle(self, bad: float, total: float, year: int, month: int) -> bool:
        """Idle minutes add no items, and the projection never falls below the items so
        far (the share of the month elapsed is at most 1): ``bad > budget * expected``
        cannot start to hold if ``bad > budget * total`` does not."""
        return total < self.min_volume or not bad > self.budget * total

    def expected_total(
        self, year: int, month: int, month_total: float, until: float | None = None
    ) -> float:
        """Projected decided items this month, from the pace so far.

        Inside :meth:`advance` ``until`` is the minute boundary being evaluated, so the
        projection does not depend on how many minutes one call advances.
        """
        if until is None:
            if self.next_minute is None:
                return month_total
            until = self.next_minute * MINUTE + MINUTE
        start, end = month_bounds(self.timezone, year, month)
        elapsed = min(end, until) - start
        share = elapsed / (end - start)
        return month_total / share if share > 0 else month_total

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["pending"] = [[k, v[0], v[1]] for k, v in sorted(self.pending.items())]
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.pending = {k: [b, t] for k, b, t in state["pending"]}

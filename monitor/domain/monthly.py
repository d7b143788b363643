"""A contract's monthly objectives, advanced together, their quiet minutes settled lazily.

Advancing lets a monthly tracker skip its quiet minutes (see
``PeriodTracker._quiet_horizon``): such a minute only adds to totals and can raise no
alert, so it is accounted when the tracker is next written or read. Every write and
read goes through :class:`MonthlyTrackers`, which settles first: no caller has to
remember to. A write settles only the tracker it writes (the others' quiet minutes
come out the same whenever they are accounted); a read settles them all. Most
minutes of most trackers are quiet.
"""

from __future__ import annotations

from typing import Any

from monitor.domain.alerts import Alert
from monitor.domain.observer import Observer
from monitor.domain.periods import AvailabilityTracker, ComplianceTracker, PeriodTracker


class MonthlyTrackers:
    """The availability, compliance and monthly contact trackers of one contract."""

    __slots__ = ("_availability", "_compliance", "_minute", "owed", "trackers")

    def __init__(self) -> None:
        self.trackers: list[PeriodTracker] = []  # in agreement order
        self._availability: dict[str, list[AvailabilityTracker]] = {}
        self._compliance: dict[str, ComplianceTracker] = {}
        self._minute: int | None = None  # derived: the minute last advanced to
        self.owed = False  # derived: some tracker skipped quiet minutes up to _minute

    def add_availability(self, tracker: AvailabilityTracker) -> None:
        self._availability.setdefault(tracker.objective.service, []).append(tracker)
        self.trackers.append(tracker)

    def add_contacts(self, tracker: PeriodTracker) -> None:
        """A contact objective's month tracker: it settles through :meth:`settle_tracker`
        itself before counting a contact."""
        self.trackers.append(tracker)

    def add_compliance(self, tracker: ComplianceTracker) -> None:
        self._compliance[tracker.objective_id] = tracker
        self.trackers.append(tracker)

    # -- writes ------------------------------------------------------------------

    def start_at(self, ts: float) -> None:
        """An event before every one so far: the trackers account from its minute."""
        self.settle()
        self._minute = None
        for tracker in self.trackers:
            tracker.start_at(ts)

    def record_status(self, service: str, ts: float, status: str, event_id: str) -> None:
        for tracker in self._availability.get(service, ()):
            self.settle_tracker(tracker)
            tracker.record(ts, status, event_id)

    def record_decided(self, objective_id: str, instant: float, met: bool) -> None:
        """An item clock counted as met or missed: its month's compliance counts it."""
        compliance = self._compliance.get(objective_id)
        if compliance is not None:
            self.settle_tracker(compliance)
            compliance.record(instant, met)

    def advance(self, watermark: float, minute: int, alerts: list[Alert]) -> None:
        """Bring every tracker to ``minute`` (the watermark's), skipping quiet minutes."""
        for tracker in self.trackers:
            next_minute = tracker.next_minute
            if next_minute is not None and next_minute < minute:
                if minute <= tracker.quiet_until and tracker.observer is None:
                    self.owed = True  # quiet minutes: accounted when next looked at
                    continue
                tracker.advance(watermark, alerts)
        self._minute = minute

    def settle_tracker(self, tracker: PeriodTracker) -> None:
        """Account the quiet minutes :meth:`advance` skipped for one tracker, before it
        is written; the others stay owed."""
        if self.owed and self._minute is not None:
            tracker.settle_quiet(self._minute)

    def settle(self) -> None:
        """Account the quiet minutes :meth:`advance` skipped, all at once."""
        if not self.owed:
            return
        self.owed = False
        if self._minute is None:
            return
        for tracker in self.trackers:
            tracker.settle_quiet(self._minute)

    def observe(self, observer: Observer | None) -> None:
        self.settle()  # quiet minutes skipped so far are not the observer's
        for tracker in self.trackers:
            tracker.observer = observer

    # -- reads -------------------------------------------------------------------

    def compliance(self, objective_id: str) -> ComplianceTracker | None:
        return self._compliance.get(objective_id)

    def to_state(self) -> dict[str, Any]:
        self.settle()
        return {tracker.objective_id: tracker.to_state() for tracker in self.trackers}

    def load_state(self, saved: dict[str, Any] | list[Any]) -> None:
        if isinstance(saved, list):  # older snapshots: trackers in agreement order
            saved = {t.objective_id: st for t, st in zip(self.trackers, saved, strict=False)}
        for tracker in self.trackers:
            if tracker.objective_id in saved:
                tracker.load_state(saved[tracker.objective_id])
        self._minute = None
        self.owed = False

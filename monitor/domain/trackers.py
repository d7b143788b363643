"""One tracker per objective of a contract, each wired to what feeds it.

Window objectives are fed by the contact records and surveys
(:mod:`monitor.domain.contacts`), item objectives by the item clocks
(:mod:`monitor.domain.items`), monthly objectives by service status changes and by
the item clocks' decisions (:mod:`monitor.domain.periods`), or by the contact
records for contact objectives with ``period: month``
(:mod:`monitor.domain.contact_months`). Monthly trackers of every kind are advanced
together by the contract's :class:`~monitor.domain.monthly.MonthlyTrackers`.
"""

from __future__ import annotations

from monitor.domain.agreement import Agreement, ItemObjective, WindowObjective
from monitor.domain.contact_months import ContactMonthTracker
from monitor.domain.contacts import Contacts, Surveys, feed
from monitor.domain.items import ItemClocks, ItemObjectiveTracker
from monitor.domain.monthly import MonthlyTrackers
from monitor.domain.periods import AvailabilityTracker, ComplianceTracker
from monitor.domain.status import ObjectiveTracker
from monitor.domain.windows import WindowClock, WindowTracker


def objective_trackers(
    agreement: Agreement,
    contacts: tuple[Contacts, Contacts, Surveys],
    items: ItemClocks,
    monthly: MonthlyTrackers,
    window_clock: WindowClock,
) -> list[ObjectiveTracker]:
    """A tracker for every objective, in agreement order, each added to its feeds.

    ``contacts`` are the contract's calls, chats and surveys; a window tracker moves
    with ``window_clock``, the minute the contract last advanced its windows to.
    """
    contract_id, timezone, labels = (
        agreement.contract_id,
        agreement.timezone,
        dict(agreement.labels),
    )
    calls, chats, surveys = contacts
    trackers: list[ObjectiveTracker] = []
    for objective in agreement.objectives:
        tracker: ObjectiveTracker
        if isinstance(objective, WindowObjective):
            if objective.period == "month":
                tracker = ContactMonthTracker(
                    contract_id, objective, timezone, labels, monthly.settle_tracker
                )
                monthly.add_contacts(tracker)
            else:
                tracker = WindowTracker(contract_id, objective, labels, window_clock)
            feed(tracker, calls, chats, surveys)
        elif isinstance(objective, ItemObjective):
            items.add_objective(objective)
            compliance = None
            if objective.target is not None and objective.period == "month":
                min_volume = agreement.alerting.min_volume
                compliance = ComplianceTracker(contract_id, objective, timezone, labels, min_volume)
                monthly.add_compliance(compliance)
            tracker = ItemObjectiveTracker(items, objective, compliance)
        else:  # availability
            tracker = AvailabilityTracker(contract_id, objective, timezone, labels)
            monthly.add_availability(tracker)
        trackers.append(tracker)
    return trackers

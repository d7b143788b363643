"""An optional observer of the engine's own decisions, for reports that need detail.

The engine keeps totals; a periodic SLA report also needs *when* and *where*:
the samples per day and hour, each breached item, the outages. Rather than a
second implementation of the SLA math, the engine tells an attached observer
about every contribution it counts, at the moment it counts it:

* ``window_sample`` — one contact or survey added to a window objective
  (the same ``numerator``/``denominator`` the window tracker sums);
* ``item_decided`` — an item clock counted as met or missed (the same outcome
  the engine adds to the objective's met/missed statistics);
* ``item_finished`` — a breached or at-risk item later got its response or
  resolution (the engine's ``resolved`` effect);
* ``period_sample`` — one minute accounted by a monthly tracker (availability:
  seconds down over open seconds; compliance: items missed over items decided);
* ``availability_change`` — a service status transition as the availability
  tracker accounts it.

Summing the observed samples over a span gives the engine's value for that span
(``tests/unit/reporting/test_report_model.py``). Nothing is observed by default: every hook is a
single ``is not None`` test, so an engine without an observer pays nothing else.
Attach one with :func:`attach` before applying events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from monitor.domain import clocks

if TYPE_CHECKING:
    from monitor.domain.agreement import ItemObjective
    from monitor.domain.clocks import Cycle, Effect, LogEntry, Timing
    from monitor.domain.engine import Engine


class Observer(Protocol):
    def window_sample(
        self, contract_id: str, objective_id: str, ts: float, numerator: int, denominator: int
    ) -> None: ...

    def item_decided(
        self,
        contract_id: str,
        objective_id: str,
        kind: str,
        item_id: str,
        queue: str | None,
        channel: str | None,
        started: float,
        deadline: float | None,
        finished: float | None,
        met: bool,
        instant: float,
    ) -> None: ...

    def item_finished(
        self,
        contract_id: str,
        objective_id: str,
        kind: str,
        item_id: str,
        started: float,
        finished: float,
    ) -> None: ...

    def period_sample(
        self, contract_id: str, objective_id: str, minute_start: float, bad: float, total: float
    ) -> None: ...

    def availability_change(
        self, contract_id: str, objective_id: str, ts: float, status: str
    ) -> None: ...


def attach(engine: Engine, observer: Observer | None) -> None:
    """Route the engine's decisions to ``observer`` (``None`` detaches)."""
    for contract in engine.contracts.values():
        contract.observer = observer


def observe_item_effect(
    observer: Observer,
    contract_id: str,
    kind: str,
    item_id: str,
    log: list[LogEntry],
    objective: ItemObjective,
    cycle: Cycle,
    timing: Timing,
    effect: Effect,
) -> None:
    """Tell the observer about one item effect the engine counts (met, breached, resolved)."""
    if effect.kind == "resolved":
        observer.item_finished(
            contract_id, objective.id, kind, item_id, cycle.start, effect.instant
        )
        return
    if effect.kind not in ("met", "breached"):
        return
    attrs = clocks.item_attributes(log, effect.instant)
    observer.item_decided(
        contract_id,
        objective.id,
        kind,
        item_id,
        attrs.queue if attrs is not None else None,
        attrs.channel if attrs is not None else None,
        cycle.start,
        timing.deadline,
        cycle.finish,
        effect.kind == "met",
        effect.instant,
    )

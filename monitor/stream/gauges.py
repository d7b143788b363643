"""Objective gauges from ``Engine.objective_status()``, refreshed every few seconds.

Each contract lives on one partition (its key's partition), so only the worker
owning that partition sets the contract's gauges; label sets of contracts that
moved away are removed, so two workers never export the same series.

A value that becomes undefined (an SLI with no samples in its window, no error
budget or burn rate yet) removes its series rather than keeping the last value:
a stale number would read as current, and ``absent()`` can alert on the gap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import Gauge

from monitor.domain.status import ObjectiveStatus
from monitor.metrics import OBJECTIVE_STATUS, Metrics

__all__ = ["ObjectiveGauges", "partition_of"]

_PARTITIONER = DefaultPartitioner()


def partition_of(contract_id: str, partitions: int) -> int:
    """The partition producers keyed by ``contract_id`` write to (Kafka's murmur2)."""
    every = list(range(partitions))
    return int(_PARTITIONER(contract_id.encode(), every, every))


class ObjectiveGauges:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._exported: set[tuple[str, str]] = set()

    def update(self, statuses: Iterable[ObjectiveStatus]) -> None:
        m = self.metrics
        exported: set[tuple[str, str]] = set()
        for s in statuses:
            labels = (s.contract_id, s.objective_id)
            exported.add(labels)
            _set_or_remove(m.objective_sli, labels, s.value)
            m.objective_target.labels(*labels).set(s.target)
            m.objective_status.labels(*labels).set(OBJECTIVE_STATUS.get(s.status, 0))
            m.items_open.labels(*labels).set(s.open_items)
            m.items_at_risk.labels(*labels).set(s.at_risk_items)
            _set_or_remove(m.error_budget_remaining, labels, s.budget_remaining)
            _set_or_remove(m.burn_rate, (*labels, "1h"), s.burn_rate_fast)
            _set_or_remove(m.burn_rate, (*labels, "6h"), s.burn_rate_slow)
        for labels in self._exported - exported:
            self._remove(labels)
        self._exported = exported

    def _remove(self, labels: tuple[str, str]) -> None:
        m = self.metrics
        for gauge in (
            m.objective_sli,
            m.objective_target,
            m.objective_status,
            m.items_open,
            m.items_at_risk,
            m.error_budget_remaining,
        ):
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)
        for window in ("1h", "6h"):
            with contextlib.suppress(KeyError):
                m.burn_rate.remove(*labels, window)


def _set_or_remove(gauge: Gauge, labels: tuple[str, ...], value: float | None) -> None:
    if value is None:
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)
    else:
        gauge.labels(*labels).set(value)

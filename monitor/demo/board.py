"""The demo's picture of the monitored world, built only from public contracts.

:class:`AlertBoard` folds the alerts topic (the alert contract in docs/design.md)
into open alerts by fingerprint; :class:`MetricsSnapshot` reads a Prometheus text
scrape of the worker (the metric contract). :func:`objective_rows` joins both with the agreements
into one row per objective. Nothing here does I/O, so it is the same for an
in-process worker, a subprocess or a remote cluster.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from prometheus_client.parser import text_string_to_metric_families

from monitor.domain.agreement import Agreement
from monitor.domain.alerts import STATE_ORDER

__all__ = ["AlertBoard", "MetricsSnapshot", "ObjectiveRow", "objective_rows"]

OPEN_STATES: Final = ("at_risk", "breached")
ITEM_KINDS: Final = frozenset({"ticket", "chat", "call"})
STATUS_BY_CODE: Final = {0: "ok", 1: "at_risk", 2: "breached"}
_SEVERITY: Final = {"ok": 0, "no data": 0, "at_risk": 1, "breached": 2}


def _order(alert: dict[str, Any]) -> tuple[str, int]:
    return (str(alert.get("event_time", "")), STATE_ORDER.get(alert.get("state", ""), 0))


@dataclass
class AlertBoard:
    """Open alerts by fingerprint, counts by state and the latest changes."""

    latest_size: int = 50
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_state: Counter[str] = field(default_factory=Counter)
    breaches: Counter[tuple[str, str]] = field(default_factory=Counter)
    latest: deque[dict[str, Any]] = field(init=False)
    _seen: set[str] = field(default_factory=set)
    _last: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.latest = deque(maxlen=self.latest_size)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def add(self, alert: dict[str, Any]) -> None:
        """Fold one alert state change in; a redelivered ``alert_id`` changes nothing."""
        alert_id = str(alert.get("alert_id", ""))
        if alert_id in self._seen:
            return
        self._seen.add(alert_id)
        state = str(alert.get("state"))
        self.by_state[state] += 1
        self.latest.append(alert)
        if state == "breached":
            self.breaches[(alert["contract_id"], alert["objective_id"])] += 1
        fingerprint = str(alert.get("fingerprint"))
        if self._last.get(fingerprint, ("", -1)) > _order(alert):
            return  # an older change arriving late does not reopen or close anything
        self._last[fingerprint] = _order(alert)
        if state in OPEN_STATES:
            self.open[fingerprint] = alert
        else:
            self.open.pop(fingerprint, None)

    def status(self, contract_id: str, objective_id: str) -> str:
        """``breached`` / ``at_risk`` / ``ok`` from the open alerts of one objective."""
        worst = "ok"
        for alert in self.open.values():
            if (alert["contract_id"], alert["objective_id"]) == (contract_id, objective_id):
                if alert["state"] == "breached":
                    return "breached"
                worst = "at_risk"
        return worst

    def items(self, state: str) -> list[dict[str, Any]]:
        """Open item alerts (tickets, chats, calls) in ``state``, oldest first."""
        found = [
            alert
            for alert in self.open.values()
            if alert["state"] == state and alert.get("subject", {}).get("kind") in ITEM_KINDS
        ]
        return sorted(found, key=_order)


@dataclass(frozen=True)
class MetricsSnapshot:
    """Samples of one scrape: ``{(name, sorted label items): value}``."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> MetricsSnapshot:
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        return cls(samples)

    def get(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def total(self, name: str) -> float:
        """Sum of every series of ``name`` (e.g. ``slamon_events_total`` over types)."""
        return sum(value for (sample, _), value in self.samples.items() if sample == name)


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    contract_id: str
    objective_id: str
    kind: str
    status: str  # ok, at_risk, breached, or "no data" before the worker reported
    sli: float | None
    target: str
    open_items: int | None
    at_risk_items: int | None
    breaches: int

    @property
    def severity(self) -> int:
        return _SEVERITY[self.status]


def objective_rows(
    agreements: Sequence[Agreement], board: AlertBoard, metrics: MetricsSnapshot | None
) -> list[ObjectiveRow]:
    """One row per objective; status from the worker's metrics when it exports them."""
    rows = []
    for agreement in agreements:
        for objective in agreement.objectives:
            ids = {"contract": agreement.contract_id, "objective": objective.id}
            code = metrics.get("slamon_objective_status", **ids) if metrics else None
            status = STATUS_BY_CODE.get(int(code), "ok") if code is not None else None
            from_alerts = board.status(agreement.contract_id, objective.id)
            rows.append(
                ObjectiveRow(
                    contract_id=agreement.contract_id,
                    objective_id=objective.id,
                    kind=objective.kind,
                    status=_worst(status, from_alerts),
                    sli=metrics.get("slamon_objective_sli", **ids) if metrics else None,
                    target=_target_text(objective),
                    open_items=_int(metrics.get("slamon_items_open", **ids) if metrics else None),
                    at_risk_items=_int(
                        metrics.get("slamon_items_at_risk", **ids) if metrics else None
                    ),
                    breaches=board.breaches[(agreement.contract_id, objective.id)],
                )
            )
    return rows


def _worst(*statuses: str | None) -> str:
    known = [status for status in statuses if status is not None]
    return max(known, key=_SEVERITY.__getitem__) if known else "ok"


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _target_text(objective: Any) -> str:
    target = getattr(objective, "target", None)
    if target is not None:
        value = f"{target.value * 100:g}%" if target.unit == "ratio" else f"{target.value:g}s"
        return f"{target.comparator} {value}"
    within = getattr(objective, "within", None)
    return f"within {within}" if within is not None else "-"


def count_by_status(rows: Iterable[ObjectiveRow]) -> Counter[str]:
    return Counter(row.status for row in rows)

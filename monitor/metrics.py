"""Every Prometheus metric slamon exports: one place, one registry.

The names and labels here are a public contract: deploy/ (Grafana dashboard,
Prometheus rules) is built on exactly these. Labels are contract, objective,
queue, channel, sink, reason, plus small closed sets (type, state, outcome,
topic, partition, window) — never item ids.

Adapters (the worker, the notifier) update these; the pure domain never imports
this module. Tests build a fresh :class:`Metrics` on their own registry.

Counters and histograms export no ``_created`` series: building :class:`Metrics`
turns them off for the whole process (client_python's switch is global). They
double the series count and no dashboard or rule here reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
)

from monitor.version import slamon_version

__all__ = ["OBJECTIVE_STATUS", "BuildInfo", "Metrics", "metric_names"]

# slamon_objective_status values
OBJECTIVE_STATUS = {"ok": 0, "at_risk": 1, "breached": 2}

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_DELIVERY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_OBJECTIVE = ("contract", "objective")


class BuildInfo(Info):
    """``slamon_build_info``: the version always, plus what the caller adds (its role)."""

    def info(self, val: dict[str, str]) -> None:
        super().info({"version": slamon_version(), **val})


@dataclass
class Metrics:
    """The metric objects, registered on ``registry`` (a fresh one by default)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]
        r = self.registry
        self.build_info = BuildInfo(
            "slamon_build", "slamon version and role of this process", registry=r
        )
        self.build_info.info({})
        # -- input ----------------------------------------------------------------
        self.events = Counter(
            "slamon_events", "Valid events received, by event type", ["type"], registry=r
        )
        self.events_invalid = Counter(
            "slamon_events_invalid",
            "Malformed events sent to the dead-letter topic, by reason code",
            ["reason"],
            registry=r,
        )
        self.events_late = Counter(
            "slamon_events_late",
            "Events older than the watermark (applied where their bucket is still held)",
            ["contract"],
            registry=r,
        )
        self.events_too_late = Counter(
            "slamon_events_too_late",
            "Events dropped because they were more than the horizon behind the watermark",
            ["contract"],
            registry=r,
        )
        self.events_duplicate = Counter(
            "slamon_events_duplicate",
            "Events ignored because their event_id was already applied",
            ["contract"],
            registry=r,
        )
        self.events_unknown_contract = Counter(
            "slamon_events_unknown_contract",
            "Events for a contract_id no agreement file defines",
            registry=r,
        )
        # -- objectives -----------------------------------------------------------
        self.agreements_loaded = Gauge(
            "slamon_agreements_loaded", "Agreement files loaded by this process", registry=r
        )
        self.objective_sli = Gauge(
            "slamon_objective_sli",
            "Current SLI per objective (window value, month to date, or share of items in time)",
            _OBJECTIVE,
            registry=r,
        )
        self.objective_target = Gauge(
            "slamon_objective_target", "Target of each objective", _OBJECTIVE, registry=r
        )
        self.objective_status = Gauge(
            "slamon_objective_status",
            "Objective status: 0 ok, 1 at risk, 2 breached",
            _OBJECTIVE,
            registry=r,
        )
        self.items_open = Gauge(
            "slamon_items_open",
            "Items (tickets, chats, calls) whose clock for the objective is running",
            _OBJECTIVE,
            registry=r,
        )
        self.items_at_risk = Gauge(
            "slamon_items_at_risk",
            "Open items past a warn_at share of their budget and not yet breached",
            _OBJECTIVE,
            registry=r,
        )
        self.breaches = Counter(
            "slamon_breaches",
            "Breaches (items past their deadline, windows and periods out of target)",
            [*_OBJECTIVE, "queue", "channel"],
            registry=r,
        )
        self.alerts = Counter(
            "slamon_alerts",
            "Alert state changes published to the alerts topic",
            [*_OBJECTIVE, "state"],
            registry=r,
        )
        self.error_budget_remaining = Gauge(
            "slamon_error_budget_remaining_ratio",
            "Share of the period's error budget left (monthly objectives)",
            _OBJECTIVE,
            registry=r,
        )
        self.burn_rate = Gauge(
            "slamon_burn_rate",
            "Error-budget burn rate over a window, scaled to the period (monthly objectives)",
            [*_OBJECTIVE, "window"],
            registry=r,
        )
        # -- stream health --------------------------------------------------------
        self.watermark_lag = Gauge(
            "slamon_watermark_lag_seconds",
            "Wall clock minus the partition's event-time watermark",
            ["partition"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "slamon_consumer_lag_messages",
            "Messages between the committed/consumed offset and the end of the partition",
            ["topic", "partition"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "slamon_processing_latency_seconds",
            "From a message's Kafka timestamp to the end of its processing",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.worker_ready = Gauge(
            "slamon_worker_ready", "1 when partitions are assigned and state recovered", registry=r
        )
        self.offset_gaps = Counter(
            "slamon_offset_gaps",
            "Fetched batches that started past the next expected offset (dropped, re-read)",
            ["topic"],
            registry=r,
        )
        # -- notifications --------------------------------------------------------
        self.notifications = Counter(
            "slamon_notifications",
            "Notification attempts by sink and outcome (sent, retry, failed, dead_letter)",
            ["sink", "outcome"],
            registry=r,
        )
        self.notification_retries = Counter(
            "slamon_notification_retries", "Retried notification attempts", ["sink"], registry=r
        )
        self.notification_delivery = Histogram(
            "slamon_notification_delivery_seconds",
            "From the alert's publication to the sink's acceptance",
            ["sink"],
            buckets=_DELIVERY_BUCKETS,
            registry=r,
        )
        self.notifications_pending = Gauge(
            "slamon_notifications_pending", "Notifications not yet delivered", ["sink"], registry=r
        )


_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "info": ("_info",),
}


def metric_names(metrics: Metrics) -> set[str]:
    """Every sample name this process can export (``_total`` for counters, histogram parts)."""
    return {
        collector.name + suffix
        for collector in metrics.registry.collect()
        for suffix in _SUFFIXES[collector.type]
    }

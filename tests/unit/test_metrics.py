"""The metric contract: names, labels and help text."""

from __future__ import annotations

import importlib.metadata

from prometheus_client import CollectorRegistry, generate_latest

from monitor.domain.status import ObjectiveStatus
from monitor.metrics import Metrics, metric_names
from monitor.stream.gauges import ObjectiveGauges
from monitor.version import slamon_version


def test_every_metric_is_slamon_prefixed_and_has_help_text() -> None:
    metrics = Metrics()
    collectors = list(metrics.registry.collect())
    assert len(collectors) >= 20
    for collector in collectors:
        assert collector.name.startswith("slamon_"), collector.name
        assert collector.documentation.strip(), collector.name


def test_no_metric_is_labelled_by_item() -> None:
    forbidden = {"ticket_id", "call_id", "chat_id", "item", "event_id", "id"}
    exposition = generate_latest(Metrics().registry).decode()
    for line in exposition.splitlines():
        if line.startswith("# HELP") or line.startswith("# TYPE"):
            continue
        assert not any(f"{label}=" in line for label in forbidden), line


def test_metric_names_lists_exported_sample_names() -> None:
    metrics = Metrics()
    metrics.events.labels(type="call.offered").inc()
    metrics.processing_latency.observe(0.01)
    names = metric_names(metrics)
    assert {"slamon_events_total", "slamon_objective_status"} <= names
    assert "slamon_processing_latency_seconds_bucket" in names
    exported = {
        line.split("{")[0].split(" ")[0]
        for line in generate_latest(metrics.registry).decode().splitlines()
        if line and not line.startswith("#")
    }
    assert exported <= names


def test_counters_and_histograms_export_no_created_series() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.events.labels(type="call.offered").inc()
    metrics.processing_latency.observe(0.01)
    metrics.notification_delivery.labels(sink="slack").observe(0.2)

    exposition = generate_latest(metrics.registry).decode()

    assert "slamon_events_total" in exposition
    assert "_created" not in exposition


def test_build_info_names_the_installed_version_and_the_role() -> None:
    metrics = Metrics(CollectorRegistry())
    before = metrics.registry.get_sample_value("slamon_build_info", {"version": slamon_version()})
    metrics.build_info.info({"role": "worker"})

    assert before == 1.0
    assert slamon_version() == importlib.metadata.version("slamon")
    assert (
        metrics.registry.get_sample_value(
            "slamon_build_info", {"version": slamon_version(), "role": "worker"}
        )
        == 1.0
    )


def _status(value: float | None, budget: float | None = None) -> ObjectiveStatus:
    return ObjectiveStatus(
        contract_id="acme",
        objective_id="asa",
        kind="average_speed_of_answer",
        value=value,
        target=30.0,
        comparator="<=",
        status="ok",
        open_items=0,
        at_risk_items=0,
        breaches=0,
        budget_remaining=budget,
        burn_rate_fast=budget,
        burn_rate_slow=budget,
    )


def test_an_sli_that_becomes_undefined_is_removed_not_kept_at_its_last_value() -> None:
    metrics = Metrics(CollectorRegistry())
    gauges = ObjectiveGauges(metrics)
    labels = {"contract": "acme", "objective": "asa"}
    get = metrics.registry.get_sample_value

    gauges.update([_status(12.5, budget=0.4)])
    assert get("slamon_objective_sli", labels) == 12.5
    assert get("slamon_error_budget_remaining_ratio", labels) == 0.4
    assert get("slamon_burn_rate", labels | {"window": "1h"}) == 0.4

    gauges.update([_status(None)])
    assert get("slamon_objective_sli", labels) is None
    assert get("slamon_error_budget_remaining_ratio", labels) is None
    assert get("slamon_burn_rate", labels | {"window": "6h"}) is None
    assert get("slamon_objective_target", labels) == 30.0

    gauges.update([_status(20.0)])
    assert get("slamon_objective_sli", labels) == 20.0

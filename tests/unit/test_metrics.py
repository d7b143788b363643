"""The metric contract: names, labels and help text (DESIGN.md §6)."""

from __future__ import annotations

from prometheus_client import generate_latest

from monitor.metrics import Metrics, metric_names


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

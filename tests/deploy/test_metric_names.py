"""Every metric the dashboard and the rules use is one slamon exports, with help text."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest

from monitor.metrics import Metrics, metric_names
from tests.deploy.promql import (
    DASHBOARDS,
    GRAFANA_RULES,
    PROMETHEUS_RULES,
    dashboard_exprs,
    grafana_rule_exprs,
    prometheus_rules,
    recording_rules,
)
from tests.deploy.promql import metric_names as names_in

# Series Prometheus itself adds to every scrape (used by SlamonDown).
PROMETHEUS_SYNTHETIC = {"up"}


def known_names() -> set[str]:
    return metric_names(Metrics()) | set(recording_rules()) | PROMETHEUS_SYNTHETIC


def used_in(path: Path) -> set[str]:
    if path.suffix == ".json":
        exprs = dashboard_exprs(path)
    elif path == GRAFANA_RULES:
        exprs = list(grafana_rule_exprs().values())
    else:
        exprs = [str(rule["expr"]) for rule in prometheus_rules(path)]
    return {name for expr in exprs for name in names_in(expr)}


SOURCES = [*DASHBOARDS, GRAFANA_RULES, *PROMETHEUS_RULES]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_metric_referenced_is_exported_by_slamon(path: Path) -> None:
    used = used_in(path)
    assert used, f"{path}: no metric found"
    assert used - known_names() == set()


def test_the_dashboard_is_built_only_on_slamon_metrics() -> None:
    for path in DASHBOARDS:
        assert {name for name in used_in(path) if not name.startswith("slamon_")} == set()


def test_every_slamon_metric_family_is_on_the_dashboard() -> None:
    families = {collector.name for collector in Metrics().registry.collect()}
    on_dashboard = {name for path in DASHBOARDS for name in used_in(path)}
    shown = {
        family
        for family in families
        if any(name == family or name.startswith(family + "_") for name in on_dashboard)
    }
    assert families - shown == set()


def test_every_exported_metric_has_help_text_in_the_exposition() -> None:
    exposition = generate_latest(Metrics().registry).decode()
    helps = {
        line.split(" ", 3)[2]: line.split(" ", 3)[3]
        for line in exposition.splitlines()
        if line.startswith("# HELP ")
    }
    families = {collector.name for collector in Metrics().registry.collect()}
    for family in families:
        exposed = family + "_total" if family + "_total" in helps else family
        exposed = family + "_info" if family + "_info" in helps else exposed
        assert exposed.startswith("slamon_")
        assert helps.get(exposed, "").strip(), f"{family} has no HELP text"


def test_recording_rules_follow_the_level_metric_operations_convention() -> None:
    for name, expr in recording_rules().items():
        level, metric, operations = name.split(":")
        assert level == "slamon", name
        assert metric, name
        assert operations, name
        assert all(n.startswith("slamon_") for n in names_in(expr)), name

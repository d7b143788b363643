"""deploy/grafana: dashboard structure, provisioning files, and alert rules that
mirror the Prometheus alerts (Grafana itself is not installable here)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.metrics import OBJECTIVE_STATUS
from tests.deploy.conftest import DEPLOY
from tests.deploy.promql import (
    DASHBOARDS,
    GRAFANA_RULES,
    alerting_rules,
    load_yaml,
    normalized,
    panels,
    parse,
    recording_rules,
)

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "slamon.json"
DATASOURCE_UID = "slamon-prometheus"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def exprs_of(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel.get("targets", [])]


def test_the_dashboard_is_the_only_one_and_has_a_stable_uid(dashboard: dict[str, Any]) -> None:
    assert DASHBOARDS == [DASHBOARD]
    assert dashboard["uid"] == "slamon-overview"
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["title"]


def test_template_variables_contract_and_objective(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["datasource"]["current"]["value"] == DATASOURCE_UID
    contract, objective = variables["contract"], variables["objective"]
    assert contract["query"]["query"] == "label_values(slamon_objective_status, contract)"
    assert objective["query"]["query"] == (
        'label_values(slamon_objective_status{contract=~"$contract"}, objective)'
    )
    for variable in (contract, objective):
        assert variable["multi"]
        assert variable["includeAll"]
        assert variable["allValue"] == ".*"


def test_every_panel_queries_the_datasource_variable_with_valid_promql(
    dashboard: dict[str, Any],
) -> None:
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for expr in exprs_of(panel):
            parse(expr)  # raises on invalid PromQL


def test_panels_fit_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in panels(dashboard):
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


# What the issue asks the dashboard to show → a metric some panel must query.
REQUIRED = {
    "objective status grid": "slamon_objective_status",
    "SLI": "slamon_objective_sli",
    "target": "slamon_objective_target",
    "open items": "slamon_items_open",
    "at-risk items": "slamon_items_at_risk",
    "breaches": "slamon_breaches_total",
    "burn rate": "slamon_burn_rate",
    "remaining error budget": "slamon_error_budget_remaining_ratio",
    "notification health": "slamon_notifications_total",
    "consumer lag": "slamon_consumer_lag_messages",
    "watermark lag": "slamon_watermark_lag_seconds",
    "dead-letter rate": "slamon_events_invalid_total",
}


@pytest.mark.parametrize(("what", "metric"), REQUIRED.items(), ids=list(REQUIRED))
def test_the_dashboard_shows(dashboard: dict[str, Any], what: str, metric: str) -> None:
    assert any(metric in expr for p in panels(dashboard) for expr in exprs_of(p)), what


def test_objective_panels_follow_the_contract_and_objective_variables(
    dashboard: dict[str, Any],
) -> None:
    per_objective = ("slamon_objective_", "slamon_items_", "slamon_breaches_", "slamon_burn_")
    for panel in panels(dashboard):
        for expr in exprs_of(panel):
            if any(prefix in expr for prefix in per_objective):
                assert 'contract=~"$contract"' in expr, panel["title"]
                assert 'objective=~"$objective"' in expr, panel["title"]


def test_the_status_grid_repeats_per_contract_and_names_the_three_states(
    dashboard: dict[str, Any],
) -> None:
    grid = next(p for p in panels(dashboard) if p.get("repeat") == "contract")
    assert grid["type"] == "stat"
    assert any("slamon_objective_status" in expr for expr in exprs_of(grid))
    mapping = grid["fieldConfig"]["defaults"]["mappings"][0]["options"]
    texts = {int(value): option["text"] for value, option in mapping.items()}
    assert texts == {
        OBJECTIVE_STATUS["ok"]: "OK",
        OBJECTIVE_STATUS["at_risk"]: "AT RISK",
        OBJECTIVE_STATUS["breached"]: "BREACHED",
    }


def test_provisioned_datasource_is_the_one_the_dashboard_and_rules_use() -> None:
    (datasource,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "slamon.yml")[
        "datasources"
    ]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["type"] == "prometheus"
    rules = load_yaml(GRAFANA_RULES)["groups"][0]["rules"]
    queried = {d["datasourceUid"] for rule in rules for d in rule["data"] if d["refId"] == "A"}
    assert queried == {DATASOURCE_UID}


# -- Grafana-managed alert rules --------------------------------------------------

_THRESHOLDS = {">": "gt", "<": "lt"}


def grafana_rules() -> dict[str, dict[str, Any]]:
    doc = load_yaml(GRAFANA_RULES)
    assert doc["apiVersion"] == 1
    return {rule["title"]: rule for group in doc["groups"] for rule in group["rules"]}


def inline_recordings(expr: str) -> str:
    """The expression with each recording rule's name replaced by its definition."""
    if expr in recording_rules():
        return recording_rules()[expr]
    for name, definition in recording_rules().items():
        expr = expr.replace(name, f"({definition})")
    return expr


def test_one_grafana_rule_per_prometheus_alert_with_the_same_labels_and_for() -> None:
    prometheus, grafana = alerting_rules(), grafana_rules()
    assert set(grafana) == set(prometheus)
    uids = [rule["uid"] for rule in grafana.values()]
    assert len(uids) == len(set(uids))
    for name, rule in grafana.items():
        assert rule["labels"] == prometheus[name]["labels"], name
        assert _seconds(rule["for"]) == _seconds(prometheus[name].get("for", "0s")), name
        assert rule["annotations"]["runbook"] == prometheus[name]["annotations"]["runbook"]


@pytest.mark.parametrize("name", sorted(alerting_rules()))
def test_grafana_rule_evaluates_the_prometheus_alert_expression(name: str) -> None:
    prometheus, rule = alerting_rules()[name], grafana_rules()[name]
    tree = parse(str(prometheus["expr"]))
    threshold = float(tree.rhs.val)
    data = {d["refId"]: d for d in rule["data"]}
    assert rule["condition"] == "C"
    assert data["B"]["model"] | {"refId": "B"} == {
        "refId": "B",
        "type": "reduce",
        "expression": "A",
        "reducer": "last",
    }
    assert data["C"]["model"]["type"] == "threshold"
    assert data["C"]["model"]["expression"] == "B"
    (condition,) = data["C"]["model"]["conditions"]
    evaluator = condition["evaluator"]
    op = str(tree.op)
    if op == "==":
        # status values are integers: "== n" is "within (n - 0.5, n + 0.5)"
        assert evaluator == {"type": "within_range", "params": [threshold - 0.5, threshold + 0.5]}
    else:
        assert evaluator == {"type": _THRESHOLDS[op], "params": [threshold]}
    lhs = inline_recordings(str(tree.lhs.prettify()))
    assert normalized(data["A"]["model"]["expr"]) == normalized(lhs)


def test_contact_point_and_policy_send_slamon_alerts_to_alertmanager() -> None:
    doc = load_yaml(GRAFANA / "provisioning" / "alerting" / "slamon-contact-points.yml")
    names = {cp["name"] for cp in doc["contactPoints"]}
    (policy,) = doc["policies"]
    assert policy["receiver"] in names
    for route in policy["routes"]:
        assert route["receiver"] in names
        assert route["group_by"] == ["contract", "objective"]
    (receiver,) = doc["contactPoints"][0]["receivers"]
    assert receiver["type"] == "prometheus-alertmanager"


def test_the_slack_and_pagerduty_example_takes_its_keys_from_the_environment() -> None:
    doc = load_yaml(GRAFANA / "examples" / "contact-points-slack-pagerduty.yml")
    receivers = {r["type"]: r for cp in doc["contactPoints"] for r in cp["receivers"]}
    assert receivers["pagerduty"]["settings"]["integrationKey"].startswith("$")
    assert receivers["slack"]["settings"]["url"].startswith("$")
    names = {cp["name"] for cp in doc["contactPoints"]}
    assert {route["receiver"] for route in doc["policies"][0]["routes"]} <= names


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]

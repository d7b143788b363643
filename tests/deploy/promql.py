"""Metric names and expressions of deploy/ files, read with a real PromQL parser.

``promql-parser`` (Rust bindings of the parser GreptimeDB uses) turns each
expression into a syntax tree; the names are the vector selectors found in it.
Grafana's macros are replaced by durations first, as Grafana does before sending.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
from ruamel.yaml import YAML

from tests.deploy.conftest import DEPLOY

PROMETHEUS_RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
GRAFANA_RULES = DEPLOY / "grafana" / "provisioning" / "alerting" / "slamon-rules.yml"

_GRAFANA_MACROS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "6h",
}


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def parse(expr: str) -> Any:
    """The syntax tree of a PromQL expression (Grafana macros replaced)."""
    for macro, value in _GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    return promql_parser.parse(expr)


def normalized(expr: str) -> str:
    """One canonical text per expression (the parser's pretty print)."""
    return str(parse(expr).prettify())


def metric_names(expr: str) -> set[str]:
    """Every metric name the expression selects."""
    return set(_selectors(parse(expr)))


def _selectors(node: Any) -> Iterator[str]:
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            yield node.name
        for matcher in node.matchers.matchers:
            if matcher.name == "__name__":
                yield matcher.value
    elif isinstance(node, promql_parser.MatrixSelector):
        yield from _selectors(node.vector_selector)
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from _selectors(node.lhs)
        yield from _selectors(node.rhs)
    elif isinstance(node, promql_parser.AggregateExpr):
        yield from _selectors(node.expr)
        if node.param is not None:
            yield from _selectors(node.param)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from _selectors(arg)
    elif isinstance(
        node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr
    ):
        yield from _selectors(node.expr)


def prometheus_rules(*paths: Path) -> list[dict[str, Any]]:
    """Every rule (recording and alerting) of the files, by default all of deploy/prometheus."""
    return [
        rule
        for path in paths or PROMETHEUS_RULES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def recording_rules() -> dict[str, str]:
    return {rule["record"]: str(rule["expr"]) for rule in prometheus_rules() if "record" in rule}


def alerting_rules() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in prometheus_rules() if "alert" in rule}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_exprs(path: Path) -> list[str]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", []) if "expr" in t]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query" and isinstance(query, dict):
            exprs.append(_label_values_selector(query["query"]))
    return exprs


def _label_values_selector(query: str) -> str:
    """``label_values(sel, label)`` is Grafana's, not PromQL: check its selector."""
    match = re.fullmatch(r"label_values\((.+),\s*\w+\)", query.strip())
    assert match, f"unexpected variable query {query!r}"
    return match.group(1)


def grafana_rule_exprs() -> dict[str, str]:
    """Title → the PromQL of query A of each Grafana-managed rule."""
    doc = load_yaml(GRAFANA_RULES)
    return {
        rule["title"]: next(d["model"]["expr"] for d in rule["data"] if d["refId"] == "A")
        for group in doc["groups"]
        for rule in group["rules"]
    }

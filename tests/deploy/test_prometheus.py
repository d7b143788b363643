"""deploy/prometheus checked by promtool: config, rules and a unit test for every alert."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.promql import PROMETHEUS_RULES, alerting_rules, load_yaml, parse, recording_rules

PROMETHEUS = DEPLOY / "prometheus"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=120, check=False
    )


def test_prometheus_yml_and_its_rule_files_pass_promtool_check_config(promtool: str) -> None:
    result = run(promtool, "check", "config", PROMETHEUS / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(PROMETHEUS_RULES)} rule files found" in result.stdout


def test_rule_files_pass_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", *PROMETHEUS_RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_the_unit_tests_load_the_real_rule_files() -> None:
    for path in RULE_TESTS:
        loaded = {(path.parent / name).resolve() for name in load_yaml(path)["rule_files"]}
        assert loaded == {rule_file.resolve() for rule_file in PROMETHEUS_RULES}, path


def _alert_expectations() -> tuple[set[str], set[str]]:
    """Alert names some unit test expects to fire, and ones some test expects silent."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in RULE_TESTS:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case["exp_alerts"] else silent).add(case["alertname"])
    return firing, silent


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_silent() -> None:
    firing, silent = _alert_expectations()
    alerts = set(alerting_rules())
    assert alerts, "no alerting rules found"
    assert alerts - firing == set(), "alerts without a firing unit test"
    assert alerts - silent == set(), "alerts without a unit test where they stay silent"
    assert firing | silent <= alerts, "unit tests for alerts that do not exist"


@pytest.mark.parametrize("name", sorted(alerting_rules()))
def test_alert_is_labelled_for_routing_and_links_its_runbook(name: str) -> None:
    rule = alerting_rules()[name]
    assert name.startswith("Slamon")
    assert rule["labels"]["service"] == "slamon"
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"].strip()
    runbook = rule["annotations"]["runbook"]
    doc, _, anchor = runbook.partition("#")
    assert doc == "docs/operations.md"
    assert anchor in _anchors(ROOT / doc), f"{runbook}: no such heading"


def test_objective_alerts_keep_the_labels_alertmanager_groups_by() -> None:
    # Alertmanager groups and inhibits on contract and objective: the recording rule
    # the objective alerts read must keep exactly those labels.
    status = parse(recording_rules()["slamon:objective_status:max"])
    assert sorted(status.modifier.labels) == ["contract", "objective"]
    assert str(status.modifier.type) == "AggModifierType.By"
    for name in ("SlamonObjectiveBreached", "SlamonObjectiveAtRisk"):
        assert "slamon:objective_status:max" in alerting_rules()[name]["expr"]


def _anchors(markdown: Path) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown file."""
    anchors = set()
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", title)))
    return anchors

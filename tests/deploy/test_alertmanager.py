"""deploy/alertmanager/alertmanager.yml checked by amtool: syntax and the routing tree."""

from __future__ import annotations

import subprocess

import pytest

from monitor.sinks.alertmanager import labels_for
from tests.deploy.conftest import DEPLOY

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def amtool_run(amtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([amtool, *args], capture_output=True, text=True, timeout=60, check=False)


def test_config_passes_amtool_check_config(amtool: str) -> None:
    result = amtool_run(amtool, "check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def notifier(state: str, severity: str, contract: str, objective: str) -> list[str]:
    """The labels slamon's Alertmanager sink sends for one alert, as amtool arguments."""
    alert = {"contract_id": contract, "objective_id": objective, "fingerprint": "ab12"}
    return [f"{k}={v}" for k, v in labels_for(alert, state, severity).items()]


# The notifier's alerts (SLABreach/SLAAtRisk, labels from monitor/sinks/alertmanager.py)
# and the Prometheus rules' (Slamon*); docs/operations.md lists both label sets.
ROUTES = [
    (
        "a breach of the contract with its own PagerDuty service",
        notifier("breached", "critical", "cta-apc-nj", "resolution-high"),
        ["pagerduty-cta-apc-nj", "slack-slamon"],
    ),
    (
        "a breach of any other contract pages the SLA on-call",
        notifier("breached", "critical", "cn-branch-support-2024", "repair"),
        ["pagerduty-slamon", "slack-slamon"],
    ),
    (
        "an at-risk warning only goes to Slack",
        notifier("at_risk", "warning", "cta-apc-nj", "resolution-high"),
        ["slack-slamon"],
    ),
    (
        "an objective breached per Prometheus",
        [
            "alertname=SlamonObjectiveBreached",
            "contract=cta-apc-nj",
            "objective=csat",
            "severity=critical",
            "service=slamon",
        ],
        ["pagerduty-cta-apc-nj", "slack-slamon"],
    ),
    (
        "a worker down pages",
        ["alertname=SlamonDown", "instance=w1:9108", "severity=critical", "service=slamon"],
        ["pagerduty-slamon", "slack-slamon"],
    ),
    (
        "consumer lag warns in Slack",
        [
            "alertname=SlamonConsumerLagHigh",
            "topic=slamon.calls",
            "severity=warning",
            "service=slamon",
        ],
        ["slack-slamon"],
    ),
]


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [(labels, receivers) for _, labels, receivers in ROUTES],
    ids=[case for case, _, _ in ROUTES],
)
def test_alerts_route_by_severity_and_contract(
    amtool: str, labels: list[str], receivers: list[str]
) -> None:
    result = amtool_run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={','.join(receivers)}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr

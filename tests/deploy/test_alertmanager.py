"""deploy/alertmanager/alertmanager.yml checked by amtool: syntax and the routing tree."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.conftest import DEPLOY

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def amtool_run(amtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([amtool, *args], capture_output=True, text=True, timeout=60, check=False)


def test_config_passes_amtool_check_config(amtool: str) -> None:
    result = amtool_run(amtool, "check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# Labels as slamon's notifier (SlaBreached/SlaAtRisk) and the Prometheus rules
# (Slamon*) send them; docs/operations.md lists them.
ROUTES = [
    (
        "a breach of the contract with its own PagerDuty service",
        [
            "alertname=SlaBreached",
            "contract=cta-apc-nj",
            "objective=resolution-high",
            "severity=critical",
            "fingerprint=ab12",
        ],
        ["pagerduty-cta-apc-nj", "slack-slamon"],
    ),
    (
        "a breach of any other contract pages the SLA on-call",
        [
            "alertname=SlaBreached",
            "contract=cn-branch-support-2024",
            "objective=repair",
            "severity=critical",
            "fingerprint=cd34",
        ],
        ["pagerduty-slamon", "slack-slamon"],
    ),
    (
        "an at-risk warning only goes to Slack",
        [
            "alertname=SlaAtRisk",
            "contract=cta-apc-nj",
            "objective=resolution-high",
            "severity=warning",
            "fingerprint=ef56",
        ],
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

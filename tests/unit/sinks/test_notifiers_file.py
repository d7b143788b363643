"""The notifiers file: the example loads, secrets stay secret, mistakes name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.domain.escalation import Route
from monitor.sinks.alertmanager import AlertmanagerSink
from monitor.sinks.base import RateLimit
from monitor.sinks.config import NotifiersFileError, load_notifiers
from monitor.sinks.pagerduty import PagerDutySink
from monitor.sinks.retry import RetryPolicy
from monitor.sinks.slack import SlackSink
from monitor.sinks.webhook import WebhookSink

EXAMPLE = Path(__file__).resolve().parents[3] / "notifiers.example.yaml"
ENV = {
    "SLAMON_PD_LEADS_KEY": "pd-leads-VERY-SECRET",
    "SLAMON_PD_ACCOUNT_KEY": "pd-account-VERY-SECRET",
    "SLAMON_OPSGENIE_KEY": "og-VERY-SECRET",
    "SLAMON_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/VERY-SECRET",
    "SLAMON_WEBHOOK_SECRET": "hmac-VERY-SECRET",
}


def test_the_example_file_loads() -> None:
    notifiers = load_notifiers(EXAMPLE, ENV)
    assert set(notifiers.sinks) == {
        "alertmanager",
        "pagerduty-leads",
        "pagerduty-account-manager",
        "service-team-lead",
        "ops-slack",
        "audit-webhook",
    }
    am = notifiers.sinks["alertmanager"]
    assert isinstance(am, AlertmanagerSink)
    assert am.urls == ("http://alertmanager-0:9093", "http://alertmanager-1:9093")
    assert am.resolve_timeout == 300
    assert notifiers.routes["alertmanager"] == Route("alertmanager", repeat_interval=60.0)
    assert notifiers.routes["pagerduty-leads"].severities == frozenset({"critical"})
    assert notifiers.routes["pagerduty-account-manager"].contracts == frozenset({"cta-apc-nj"})
    assert notifiers.routes["audit-webhook"].levels == frozenset({1, 2, 3})
    leads = notifiers.sinks["pagerduty-leads"]
    assert isinstance(leads, PagerDutySink)
    assert leads.routing_key.get_secret_value() == "pd-leads-VERY-SECRET"
    assert leads.url == "https://events.pagerduty.com/v2/enqueue"
    assert leads.rate_limit == RateLimit(2.0, 1)
    slack = notifiers.sinks["ops-slack"]
    assert isinstance(slack, SlackSink)
    assert slack.url.get_secret_value().endswith("VERY-SECRET")
    assert isinstance(notifiers.sinks["audit-webhook"], WebhookSink)
    assert notifiers.retry == RetryPolicy(8, 1.0, 60.0, 300.0, 10.0)


def test_secrets_never_show_in_a_repr() -> None:
    notifiers = load_notifiers(EXAMPLE, ENV)
    text = repr(notifiers) + "".join(repr(sink) for sink in notifiers.sinks.values())
    assert "VERY-SECRET" not in text


def test_a_toml_file_works_too(tmp_path: Path) -> None:
    path = tmp_path / "notifiers.toml"
    path.write_text(
        '[notifiers.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:8080/x"\n'
        'secret_env = "HOOK_SECRET"\nrate_limit = {per_second = 5, burst = 3}\n'
        '[retry]\nmax_attempts = 3\ntimeout = "2s"\n',
        encoding="utf-8",
    )
    notifiers = load_notifiers(path, {"HOOK_SECRET": "x"})
    assert notifiers.sinks["hook"].rate_limit == RateLimit(5.0, 3)
    assert (notifiers.retry.max_attempts, notifiers.retry.timeout) == (3, 2.0)


BAD = {
    "unknown type": (
        "notifiers:\n  x: {type: teams, url: 'http://a'}\n",
        "notifiers.x: Input tag 'teams' found using 'type' does not match",
    ),
    "missing url": (
        "notifiers:\n  hook: {type: webhook, secret_env: S}\n",
        "notifiers.hook.url: Field required",
    ),
    "not a URL": (
        "notifiers:\n  hook: {type: webhook, url: 'ftp://x', secret_env: S}\n",
        "notifiers.hook.url: must be an http:// or https:// URL",
    ),
    "a port out of range": (
        "notifiers:\n  hook: {type: webhook, url: 'http://127.0.0.1:99999/x', secret_env: S}\n",
        "notifiers.hook.url: not a valid URL: the port must be a number from 1 to 65535",
    ),
    "a port that is not a number": (
        "notifiers:\n  am: {type: alertmanager, urls: ['http://am:web']}\n",
        "notifiers.am.urls[0]: not a valid URL: the port must be a number from 1 to 65535",
    ),
    "a port of zero": (
        "notifiers:\n  pd: {type: pagerduty, url: 'https://pd:0/', routing_key_env: S}\n",
        "notifiers.pd.url: not a valid URL: the port must be a number from 1 to 65535",
    ),
    "no host": (
        "notifiers:\n  og: {type: opsgenie, url: 'https:///v2', api_key_env: S}\n",
        "notifiers.og.url: not a valid URL: it has no host",
    ),
    "a bad generator URL": (
        "notifiers:\n  am: {type: alertmanager, urls: ['http://a'], generator_url: 'http://g:1x'}\n",
        "notifiers.am.generator_url: not a valid URL",
    ),
    "a key instead of an env name": (
        "notifiers:\n  pd: {type: pagerduty, routing_key_env: 'abc-123 def'}\n",
        "notifiers.pd.routing_key_env: must name an environment variable",
    ),
    "a typo": (
        "notifiers:\n  am: {type: alertmanager, url: ['http://a']}\n",
        "notifiers.am.url: Extra inputs are not permitted",
    ),
    "bad duration": (
        "notifiers:\n  am: {type: alertmanager, urls: ['http://a'], refresh_interval: soon}\n",
        "notifiers.am.refresh_interval: bad duration 'soon'",
    ),
    "bad severity": (
        "notifiers:\n  am: {type: alertmanager, urls: ['http://a'], "
        "routing: {severities: [page]}}\n",
        "notifiers.am.routing.severities[0]: Input should be 'warning' or 'critical'",
    ),
    "bad name": (
        "notifiers:\n  Big Name: {type: alertmanager, urls: ['http://a']}\n",
        "notifiers.Big Name: String should match pattern",
    ),
    "no notifiers": ("retry: {max_attempts: 2}\n", "notifiers: Field required"),
    "unset env var": (
        "notifiers:\n  pd: {type: pagerduty, routing_key_env: NOT_SET_ANYWHERE}\n",
        "notifiers.pd.routing_key_env: environment variable NOT_SET_ANYWHERE is not set",
    ),
    "invalid YAML": ("notifiers: [\n", "invalid YAML"),
    "a list at the top": ("- a\n", "must hold a mapping at the top level"),
}


@pytest.mark.parametrize(("text", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_file_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "notifiers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotifiersFileError) as caught:
        load_notifiers(path, {"S": "x"})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotifiersFileError, match=r"nope\.yaml: cannot read config file"):
        load_notifiers(tmp_path / "nope.yaml", {})


def test_an_invalid_file_never_echoes_values(tmp_path: Path) -> None:
    path = tmp_path / "notifiers.yaml"
    path.write_text(
        "notifiers:\n  pd: {type: pagerduty, routing_key_env: 'R0UTING-KEY-PASTED-HERE!'}\n",
        encoding="utf-8",
    )
    with pytest.raises(NotifiersFileError) as caught:
        load_notifiers(path, {})
    assert "R0UTING-KEY-PASTED-HERE" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com:99999/services/T000/B000/SECRET", "the port must be a number"),
        ("hooks.slack.com/services/T000/B000/SECRET", "must be an http:// or https:// URL"),
        ("https:///services/T000/B000/SECRET", "it has no host"),
    ],
)
def test_a_bad_slack_url_in_the_environment_stops_loading_without_showing_it(
    tmp_path: Path, url: str, problem: str
) -> None:
    path = tmp_path / "notifiers.yaml"
    path.write_text("notifiers:\n  chat: {type: slack, url_env: SLACK_URL}\n", encoding="utf-8")

    with pytest.raises(NotifiersFileError) as caught:
        load_notifiers(path, {"SLACK_URL": url})

    message = str(caught.value)
    assert message.startswith(f"{path}: notifiers.chat.url_env: environment variable SLACK_URL: ")
    assert problem in message
    assert "\n" not in message
    assert "SECRET" not in message

"""PagerDuty Events API v2: trigger/resolve with ``dedup_key`` = fingerprint.

A repeat or an escalation re-sends ``trigger`` with the same dedup_key, which
PagerDuty folds into the open alert: one incident per fingerprint. PagerDuty
accepts about 120 events a minute per routing key, hence the default rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from monitor.domain.escalation import Notification
from monitor.sinks.base import RateLimit, Request, deadline, json_body, observed_vs_target, summary

__all__ = ["DEFAULT_URL", "RATE_LIMIT", "PagerDutySink"]

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
RATE_LIMIT = RateLimit(per_second=2.0, burst=1)  # ~120 events/min per routing key
SEVERITIES = {"critical": "critical", "warning": "warning"}


@dataclass(frozen=True, slots=True)
class PagerDutySink:
    name: str
    routing_key: SecretStr
    url: str = DEFAULT_URL
    rate_limit: RateLimit | None = RATE_LIMIT
    kind: str = "pagerduty"

    def requests(self, note: Notification, now: float) -> list[Request]:
        return [Request(self.name, "POST", self.url, json_body(self.payload(note)))]

    def payload(self, note: Notification) -> dict[str, Any]:
        base = {
            "routing_key": self.routing_key.get_secret_value(),
            "dedup_key": note.fingerprint,
        }
        if note.action == "resolve":
            return {**base, "event_action": "resolve"}
        alert = note.alert
        subject = alert.get("subject") or {}
        details: dict[str, Any] = {
            "state": alert["state"],
            "observed_vs_target": observed_vs_target(alert),
            "observed": alert.get("observed"),
            "target": alert.get("target"),
            "subject": subject,
            "escalation_level": note.level,
            "alert_id": alert["alert_id"],
            "description": alert.get("annotations", {}).get("description", ""),
            "labels": alert.get("labels", {}),
        }
        if deadline(alert):
            details["deadline"] = deadline(alert)
        return {
            **base,
            "event_action": "trigger",
            "client": "slamon",
            "payload": {
                "summary": summary(note)[:1024],
                "source": f"slamon/{alert['contract_id']}",
                "severity": SEVERITIES[note.severity],
                "timestamp": alert["event_time"],
                "component": alert["objective_id"],
                "group": subject.get("queue") or alert["contract_id"],
                "class": alert["state"],
                "custom_details": details,
            },
        }

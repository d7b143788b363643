"""Slack incoming webhook: one readable message per notification.

The webhook URL is itself the secret. Slack allows about one message a second
per webhook (default rate limit) and answers 429 with Retry-After, which the
retry wrapper honours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from monitor.domain.escalation import Notification
from monitor.sinks.base import RateLimit, Request, deadline, json_body, observed_vs_target, summary

__all__ = ["RATE_LIMIT", "SlackSink"]

RATE_LIMIT = RateLimit(per_second=1.0, burst=1)
_HEADLINES = {
    "at_risk": ":warning: At risk",
    "breached": ":red_circle: SLA breached",
    "resolved": ":large_green_circle: Resolved",
}


@dataclass(frozen=True, slots=True)
class SlackSink:
    name: str
    url: SecretStr
    rate_limit: RateLimit | None = RATE_LIMIT
    kind: str = "slack"

    def requests(self, note: Notification, now: float) -> list[Request]:
        url = self.url.get_secret_value()
        return [Request(self.name, "POST", url, json_body(self.payload(note)))]

    def payload(self, note: Notification) -> dict[str, Any]:
        alert = note.alert
        headline = _HEADLINES[str(alert["state"])]
        if note.action == "repeat":
            headline += " (still open)"
        subject = alert.get("subject") or {}
        fields = [
            ("Contract", str(alert["contract_id"])),
            ("Objective", str(alert["objective_id"])),
            ("Observed", observed_vs_target(alert)),
            ("Deadline", deadline(alert) or "n/a"),
            ("Subject", f"{subject.get('kind', '')} {subject.get('id', '')}".strip()),
            ("Since", str(alert["event_time"])),
        ]
        text = f"{headline}: {summary(note)}"
        lines = "\n".join(f"*{label}:* {value}" for label, value in fields)
        return {
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": f"severity {note.severity} · level {note.level} · "
                            f"fingerprint {note.fingerprint}",
                        }
                    ],
                },
            ],
        }

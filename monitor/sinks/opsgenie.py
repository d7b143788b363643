"""Opsgenie / JSM Ops alert API: create with ``alias`` = fingerprint, close by alias.

``url`` is the API base: ``https://api.opsgenie.com`` (EU: ``https://api.eu.opsgenie.com``;
JSM Ops: ``https://api.atlassian.com/jsm/ops/integration``). A repeat creates
with the same alias, which Opsgenie de-duplicates into the open alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from monitor.domain.escalation import Notification
from monitor.sinks.base import RateLimit, Request, deadline, json_body, observed_vs_target, summary

__all__ = ["DEFAULT_URL", "OpsgenieSink"]

DEFAULT_URL = "https://api.opsgenie.com"
PRIORITIES = {"critical": "P1", "warning": "P3"}


@dataclass(frozen=True, slots=True)
class OpsgenieSink:
    name: str
    api_key: SecretStr
    url: str = DEFAULT_URL
    rate_limit: RateLimit | None = None
    kind: str = "opsgenie"

    def requests(self, note: Notification, now: float) -> list[Request]:
        headers = {"Authorization": f"GenieKey {self.api_key.get_secret_value()}"}
        base = self.url.rstrip("/")
        if note.action == "resolve":
            url = f"{base}/v2/alerts/{note.fingerprint}/close?identifierType=alias"
        else:
            url = f"{base}/v2/alerts"
        return [Request(self.name, "POST", url, json_body(self.payload(note)), headers)]

    def payload(self, note: Notification) -> dict[str, Any]:
        alert = note.alert
        if note.action == "resolve":
            return {"source": "slamon", "note": summary(note)[:25000]}
        subject = alert.get("subject") or {}
        details = {
            "state": str(alert["state"]),
            "observed_vs_target": observed_vs_target(alert),
            "subject": f"{subject.get('kind', '')} {subject.get('id', '')}".strip(),
            "escalation_level": str(note.level),
            "alert_id": str(alert["alert_id"]),
            "event_time": str(alert["event_time"]),
        }
        if deadline(alert):
            details["deadline"] = str(deadline(alert))
        return {
            "message": summary(note)[:130],
            "alias": note.fingerprint,
            "description": str(alert.get("annotations", {}).get("description", ""))[:15000],
            "priority": PRIORITIES[note.severity],
            "source": "slamon",
            "entity": str(alert["contract_id"]),
            "tags": [str(alert["contract_id"]), str(alert["objective_id"]), str(alert["state"])],
            "details": details,
        }

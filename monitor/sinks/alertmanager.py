"""Prometheus Alertmanager API v2: ``POST {url}/api/v2/alerts`` to every configured Alertmanager.

Labels are the identity (alertname, contract, objective, severity, fingerprint,
plus the agreement's labels); ``endsAt`` is kept ``resolve_timeout`` ahead while
firing (the notifier re-sends every ``refresh_interval``), and a resolve sends
``endsAt`` = now. When severity changes (at_risk → breached) the old identity is
ended in the same request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.domain.alerts import format_instant
from monitor.domain.escalation import Notification, parse_instant
from monitor.sinks.base import RateLimit, Request, json_body, observed_vs_target

__all__ = ["AlertmanagerSink", "labels_for"]

_ALERTNAMES = {"at_risk": "SLAAtRisk", "breached": "SLABreach", "resolved": "SLABreach"}
_IDENTITY = ("alertname", "contract", "objective", "severity", "fingerprint")


def labels_for(alert: Mapping[str, Any], state: str, severity: str) -> dict[str, str]:
    """The Alertmanager identity of one alert in one state and severity."""
    labels = {str(k): str(v) for k, v in alert.get("labels", {}).items() if k not in _IDENTITY}
    subject = alert.get("subject") or {}
    if subject.get("queue"):
        labels["queue"] = str(subject["queue"])
    labels.update(
        alertname=_ALERTNAMES[state],
        contract=str(alert["contract_id"]),
        objective=str(alert["objective_id"]),
        severity=severity,
        fingerprint=str(alert["fingerprint"]),
    )
    return labels


@dataclass(frozen=True, slots=True)
class AlertmanagerSink:
    name: str
    urls: tuple[str, ...]
    resolve_timeout: float = 300.0
    generator_url: str | None = None
    rate_limit: RateLimit | None = None
    kind: str = "alertmanager"

    def requests(self, note: Notification, now: float) -> list[Request]:
        body = json_body(self.payload(note, now))
        return [
            Request(self.name, "POST", f"{url.rstrip('/')}/api/v2/alerts", body)
            for url in self.urls
        ]

    def payload(self, note: Notification, now: float) -> list[dict[str, Any]]:
        alert, previous = note.alert, note.previous
        if note.action == "resolve":
            state = previous.state if previous else "breached"
            return [self._ended(labels_for(alert, state, note.severity), alert, now)]
        entries = [
            {
                "labels": labels_for(alert, str(alert["state"]), note.severity),
                "annotations": self._annotations(note),
                "startsAt": format_instant(min(_epoch(alert), now)),
                "endsAt": format_instant(now + self.resolve_timeout),
                **({"generatorURL": self.generator_url} if self.generator_url else {}),
            }
        ]
        if previous is not None and previous.state != "resolved":
            old = labels_for(alert, previous.state, previous.severity)
            if old != entries[0]["labels"]:
                entries.append(self._ended(old, alert, now))
        return entries

    def _ended(
        self, labels: dict[str, str], alert: Mapping[str, Any], now: float
    ) -> dict[str, Any]:
        # No startsAt: Alertmanager keeps the one it has (or uses endsAt), never start > end.
        annotations = {"summary": str(alert.get("annotations", {}).get("summary", ""))}
        return {"labels": labels, "annotations": annotations, "endsAt": format_instant(now)}

    def _annotations(self, note: Notification) -> dict[str, str]:
        alert = note.alert
        annotations = {str(k): str(v) for k, v in alert.get("annotations", {}).items() if v}
        subject = alert.get("subject") or {}
        annotations.update(
            state=str(alert["state"]),
            subject=f"{subject.get('kind', '')} {subject.get('id', '')}".strip(),
            observed_vs_target=observed_vs_target(alert),
            escalation_level=str(note.level),
            alert_id=str(alert["alert_id"]),
        )
        return annotations


def _epoch(alert: Mapping[str, Any]) -> float:
    return parse_instant(str(alert["event_time"]))

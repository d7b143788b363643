"""Alerts (the README's "Alerts and the report"): one per state change, with
deterministic identity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

AlertState = Literal["at_risk", "breached", "resolved"]
Severity = Literal["warning", "critical"]
SubjectKind = Literal["ticket", "chat", "call", "window", "period"]

STATE_ORDER: Final = {"at_risk": 0, "breached": 1, "resolved": 2}
"""How alert states sort among alerts at the same instant (a warning before its breach)."""


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str
    queue: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "queue": self.queue}


def fingerprint(contract_id: str, objective_id: str, subject: Subject) -> str:
    """The alert identity: Alertmanager labels, PagerDuty dedup_key, Opsgenie alias."""
    key = "\x1f".join((contract_id, objective_id, subject.kind, subject.id))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Alert:
    contract_id: str
    objective_id: str
    state: AlertState
    severity: Severity
    subject: Subject
    observed: float | None
    target: float | None
    event_time: float
    summary: str
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    escalation_level: int = 1

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.contract_id, self.objective_id, self.subject)

    @property
    def alert_id(self) -> str:
        """Deterministic too, so a replay and a live run name the same change alike."""
        key = f"{self.fingerprint}\x1f{self.state}\x1f{self.severity}\x1f{self.event_time!r}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def sort_key(self) -> tuple[float, int, str]:
        return (self.event_time, STATE_ORDER[self.state], self.fingerprint)

    def to_json(self) -> dict[str, Any]:
        annotations = {"summary": self.summary, "description": self.description, **self.extra}
        return {
            "alert_id": self.alert_id,
            "fingerprint": self.fingerprint,
            "contract_id": self.contract_id,
            "objective_id": self.objective_id,
            "state": self.state,
            "severity": self.severity,
            "subject": self.subject.to_json(),
            "observed": _round(self.observed),
            "target": _round(self.target),
            "event_time": format_instant(self.event_time),
            "escalation_level": self.escalation_level,
            "labels": dict(self.labels),
            "annotations": annotations,
        }


def format_instant(epoch: float) -> str:
    """RFC 3339 in UTC with a Z, milliseconds only when there are any."""
    moment = datetime.fromtimestamp(epoch, UTC)
    if moment.microsecond:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.isoformat().replace("+00:00", "Z")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)

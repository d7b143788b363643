"""Generic webhook: a JSON body signed with HMAC-SHA256 over ``timestamp + "." + body``.

Headers: ``X-Slamon-Timestamp`` (Unix seconds, set at each attempt) and
``X-Slamon-Signature: sha256=<hex>``. docs/notifications.md has the receiver's
verification recipe (a test runs it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from monitor.domain.alerts import format_instant
from monitor.domain.escalation import Notification
from monitor.sinks.base import RateLimit, Request, json_body

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookSink", "signature"]

TIMESTAMP_HEADER = "X-Slamon-Timestamp"
SIGNATURE_HEADER = "X-Slamon-Signature"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class WebhookSink:
    name: str
    url: str
    secret: SecretStr
    rate_limit: RateLimit | None = None
    kind: str = "webhook"

    def requests(self, note: Notification, now: float) -> list[Request]:
        body = json_body(self.payload(note, now))
        return [Request(self.name, "POST", self.url, body, sign=self._sign)]

    def payload(self, note: Notification, now: float) -> dict[str, Any]:
        return {
            "version": 1,
            "sink": self.name,
            "action": note.action,
            "level": note.level,
            "severity": note.severity,
            "created_at": format_instant(now),
            "alert": dict(note.alert),
        }

    def _sign(self, body: bytes, now: float) -> Mapping[str, str]:
        timestamp = str(int(now))
        secret = self.secret.get_secret_value().encode("utf-8")
        return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}

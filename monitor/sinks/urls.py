"""Sink URLs are checked when the notifiers file loads, not when the first alert is sent.

httpx accepts ``http://host:99999/`` and only fails inside the connection pool,
where a bad port from the environment took the notifier down with an
ExceptionGroup. The message never repeats the URL: a Slack webhook URL is itself
the secret.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import httpx

__all__ = ["url_problem"]

SCHEMES: Final = ("http", "https")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be sent to (scheme, host, port 1-65535), or None if it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL: the port must be a number from 1 to 65535"
    if parts.scheme.lower() not in SCHEMES:
        return "must be an http:// or https:// URL"
    if not parts.hostname or any(char.isspace() for char in url):
        return "not a valid URL: it has no host, or spaces in it"
    if port is not None and not 1 <= port <= 65535:
        return "not a valid URL: the port must be a number from 1 to 65535"
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        return "not a valid URL"
    return None

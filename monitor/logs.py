"""structlog set-up, once per process: JSON lines in production, console on a TTY.

Library loggers (Faust, mode, aiokafka) go through the same renderer; they are
kept at WARNING unless slamon itself logs at DEBUG. Context such as the
partition or contract is bound with :func:`structlog.contextvars.bind_contextvars`.

No log line may carry a secret. httpx and httpcore log every request URL (at
INFO and DEBUG), and a Slack incoming-webhook URL is itself the secret, so they
stay at WARNING whatever the level. Everything the one handler writes (slamon's
events, library records, tracebacks) then passes :func:`redact`: URLs keep
their scheme, host and port but lose credentials, path and query; header-style
keys and tokens are masked; and every value registered with
:func:`register_secrets` (the notifiers file registers the keys, tokens and
URLs it reads from the environment) is masked wherever it appears.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Final

import structlog

__all__ = ["MASK", "configure_logging", "redact", "register_secrets"]

MASK: Final = "***"
_LIBRARY_LOGGERS = ("faust", "mode", "aiokafka", "kafka")
_URL_LOGGERS = ("httpx", "httpcore", "hpack", "h11")
"""Loggers that print request URLs or headers: WARNING even when slamon logs at DEBUG."""
_MIN_SECRET_CHARS = 6
"""Shorter registered values would mask ordinary words; keys and URLs are longer."""
_URL: Final = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^\s/@'\"<>]*@)?(?P<host>[^\s/?#'\"<>]+)"
    r"(?P<rest>[/?#][^\s'\"<>]*)?"
)
_KEY_VALUE: Final = re.compile(
    r"(?i)\b(?P<name>authorization|api[_-]?key|routing[_-]?key|token|password|passwd|secret|"
    r"sasl_plain_password)\b(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;}&]+)"
)
_AUTH_SCHEME: Final = re.compile(
    r"(?i)\b(?P<name>bearer|genie ?key|basic)(?P<sep>\s+)[\w.~+/=-]{6,}"
)
_secrets: set[str] = set()
_configured = False


def register_secrets(values: Iterable[str]) -> None:
    """Mask these exact values in every log line from now on."""
    _secrets.update(value for value in values if len(value) >= _MIN_SECRET_CHARS)


def redact(text: str) -> str:
    """``text`` with registered secrets, URL credentials/paths/queries and tokens masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL.sub(_url_origin, text)
    text = _AUTH_SCHEME.sub(_masked, text)
    return _KEY_VALUE.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    return f"{found['name']}{found['sep']}{MASK}"


def _url_origin(found: re.Match[str]) -> str:
    rest = found["rest"]
    return f"{found['scheme']}{found['host']}" + (f"/{MASK}" if rest and rest != "/" else "")


class _RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """The one place every log line passes through before it is written."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO", fmt: str = "auto", *, force: bool = False) -> None:
    """Configure structlog and stdlib logging; later calls are no-ops unless ``force``."""
    global _configured
    if _configured and not force:
        return
    _configured = True
    console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = _RedactingFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    library_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))

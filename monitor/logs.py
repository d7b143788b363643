"""structlog set-up, once per process: JSON lines in production, console on a TTY.

Library loggers (Faust, mode, aiokafka) go through the same renderer; they are
kept at WARNING unless slamon itself logs at DEBUG. Context such as the
partition or contract is bound with :func:`structlog.contextvars.bind_contextvars`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

__all__ = ["configure_logging"]

_LIBRARY_LOGGERS = ("faust", "mode", "aiokafka", "kafka")
_configured = False


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
    formatter = structlog.stdlib.ProcessorFormatter(
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

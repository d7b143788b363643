"""Tests that run slamon's logging set-up in the test process put the old one back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from monitor import logs

_LOGGERS = ("httpx", "httpcore", "faust", "mode", "aiokafka", "kafka", "h11", "hpack")


@contextmanager
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    config = structlog.get_config()
    configured = logs._configured
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
        structlog.configure(**config)
        logs._configured = configured

"""The default allowed lateness, shared by the engine and every entry point.

An event up to this many seconds older than the newest one seen still counts as on
time: the watermark trails the newest event time by it. A module of its own so that
the command line can show it without importing the engine.
"""

from __future__ import annotations

from typing import Final

DEFAULT_LATENESS: Final = 60.0

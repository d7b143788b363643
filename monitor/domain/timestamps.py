"""RFC 3339 instants: the one parser of timestamps given as text.

Events, alerts, command-line options and report ranges all name instants as RFC 3339
text with an offset (``2026-11-20T18:00:00Z``). ``datetime.fromisoformat`` reads that
syntax except RFC 3339's lower-case ``t`` and ``z``; an instant without an offset
(local time of an unknown zone) is refused.
"""

from __future__ import annotations

from datetime import datetime


def parse_datetime(text: str) -> datetime:
    """An RFC 3339 instant with an offset as an aware datetime.

    Raises ValueError naming the text when it is not one, or lacks the offset.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.upper())
        except ValueError:
            raise ValueError(
                f"{text!r} is not an RFC 3339 instant, e.g. 2026-11-20T18:00:00Z"
            ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs an offset, e.g. 2026-11-20T18:00:00Z")
    return moment


def parse_instant(text: str) -> float:
    """An RFC 3339 instant with an offset as epoch seconds (see :func:`parse_datetime`)."""
    return parse_datetime(text).timestamp()

"""RFC 3339 instants: the one parser of timestamps given as text.

Events, alerts, command-line options and report ranges all name instants as RFC 3339
text with an offset (``2026-11-20T18:00:00Z``). ``datetime.fromisoformat`` reads that
syntax except RFC 3339's lower-case ``t`` and ``z``; an instant without an offset
(local time of an unknown zone) is refused, and so is a date or time that does not
exist (``2026-02-30``, ``25:00``), with the reason.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

#: RFC 3339 date-time with a required offset (a lower-case t and z are allowed, section
#: 5.6). Whether the date and time exist is checked when the text is parsed.
RFC3339: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_RFC3339: Final = re.compile(RFC3339)
_EXAMPLE: Final = "e.g. 2026-11-20T18:00:00Z"


def parse_datetime(text: str) -> datetime:
    """An RFC 3339 instant with an offset as an aware datetime.

    Raises ValueError naming the text when it is not one, lacks the offset, or names
    a date or time that does not exist.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_rare(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs an offset, {_EXAMPLE}")
    return moment


def _parse_rare(text: str) -> datetime:
    """Lower-case ``t`` or ``z``, or text that is no instant at all: say which."""
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError as exc:
        if _RFC3339.match(text):
            raise ValueError(f"{text!r} is not a valid date and time: {exc}") from None
        raise ValueError(f"{text!r} is not an RFC 3339 instant, {_EXAMPLE}") from None


def parse_instant(text: str) -> float:
    """An RFC 3339 instant with an offset as epoch seconds (see :func:`parse_datetime`)."""
    return parse_datetime(text).timestamp()

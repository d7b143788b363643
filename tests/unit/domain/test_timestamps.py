"""RFC 3339 instants: what the one parser accepts and refuses, with the reason."""

from __future__ import annotations

import pytest

from monitor.domain.timestamps import parse_datetime, parse_instant

NOV_20_18H = 1795197600.0  # 2026-11-20T18:00:00Z


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T18:00:00Z",
        "2026-11-20t18:00:00z",  # RFC 3339 allows lower case
        "2026-11-20T18:00:00+00:00",
        "2026-11-20T13:00:00-05:00",
        "2026-11-20T18:00:00.000Z",
        "2026-11-20 18:00:00Z",  # RFC 3339 allows a space for readability
    ],
)
def test_an_rfc_3339_instant_with_an_offset_is_read_as_epoch_seconds(text: str) -> None:
    assert parse_instant(text) == NOV_20_18H


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-11-20T18:00:00", "needs an offset"),
        ("2026-11-20", "needs an offset"),
        ("yesterday", "is not an RFC 3339 instant"),
        ("", "is not an RFC 3339 instant"),
        ("2026-11-31T18:00:00Z", "is not a valid date and time: day is out of range"),
        ("2026-11-20t18:60:00z", "is not a valid date and time: minute must be in 0..59"),
        ("2026-11-20T18:00:00+24:00", "is not an RFC 3339 instant"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datetime(text)

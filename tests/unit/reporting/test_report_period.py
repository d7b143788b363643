"""Report periods: months and ranges in the contract's time zone."""

from __future__ import annotations

import pytest

from monitor.reporting.period import PeriodError, month_period, range_period
from tests.support import epoch


def test_a_month_is_the_calendar_month_in_the_contract_time_zone() -> None:
    period = month_period("Asia/Shanghai", "2026-10")
    assert period.start == epoch("2026-10-01 00:00", "Asia/Shanghai")
    assert period.end == epoch("2026-11-01 00:00", "Asia/Shanghai")
    assert period.month == "2026-10"
    assert len(period.days()) == 31


def test_a_month_across_a_dst_change_has_its_local_days() -> None:
    period = month_period("America/New_York", "2026-11")
    assert period.end - period.start == 30 * 86400 + 3600
    assert [d.isoformat() for d in period.days()][:2] == ["2026-11-01", "2026-11-02"]
    assert len(period.days()) == 30


def test_a_date_range_includes_its_last_day_and_an_instant_range_excludes_its_end() -> None:
    dates = range_period("UTC", "2026-10-01", "2026-10-15")
    assert (dates.start, dates.end) == (epoch("2026-10-01 00:00"), epoch("2026-10-16 00:00"))
    assert dates.month is None
    instants = range_period("UTC", "2026-10-01T06:00:00Z", "2026-10-01T18:00:00+02:00")
    assert (instants.start, instants.end) == (epoch("2026-10-01 06:00"), epoch("2026-10-01 16:00"))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-15", "2026-10-01", "empty period"),
        ("2026-10-01T00:00:00", "2026-10-02", "needs an offset"),
        ("yesterday", "2026-10-02", "expected YYYY-MM-DD"),
    ],
)
def test_bad_ranges_are_refused_with_a_reason(start: str, end: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        range_period("UTC", start, end)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "October"])
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(PeriodError, match="YYYY-MM"):
        month_period("UTC", text)

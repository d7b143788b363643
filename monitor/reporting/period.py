"""Report periods: a calendar month or a range, in the contract's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.domain.errors import MonitorError
from monitor.domain.periods import month_bounds
from monitor.domain.timestamps import parse_instant

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(MonitorError):
    """A period that cannot be read (bad month, bad date, empty range)."""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """``[start, end)`` in epoch seconds; ``month`` is ``YYYY-MM`` for a calendar month."""

    start: float
    end: float
    timezone: str
    label: str
    month: str | None = None

    def contains(self, instant: float) -> bool:
        return self.start <= instant < self.end

    def local(self, instant: float) -> datetime:
        return datetime.fromtimestamp(instant, ZoneInfo(self.timezone))

    def days(self) -> list[date]:
        """Every local date the period touches, in order."""
        first = self.local(self.start).date()
        last = self.local(self.end - 1e-6).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_period(timezone: str, text: str) -> ReportPeriod:
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"period {text!r}: expected a month as YYYY-MM, e.g. 2026-10")
    year, month = int(match.group(1)), int(match.group(2))
    start, end = month_bounds(timezone, year, month)
    return ReportPeriod(start, end, timezone, text, month=text)


def range_period(timezone: str, start_text: str, end_text: str) -> ReportPeriod:
    """``--from``/``--to``: a date means that local day (``--to`` inclusive), an RFC 3339
    instant with an offset is taken as is (``--to`` exclusive)."""
    start = _instant(timezone, start_text, end_of_day=False)
    end = _instant(timezone, end_text, end_of_day=True)
    if end <= start:
        raise PeriodError(f"empty period: --to {end_text} is not after --from {start_text}")
    return ReportPeriod(start, end, timezone, f"{start_text} – {end_text}")


def _instant(timezone: str, text: str, *, end_of_day: bool) -> float:
    zone = ZoneInfo(timezone)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        return parse_instant(text)
    except ValueError as exc:
        raise PeriodError(f"{exc}; expected YYYY-MM-DD or RFC 3339 with an offset") from exc

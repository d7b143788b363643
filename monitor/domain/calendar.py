"""Business calendars: when a contract is open, and time counted in open hours only.

Instants are epoch seconds (float, UTC); every piece of calendar math happens in the
calendar's own time zone. A calendar never changes after construction. It turns each
local day it is asked about into epoch intervals once and caches the result, so the
per-event hot path is a dict lookup and a little arithmetic.

DST: local wall times are turned into instants with ``zoneinfo`` and ``fold=0``. A
wall time that does not exist (inside a spring-forward gap) lands that far past the
gap's start; an ambiguous one (repeated during fall-back) means its first occurrence.
So business hours 09:00-18:00 are 9 real hours on any day, and a 24x7 calendar counts
23 or 25 real hours on the days the clocks change.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY: Final = 1440
SEARCH_DAYS: Final = 3 * 366
"""How far ahead the calendar looks for an opening before deciding it never opens."""

_BLOCK_DAYS: Final = 32
"""Long spans are summed in blocks of this many days (by date ordinal) to stay cheap."""
_MAX_CACHED_DAYS: Final = 4096
_MAX_CACHED_BLOCKS: Final = 512
_PLAIN_COLLECTIONS: Final = (frozenset, set, tuple, list)

Interval = tuple[float, float]
Hours = tuple[tuple[int, int], ...]


class _Day(NamedTuple):
    """One local day: [start, end) in epoch seconds and its open intervals within it."""

    start: float
    end: float
    intervals: tuple[Interval, ...]
    open_seconds: float


_NO_DAY: Final = _Day(float("inf"), float("-inf"), (), 0.0)


class BusinessCalendar:
    """Weekly opening hours in a time zone, minus holidays, plus make-up workdays.

    ``weekly`` maps a weekday (0 = Monday .. 6 = Sunday) to sorted, non-overlapping
    ``(open_minute, close_minute)`` pairs of local minutes; 1440 is the midnight that
    ends the day, and a split shift is two pairs. A date in ``extra_workdays`` is open
    with the hours of the first weekday (Monday first) that has any, even if it is a
    holiday; a date in ``holidays`` or ``extra_holidays`` is otherwise closed all day.
    ``holidays`` only needs ``date in holidays``, so a ``holidays`` library object fits.

    Intervals are half-open: open at the opening minute, closed at the closing minute.
    """

    def __init__(
        self,
        name: str,
        timezone: str,
        weekly: Mapping[int, Sequence[tuple[int, int]]],
        holidays: Container[date] = frozenset(),
        extra_holidays: Collection[date] = (),
        extra_workdays: Collection[date] = (),
    ) -> None:
        self.name = name
        self.timezone = timezone
        self.zone = _zone(timezone)
        self._weekly = _normalize_weekly(weekly)
        self._holidays = holidays
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._makeup_hours: Hours = next((hours for hours in self._weekly if hours), ())
        clash = self._extra_holidays & self._extra_workdays
        if clash:
            raise ValueError(f"dates both extra holidays and extra workdays: {sorted(clash)}")
        if self._extra_workdays and not self._makeup_hours:
            raise ValueError("extra_workdays need at least one weekday with opening hours")
        self._always_open = (
            all(hours == ((0, MINUTES_PER_DAY),) for hours in self._weekly)
            and not self._extra_holidays
            and isinstance(holidays, _PLAIN_COLLECTIONS)
            and not holidays
        )
        self._days: dict[int, _Day] = {}
        self._block_totals: dict[int, float] = {}
        self._last: tuple[int, _Day] = (0, _NO_DAY)

    @classmethod
    def always_open(cls, timezone: str = "UTC", name: str = "24x7") -> BusinessCalendar:
        """Open every second of every day, no holidays: business time is real time."""
        return cls(name, timezone, dict.fromkeys(range(7), ((0, MINUTES_PER_DAY),)))

    def __repr__(self) -> str:
        return f"BusinessCalendar(name={self.name!r}, timezone={self.timezone!r})"

    @property
    def is_always_open(self) -> bool:
        return self._always_open

    def is_workday(self, day: date) -> bool:
        """Whether the local date ``day`` has any open hours."""
        return bool(self._day(day.toordinal()).intervals)

    def open_intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The open ``[start, end)`` epoch intervals of the local date ``day``."""
        return self._day(day.toordinal()).intervals

    def is_open(self, t: float) -> bool:
        if self._always_open:
            return True
        for open_, close in self._day_at(t)[1].intervals:
            if t < close:
                return t >= open_
        return False

    def next_opening(self, t: float) -> float:
        """``t`` if open, else the start of the next open interval.

        Raises ValueError if the calendar has no open hours within ``SEARCH_DAYS``.
        """
        if self._always_open:
            return t
        ordinal, day = self._day_at(t)
        for open_, close in day.intervals:
            if t < close:
                return max(open_, t)
        return self._day(self._next_workday(ordinal + 1)).intervals[0][0]

    def business_seconds(self, start: float, end: float) -> float:
        """Open seconds in ``[start, end)``; 0 if ``end <= start``."""
        if end <= start:
            return 0.0
        if self._always_open:
            return end - start
        first_ordinal, first = self._day_at(start)
        last_ordinal, last = self._day_at(end)
        if first_ordinal == last_ordinal:
            return _overlap(first.intervals, start, end)
        return (
            _overlap(first.intervals, start, first.end)
            + self._open_seconds_of_days(first_ordinal + 1, last_ordinal)
            + _overlap(last.intervals, last.start, end)
        )

    def add_business_seconds(self, start: float, seconds: float) -> float:
        """The earliest instant ``t >= start`` with ``business_seconds(start, t) == seconds``.

        The result is either open or exactly the close of an interval: a deadline that
        uses up the day's last open second ends at closing time, not at the next opening.
        """
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if seconds == 0:
            return start
        if self._always_open:
            return start + seconds
        ordinal, day = self._day_at(start)
        end, remaining = _consume(day.intervals, start, seconds)
        if end is not None:
            return end
        ordinal, remaining = self._day_holding(ordinal + 1, remaining)
        day = self._day(ordinal)
        end, _ = _consume(day.intervals, day.start, remaining)
        # Only float rounding in the sums can leave a sliver unconsumed.
        return end if end is not None else day.intervals[-1][1]

    def add_workdays(self, start: float, count: int) -> float:
        """The same local wall time on the ``count``-th following workday.

        A start outside open hours first moves to ``next_opening(start)``; ``count == 0``
        returns that. The target wall time is resolved with ``fold=0``: inside a DST gap
        it lands that far after the gap starts, in a repeated hour it is the first one.
        The result is that wall time even if the target day happens to close earlier.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        opened = self.next_opening(start)
        if count == 0:
            return opened
        ordinal = self._day_at(opened)[0]
        for _ in range(count):
            ordinal = self._next_workday(ordinal + 1)
        wall = datetime.fromtimestamp(opened, self.zone).time().replace(fold=0)
        return datetime.combine(date.fromordinal(ordinal), wall, self.zone).timestamp()

    def _day_at(self, t: float) -> tuple[int, _Day]:
        """The local day holding instant ``t``, as (date ordinal, day)."""
        ordinal, day = self._last
        if day.start <= t < day.end:
            return ordinal, day
        ordinal = datetime.fromtimestamp(t, self.zone).toordinal()
        day = self._day(ordinal)
        # fromtimestamp rounds to microseconds, which can cross midnight by a hair.
        if t < day.start:
            ordinal -= 1
            day = self._day(ordinal)
        elif t >= day.end:
            ordinal += 1
            day = self._day(ordinal)
        self._last = (ordinal, day)
        return ordinal, day

    def _day(self, ordinal: int) -> _Day:
        day = self._days.get(ordinal)
        if day is None:
            if len(self._days) >= _MAX_CACHED_DAYS:
                self._days.clear()
            day = self._days[ordinal] = self._build_day(date.fromordinal(ordinal))
        return day

    def _build_day(self, day: date) -> _Day:
        start, end = self._instant(day, 0), self._instant(day, MINUTES_PER_DAY)
        spans = sorted(
            (max(self._instant(day, open_), start), min(self._instant(day, close), end))
            for open_, close in self._hours_on(day)
        )
        # Around a DST gap two wall-clock intervals can map onto overlapping instants.
        merged: list[Interval] = []
        for open_, close in spans:
            if open_ >= close:
                continue
            if merged and open_ <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], close))
            else:
                merged.append((open_, close))
        return _Day(start, end, tuple(merged), sum((close - open_ for open_, close in merged), 0.0))

    def _hours_on(self, day: date) -> Hours:
        if day in self._extra_workdays:
            return self._makeup_hours
        if day in self._extra_holidays or day in self._holidays:
            return ()
        return self._weekly[day.weekday()]

    def _instant(self, day: date, minute: int) -> float:
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        hour, minute = divmod(minute, 60)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone).timestamp()

    def _block_total(self, block: int) -> float:
        """Open seconds of the ``_BLOCK_DAYS`` days from ordinal ``block * _BLOCK_DAYS``."""
        total = self._block_totals.get(block)
        if total is None:
            if len(self._block_totals) >= _MAX_CACHED_BLOCKS:
                self._block_totals.clear()
            first = block * _BLOCK_DAYS
            total = sum(
                self._day(ordinal).open_seconds for ordinal in range(first, first + _BLOCK_DAYS)
            )
            self._block_totals[block] = total
        return total

    def _open_seconds_of_days(self, first: int, stop: int) -> float:
        """Open seconds of the whole days with ordinals in ``[first, stop)``."""
        total = 0.0
        ordinal = first
        while ordinal < stop:
            if ordinal % _BLOCK_DAYS == 0 and ordinal + _BLOCK_DAYS <= stop:
                total += self._block_total(ordinal // _BLOCK_DAYS)
                ordinal += _BLOCK_DAYS
            else:
                total += self._day(ordinal).open_seconds
                ordinal += 1
        return total

    def _next_workday(self, ordinal: int) -> int:
        """The first ordinal >= ``ordinal`` with open hours."""
        limit = ordinal + SEARCH_DAYS
        while ordinal <= limit:
            if ordinal % _BLOCK_DAYS == 0 and not self._block_total(ordinal // _BLOCK_DAYS):
                ordinal += _BLOCK_DAYS
            elif self._day(ordinal).intervals:
                return ordinal
            else:
                ordinal += 1
        raise self._never_opens()

    def _day_holding(self, ordinal: int, remaining: float) -> tuple[int, float]:
        """Skip whole days from ``ordinal`` while they have less than ``remaining`` open.

        Returns the day where ``remaining`` runs out and what is left of it there.
        """
        idle = 0
        while idle <= SEARCH_DAYS:
            if ordinal % _BLOCK_DAYS == 0:
                total = self._block_total(ordinal // _BLOCK_DAYS)
                if remaining > total:
                    remaining -= total
                    ordinal += _BLOCK_DAYS
                    idle = idle + _BLOCK_DAYS if total == 0 else 0
                    continue
            open_seconds = self._day(ordinal).open_seconds
            if remaining <= open_seconds:
                return ordinal, remaining
            remaining -= open_seconds
            ordinal += 1
            idle = idle + 1 if open_seconds == 0 else 0
        raise self._never_opens()

    def _never_opens(self) -> ValueError:
        return ValueError(f"calendar {self.name!r} has no open hours within {SEARCH_DAYS} days")


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {timezone!r}") from error


def _normalize_weekly(weekly: Mapping[int, Sequence[tuple[int, int]]]) -> tuple[Hours, ...]:
    """Check the weekly hours and merge touching pairs (09:00-12:00 + 12:00-18:00)."""
    days: list[Hours] = [()] * 7
    for weekday, hours in weekly.items():
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")
        merged: list[tuple[int, int]] = []
        for open_, close in hours:
            if not 0 <= open_ < close <= MINUTES_PER_DAY:
                raise ValueError(f"weekday {weekday}: bad hours {open_}-{close} (minutes)")
            if merged and open_ < merged[-1][1]:
                raise ValueError(f"weekday {weekday}: hours must be sorted and not overlap")
            if merged and open_ == merged[-1][1]:
                merged[-1] = (merged[-1][0], close)
            else:
                merged.append((open_, close))
        days[weekday] = tuple(merged)
    return tuple(days)


def _overlap(intervals: tuple[Interval, ...], start: float, end: float) -> float:
    """Seconds of ``[start, end)`` covered by the sorted ``intervals``."""
    total = 0.0
    for open_, close in intervals:
        if open_ >= end:
            break
        if close > start:
            total += min(close, end) - max(open_, start)
    return total


def _consume(
    intervals: tuple[Interval, ...], start: float, seconds: float
) -> tuple[float | None, float]:
    """Spend ``seconds`` of open time from ``start``: (instant it runs out or None, leftover)."""
    for open_, close in intervals:
        if close > start:
            begin = max(open_, start)
            if seconds <= close - begin:
                return begin + seconds, 0.0
            seconds -= close - begin
    return None, seconds

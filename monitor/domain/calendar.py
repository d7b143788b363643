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

import math
from bisect import bisect_left
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY: Final = 1440
SEARCH_DAYS: Final = 3 * 366
"""How far ahead the calendar looks for an opening before deciding it never opens."""

_BLOCK_DAYS: Final = 32
"""Long spans are summed in blocks of this many days (by date ordinal) to stay cheap."""
_FEW_DAYS: Final = 4
"""Spans of at most this many whole days are summed day by day, without building a block."""
_MAX_CACHED_DAYS: Final = 4096
_MAX_CACHED_BLOCKS: Final = 512
_SECONDS_PER_DAY: Final = 86400
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
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
        self._blocks: dict[int, tuple[float, ...]] = {}
        self._last: tuple[int, _Day] = (0, _NO_DAY)
        self._offset = 0.0

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
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"seconds must be finite and >= 0, got {seconds}")
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
        """The local day holding instant ``t``, as (date ordinal, day).

        Guesses the date with the UTC offset of the last day looked at, then steps to the
        neighbouring day if the guess was off; cheaper than a zoneinfo conversion.
        """
        ordinal, day = self._last
        if day.start <= t < day.end:
            return ordinal, day
        ordinal = int((t + self._offset) // _SECONDS_PER_DAY) + _EPOCH_ORDINAL
        day = self._day(ordinal)
        while t < day.start:
            ordinal -= 1
            day = self._day(ordinal)
        while t >= day.end:
            ordinal += 1
            day = self._day(ordinal)
        self._last = (ordinal, day)
        self._offset = (ordinal - _EPOCH_ORDINAL) * _SECONDS_PER_DAY - day.start
        return ordinal, day

    def _day(self, ordinal: int) -> _Day:
        day = self._days.get(ordinal)
        if day is None:
            if len(self._days) >= _MAX_CACHED_DAYS:
                self._days.clear()
            day = self._days[ordinal] = self._build_day(ordinal)
        return day

    def _build_day(self, ordinal: int) -> _Day:
        day = date.fromordinal(ordinal)
        previous = self._days.get(ordinal - 1)
        start = previous.end if previous is not None else self._instant(day, 0)
        end = self._instant(day, MINUTES_PER_DAY)
        hours = self._hours_on(day)
        if end - start == _SECONDS_PER_DAY:
            # The UTC offset does not change during the day: minutes map linearly.
            intervals = tuple(
                (start + open_ * 60.0, start + close * 60.0) for open_, close in hours
            )
        else:
            intervals = _merge(
                (max(self._instant(day, open_), start), min(self._instant(day, close), end))
                for open_, close in hours
            )
        return _Day(start, end, intervals, sum((close - open_ for open_, close in intervals), 0.0))

    def _hours_on(self, day: date) -> Hours:
        if day in self._extra_workdays:
            return self._makeup_hours
        if day in self._extra_holidays or day in self._holidays:
            return ()
        return self._weekly[day.weekday()]

    def _instant(self, day: date, minute: int) -> float:
        """Epoch of local wall time ``minute`` on ``day``, with fold=0 like ``timestamp()``."""
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        hour, minute = divmod(minute, 60)
        offset = self.zone.utcoffset(datetime(day.year, day.month, day.day, hour, minute))
        assert offset is not None  # a ZoneInfo always has an offset for a datetime
        local = (day.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY + hour * 3600 + minute * 60
        return local - offset.total_seconds()

    def _block(self, block: int) -> tuple[float, ...]:
        """Running open seconds over the ``_BLOCK_DAYS`` days from ordinal ``block * _BLOCK_DAYS``.

        ``sums[i]`` is the open time of the block's first ``i`` days, so any run of whole
        days inside a block costs one subtraction.
        """
        sums = self._blocks.get(block)
        if sums is None:
            if len(self._blocks) >= _MAX_CACHED_BLOCKS:
                self._blocks.clear()
            first = block * _BLOCK_DAYS
            days = (
                self._day(ordinal).open_seconds for ordinal in range(first, first + _BLOCK_DAYS)
            )
            sums = self._blocks[block] = (0.0, *accumulate(days))
        return sums

    def _open_seconds_of_days(self, first: int, stop: int) -> float:
        """Open seconds of the whole days with ordinals in ``[first, stop)``."""
        if stop - first <= _FEW_DAYS:
            return sum((self._day(ordinal).open_seconds for ordinal in range(first, stop)), 0.0)
        block, offset = divmod(first, _BLOCK_DAYS)
        last_block, last_offset = divmod(stop, _BLOCK_DAYS)
        sums = self._block(block)
        if block == last_block:
            return sums[last_offset] - sums[offset]
        total = sums[-1] - sums[offset]
        for middle in range(block + 1, last_block):
            total += self._block(middle)[-1]
        if last_offset:
            total += self._block(last_block)[last_offset]
        return total

    def _next_workday(self, ordinal: int) -> int:
        """The first ordinal >= ``ordinal`` with open hours."""
        limit = ordinal + SEARCH_DAYS
        while ordinal <= limit:
            block, offset = divmod(ordinal, _BLOCK_DAYS)
            sums = self._block(block)
            if sums[-1] == sums[offset]:
                ordinal = (block + 1) * _BLOCK_DAYS
            elif self._day(ordinal).intervals:
                return ordinal
            else:
                ordinal += 1
        raise self._never_opens()

    def _day_holding(self, ordinal: int, remaining: float) -> tuple[int, float]:
        """The first day from ``ordinal`` on by whose end ``remaining`` open seconds are used.

        Returns that day's ordinal and the open seconds still left to spend in it.
        """
        idle = 0
        while idle <= SEARCH_DAYS:
            block, offset = divmod(ordinal, _BLOCK_DAYS)
            sums = self._block(block)
            rest = sums[-1] - sums[offset]
            if remaining > rest:
                remaining -= rest
                idle = idle + _BLOCK_DAYS - offset if rest == 0 else 0
                ordinal = (block + 1) * _BLOCK_DAYS
                continue
            base = sums[offset]
            # Compare differences of the integral sums, never base + remaining, which
            # could round a tiny remainder away and land on a closed day.
            day = bisect_left(sums, remaining, offset + 1, key=lambda total: total - base) - 1
            return block * _BLOCK_DAYS + day, remaining - (sums[day] - base)
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


def _merge(spans: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort and merge intervals, dropping empty ones.

    Needed on DST days only: around a spring-forward gap two wall-clock intervals can
    map onto overlapping (or empty) spans of real time.
    """
    merged: list[Interval] = []
    for open_, close in sorted(spans):
        if open_ >= close:
            continue
        if merged and open_ <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], close))
        else:
            merged.append((open_, close))
    return tuple(merged)


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
            span = close - begin
            if seconds < span:
                return begin + seconds, 0.0
            if seconds == span:
                return close, 0.0
            seconds -= span
    return None, seconds

"""Business calendars: open hours, holidays, make-up workdays and DST, as tables and properties.

Local times in the tables are wall-clock times in the calendar's zone; expected results
carry the UTC offset so every DST effect is visible in the table itself.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.calendar import BusinessCalendar

HOUR = 3600.0
MON_FRI = range(5)
SPLIT = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))  # 09:00-12:00 + 13:00-18:00
NINE_TO_SIX = ((9 * 60, 18 * 60),)
CN_MAKEUP_2026 = (  # Saturdays/Sundays worked in exchange for the long holidays
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
)


@dataclass(frozen=True)
class Spec:
    """The inputs of a calendar, kept so the tests can check it against a naive oracle."""

    name: str
    timezone: str
    weekly: Mapping[int, Sequence[tuple[int, int]]]
    holidays: Container[date] = frozenset()
    extra_holidays: Collection[date] = ()
    extra_workdays: Collection[date] = ()
    calendar: BusinessCalendar = field(init=False, compare=False)

    def __post_init__(self) -> None:
        calendar = BusinessCalendar(
            self.name,
            self.timezone,
            self.weekly,
            self.holidays,
            self.extra_holidays,
            self.extra_workdays,
        )
        object.__setattr__(self, "calendar", calendar)

    def hours_on(self, day: date) -> Sequence[tuple[int, int]]:
        if day in self.extra_workdays:
            return next(hours for _, hours in sorted(self.weekly.items()) if hours)
        if day in self.extra_holidays or day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def naive_is_open(self, t: float) -> bool:
        """Read the wall clock and compare: valid while no opening hour falls in 01:00-03:00."""
        local = datetime.fromtimestamp(t, ZoneInfo(self.timezone))
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(a * 60 <= second < b * 60 for a, b in self.hours_on(local.date()))


class NoHolidays:
    """A Container that is not a plain collection: forces the general (non 24x7) code path."""

    def __contains__(self, item: object) -> bool:
        return False


NJ = Spec(
    "nj",
    "America/New_York",
    dict.fromkeys(MON_FRI, SPLIT),
    holidays.country_holidays("US", subdiv="NJ", years=range(2025, 2029)),
    extra_holidays=(date(2026, 12, 24),),
)
NEW_YORK = Spec("new-york", "America/New_York", dict.fromkeys(MON_FRI, NINE_TO_SIX))
LONDON = Spec("london", "Europe/London", dict.fromkeys(MON_FRI, ((9 * 60, 17 * 60 + 30),)))
SHANGHAI = Spec(
    "shanghai",
    "Asia/Shanghai",
    dict.fromkeys(MON_FRI, SPLIT),
    holidays.country_holidays("CN", years=range(2025, 2029)),
    extra_workdays=CN_MAKEUP_2026,
)
LATE_DESK = Spec(  # evenings to midnight, plus the small hours of the next day
    "late-desk",
    "Europe/London",
    {0: ((18 * 60, 1440),), 1: ((0, 120), (18 * 60, 1440)), 2: ((0, 120),)},
)
NY_24X7_GENERAL = Spec(
    "ny-24x7-general", "America/New_York", dict.fromkeys(range(7), ((0, 1440),)), NoHolidays()
)
NY_24X7 = BusinessCalendar.always_open("America/New_York")
LONDON_24X7 = BusinessCalendar.always_open("Europe/London")
NIGHT_SUNDAY_NY = BusinessCalendar("night", "America/New_York", {6: ((0, 6 * 60),)})
NIGHT_SUNDAY_LONDON = BusinessCalendar("night", "Europe/London", {6: ((0, 6 * 60),)})
CALENDARS = {spec.name: spec.calendar for spec in (NJ, NEW_YORK, LONDON, SHANGHAI, LATE_DESK)} | {
    "ny-24x7": NY_24X7,
    "london-24x7": LONDON_24X7,
}


def at(calendar: BusinessCalendar, local: str, fold: int = 0) -> float:
    """Epoch seconds of a wall time such as ``2026-03-06 17:00`` in the calendar's zone."""
    wall = datetime.fromisoformat(local).replace(tzinfo=calendar.zone, fold=fold)
    return wall.timestamp()


def show(calendar: BusinessCalendar, t: float) -> str:
    """An instant as ``Mon 2026-03-09 17:00 -0400`` in the calendar's zone."""
    return datetime.fromtimestamp(t, calendar.zone).strftime("%a %Y-%m-%d %H:%M %z")


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekly", "extra_holidays", "extra_workdays", "timezone", "message"),
    [
        ({7: NINE_TO_SIX}, (), (), "UTC", "weekday must be"),
        ({-1: NINE_TO_SIX}, (), (), "UTC", "weekday must be"),
        ({0: ((600, 540),)}, (), (), "UTC", "bad hours"),
        ({0: ((540, 540),)}, (), (), "UTC", "bad hours"),
        ({0: ((-60, 540),)}, (), (), "UTC", "bad hours"),
        ({0: ((540, 1441),)}, (), (), "UTC", "bad hours"),
        ({0: ((780, 1080), (540, 720))}, (), (), "UTC", "sorted and not overlap"),
        ({0: ((540, 780), (720, 1080))}, (), (), "UTC", "sorted and not overlap"),
        ({0: NINE_TO_SIX}, (date(2026, 1, 3),), (date(2026, 1, 3),), "UTC", "both"),
        ({}, (), (date(2026, 1, 3),), "UTC", "need at least one weekday"),
        ({0: NINE_TO_SIX}, (), (), "Mars/Olympus_Mons", "unknown time zone"),
        ({0: NINE_TO_SIX}, (), (), "../etc/passwd", "unknown time zone"),
    ],
)
def test_invalid_calendars_are_rejected_with_a_reason(
    weekly: Mapping[int, Sequence[tuple[int, int]]],
    extra_holidays: Collection[date],
    extra_workdays: Collection[date],
    timezone: str,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar("bad", timezone, weekly, frozenset(), extra_holidays, extra_workdays)


def test_touching_intervals_are_merged_into_one() -> None:
    calendar = BusinessCalendar("c", "UTC", {0: ((540, 720), (720, 1080))})
    intervals = calendar.open_intervals_on(date(2026, 3, 2))
    assert [(show(calendar, a), show(calendar, b)) for a, b in intervals] == [
        ("Mon 2026-03-02 09:00 +0000", "Mon 2026-03-02 18:00 +0000")
    ]


@pytest.mark.parametrize(
    ("calendar", "always_open"),
    [
        (BusinessCalendar.always_open(), True),
        (NY_24X7, True),
        (BusinessCalendar("c", "UTC", dict.fromkeys(range(7), ((0, 1440),))), True),
        (NY_24X7_GENERAL.calendar, False),
        (NEW_YORK.calendar, False),
        (
            BusinessCalendar(
                "c", "UTC", dict.fromkeys(range(7), ((0, 1440),)), frozenset({date(2026, 1, 1)})
            ),
            False,
        ),
        (
            BusinessCalendar(
                "c", "UTC", dict.fromkeys(range(7), ((0, 1440),)), extra_holidays=[date(2026, 1, 1)]
            ),
            False,
        ),
    ],
)
def test_only_a_calendar_without_any_closed_time_counts_as_always_open(
    calendar: BusinessCalendar, always_open: bool
) -> None:
    assert calendar.is_always_open is always_open


def test_the_default_calendar_is_24x7_in_utc() -> None:
    calendar = BusinessCalendar.always_open()
    assert (calendar.name, calendar.timezone, str(calendar.zone)) == ("24x7", "UTC", "UTC")
    assert repr(calendar) == "BusinessCalendar(name='24x7', timezone='UTC')"


def test_holidays_only_need_to_support_in() -> None:
    class Wednesdays:
        def __contains__(self, item: object) -> bool:
            return isinstance(item, date) and item.weekday() == 2

    calendar = BusinessCalendar("c", "UTC", dict.fromkeys(MON_FRI, NINE_TO_SIX), Wednesdays())
    assert [calendar.is_workday(date(2026, 3, day)) for day in range(2, 9)] == [
        True,
        True,
        False,
        True,
        True,
        False,
        False,
    ]


# --- workdays and open intervals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "day", "workday"),
    [
        (NJ.calendar, date(2026, 11, 25), True),  # Wednesday before Thanksgiving
        (NJ.calendar, date(2026, 11, 26), False),  # Thanksgiving
        (NJ.calendar, date(2026, 11, 27), True),  # the Friday after is a workday in NJ
        (NJ.calendar, date(2026, 11, 28), False),  # Saturday
        (NJ.calendar, date(2026, 12, 24), False),  # extra holiday
        (NJ.calendar, date(2026, 12, 25), False),  # Christmas
        (NJ.calendar, date(2026, 3, 8), False),  # Sunday of the DST change
        (NJ.calendar, date(2026, 3, 9), True),
        (SHANGHAI.calendar, date(2026, 2, 14), True),  # make-up Saturday
        (SHANGHAI.calendar, date(2026, 2, 15), False),  # plain Sunday
        (SHANGHAI.calendar, date(2026, 2, 16), False),  # Spring Festival Eve
        (SHANGHAI.calendar, date(2026, 2, 20), False),  # day off swapped for Feb 14
        (SHANGHAI.calendar, date(2026, 2, 23), False),  # day off swapped for Feb 28
        (SHANGHAI.calendar, date(2026, 2, 28), True),  # make-up Saturday
        (SHANGHAI.calendar, date(2026, 1, 4), True),  # make-up Sunday
        (SHANGHAI.calendar, date(2026, 10, 1), False),  # National Day
        (SHANGHAI.calendar, date(2026, 10, 10), True),  # make-up Saturday
        (NY_24X7, date(2026, 12, 25), True),
    ],
)
def test_a_workday_is_a_day_with_any_open_hours(
    calendar: BusinessCalendar, day: date, workday: bool
) -> None:
    assert calendar.is_workday(day) is workday


def test_a_make_up_workday_overrides_a_public_holiday() -> None:
    holiday = date(2026, 10, 1)
    calendar = BusinessCalendar(
        "c",
        "Asia/Shanghai",
        {2: ((600, 660),), 3: NINE_TO_SIX},  # Wednesday is the first weekday with hours
        holidays.country_holidays("CN", years=2026),
        extra_workdays=[holiday],
    )
    assert [
        (show(calendar, a), show(calendar, b)) for a, b in calendar.open_intervals_on(holiday)
    ] == [("Thu 2026-10-01 10:00 +0800", "Thu 2026-10-01 11:00 +0800")]


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (
            NJ.calendar,
            date(2026, 3, 9),
            [("09:00 -0400", "12:00 -0400"), ("13:00 -0400", "18:00 -0400")],
        ),
        (
            SHANGHAI.calendar,
            date(2026, 2, 14),
            [("09:00 +0800", "12:00 +0800"), ("13:00 +0800", "18:00 +0800")],
        ),
        (LONDON.calendar, date(2026, 3, 30), [("09:00 +0100", "17:30 +0100")]),
        (LONDON.calendar, date(2026, 10, 26), [("09:00 +0000", "17:30 +0000")]),
        (NY_24X7, date(2026, 3, 8), [("00:00 -0500", "00:00 -0400")]),
        (NY_24X7, date(2026, 11, 1), [("00:00 -0400", "00:00 -0500")]),
        (NIGHT_SUNDAY_NY, date(2026, 3, 8), [("00:00 -0500", "06:00 -0400")]),
        (NIGHT_SUNDAY_NY, date(2026, 11, 1), [("00:00 -0400", "06:00 -0500")]),
        (
            LATE_DESK.calendar,
            date(2026, 3, 3),
            [("00:00 +0000", "02:00 +0000"), ("18:00 +0000", "00:00 +0000")],
        ),
        (NJ.calendar, date(2026, 11, 26), []),
    ],
)
def test_open_intervals_of_a_day_are_real_instants_in_the_calendar_zone(
    calendar: BusinessCalendar, day: date, expected: list[tuple[str, str]]
) -> None:
    intervals = calendar.open_intervals_on(day)
    as_text = [(show(calendar, a)[15:], show(calendar, b)[15:]) for a, b in intervals]
    assert as_text == expected


@pytest.mark.parametrize(
    ("calendar", "day", "open_hours"),
    [
        (NY_24X7, date(2026, 3, 8), 23),
        (NY_24X7, date(2026, 11, 1), 25),
        (LONDON_24X7, date(2026, 3, 29), 23),
        (LONDON_24X7, date(2026, 10, 25), 25),
        (NY_24X7_GENERAL.calendar, date(2026, 3, 8), 23),
        (NIGHT_SUNDAY_NY, date(2026, 3, 8), 5),  # 00:00-06:00 loses the skipped hour
        (NIGHT_SUNDAY_NY, date(2026, 11, 1), 7),  # ... and gains the repeated one
        (NIGHT_SUNDAY_LONDON, date(2026, 3, 29), 5),
        (NIGHT_SUNDAY_LONDON, date(2026, 10, 25), 7),
        (NEW_YORK.calendar, date(2026, 3, 9), 9),  # 09:00-18:00 is 9 real hours on any day
        (LONDON.calendar, date(2026, 10, 26), 8.5),
    ],
)
def test_open_wall_clock_hours_count_as_the_real_seconds_that_elapse(
    calendar: BusinessCalendar, day: date, open_hours: float
) -> None:
    intervals = calendar.open_intervals_on(day)
    assert sum(b - a for a, b in intervals) == open_hours * HOUR


def test_an_interval_opening_inside_the_spring_forward_gap_opens_that_far_after_the_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York; fold=0 reads it as 02:30 EST = 03:30 EDT.
    calendar = BusinessCalendar("c", "America/New_York", {6: ((150, 300),)})
    [(opening, closing)] = calendar.open_intervals_on(date(2026, 3, 8))
    assert (show(calendar, opening), show(calendar, closing)) == (
        "Sun 2026-03-08 03:30 -0400",
        "Sun 2026-03-08 05:00 -0400",
    )


def test_wall_clock_intervals_that_collapse_in_the_spring_forward_gap_are_merged() -> None:
    # 00:00-02:30 and 03:00-04:00 overlap in real time on 2026-03-08: 02:30 EST is 03:30 EDT.
    calendar = BusinessCalendar("c", "America/New_York", {6: ((0, 150), (180, 240))})
    intervals = calendar.open_intervals_on(date(2026, 3, 8))
    assert [(show(calendar, a), show(calendar, b)) for a, b in intervals] == [
        ("Sun 2026-03-08 00:00 -0500", "Sun 2026-03-08 04:00 -0400")
    ]


# --- is_open and next_opening ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "local", "is_open"),
    [
        (NJ.calendar, "2026-03-02 08:59:59", False),
        (NJ.calendar, "2026-03-02 09:00", True),  # opening minute is open
        (NJ.calendar, "2026-03-02 11:59:59.999", True),
        (NJ.calendar, "2026-03-02 12:00", False),  # lunch
        (NJ.calendar, "2026-03-02 12:59:59", False),
        (NJ.calendar, "2026-03-02 13:00", True),
        (NJ.calendar, "2026-03-02 17:59:59", True),
        (NJ.calendar, "2026-03-02 18:00", False),  # closing minute is closed
        (NJ.calendar, "2026-03-07 10:00", False),  # Saturday
        (NJ.calendar, "2026-03-09 09:00", True),  # Monday after spring forward
        (NJ.calendar, "2026-11-26 10:00", False),  # Thanksgiving
        (NJ.calendar, "2026-12-24 10:00", False),  # extra holiday
        (NJ.calendar, "2026-11-02 09:00", True),  # Monday after fall back
        (LONDON.calendar, "2026-03-30 17:29", True),
        (LONDON.calendar, "2026-03-30 17:30", False),
        (LONDON.calendar, "2026-10-26 09:00", True),
        (SHANGHAI.calendar, "2026-02-14 10:00", True),  # make-up Saturday
        (SHANGHAI.calendar, "2026-02-14 12:30", False),  # ... keeps the lunch break
        (SHANGHAI.calendar, "2026-02-18 10:00", False),  # Spring Festival
        (SHANGHAI.calendar, "2026-02-21 10:00", False),  # plain Saturday
        (LATE_DESK.calendar, "2026-03-02 23:59:59", True),
        (LATE_DESK.calendar, "2026-03-03 00:00", True),  # 24:00 Monday meets 00:00 Tuesday
        (LATE_DESK.calendar, "2026-03-03 02:00", False),
        (LATE_DESK.calendar, "2026-03-05 00:00", False),  # Thursday has no hours
        (NY_24X7, "2026-03-08 03:00", True),
        (NY_24X7_GENERAL.calendar, "2026-11-01 01:30", True),
    ],
)
def test_a_calendar_is_open_from_the_opening_minute_until_just_before_closing(
    calendar: BusinessCalendar, local: str, is_open: bool
) -> None:
    assert calendar.is_open(at(calendar, local)) is is_open


@pytest.mark.parametrize(
    ("calendar", "local", "expected"),
    [
        (NJ.calendar, "2026-03-02 10:15", "Mon 2026-03-02 10:15 -0500"),  # open: itself
        (NJ.calendar, "2026-03-02 09:00", "Mon 2026-03-02 09:00 -0500"),
        (NJ.calendar, "2026-03-02 07:00", "Mon 2026-03-02 09:00 -0500"),
        (NJ.calendar, "2026-03-02 12:00", "Mon 2026-03-02 13:00 -0500"),  # lunch
        (NJ.calendar, "2026-03-02 18:00", "Tue 2026-03-03 09:00 -0500"),  # at close
        (NJ.calendar, "2026-03-06 19:00", "Mon 2026-03-09 09:00 -0400"),  # Friday, across DST
        (NJ.calendar, "2026-11-25 18:30", "Fri 2026-11-27 09:00 -0500"),  # before Thanksgiving
        (NJ.calendar, "2026-12-23 18:00", "Mon 2026-12-28 09:00 -0500"),  # Dec 24, 25, weekend
        (LONDON.calendar, "2026-10-23 17:30", "Mon 2026-10-26 09:00 +0000"),
        (SHANGHAI.calendar, "2026-02-13 19:00", "Sat 2026-02-14 09:00 +0800"),  # make-up day
        (SHANGHAI.calendar, "2026-02-14 18:00", "Tue 2026-02-24 09:00 +0800"),  # Spring Festival
        (LATE_DESK.calendar, "2026-03-04 02:00", "Mon 2026-03-09 18:00 +0000"),
        (NY_24X7, "2026-03-08 03:00", "Sun 2026-03-08 03:00 -0400"),
    ],
)
def test_next_opening_is_the_instant_itself_when_open_else_the_next_start_of_hours(
    calendar: BusinessCalendar, local: str, expected: str
) -> None:
    assert show(calendar, calendar.next_opening(at(calendar, local))) == expected


def test_a_calendar_that_never_opens_raises_instead_of_searching_forever() -> None:
    never = BusinessCalendar("never", "UTC", {})
    start = at(never, "2026-03-02 10:00")
    assert not never.is_open(start)
    assert never.business_seconds(start, start + 1000 * HOUR) == 0
    with pytest.raises(ValueError, match="no open hours"):
        never.next_opening(start)
    with pytest.raises(ValueError, match="no open hours"):
        never.add_business_seconds(start, HOUR)
    with pytest.raises(ValueError, match="no open hours"):
        never.add_workdays(start, 1)


def test_a_calendar_whose_holidays_close_every_day_also_gives_up() -> None:
    class Everything:
        def __contains__(self, item: object) -> bool:
            return True

    closed = BusinessCalendar("closed", "UTC", dict.fromkeys(MON_FRI, NINE_TO_SIX), Everything())
    with pytest.raises(ValueError, match="no open hours"):
        closed.add_business_seconds(at(closed, "2026-03-02 10:00"), 5 * HOUR)


# --- business_seconds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "end", "hours"),
    [
        (NJ.calendar, "2026-03-02 10:00", "2026-03-02 11:30", 1.5),
        (NJ.calendar, "2026-03-02 10:00", "2026-03-02 14:00", 3),  # lunch not counted
        (NJ.calendar, "2026-03-02 12:10", "2026-03-02 12:50", 0),  # all lunch
        (NJ.calendar, "2026-03-02 00:00", "2026-03-03 00:00", 8),
        (NJ.calendar, "2026-03-02 09:00", "2026-03-02 18:00", 8),
        (NJ.calendar, "2026-03-02 18:00", "2026-03-03 09:00", 0),  # overnight
        (NJ.calendar, "2026-03-02 00:00", "2026-03-09 00:00", 40),
        (NJ.calendar, "2026-03-06 12:00", "2026-03-09 12:00", 8),  # Fri noon to Mon noon, DST
        (NJ.calendar, "2026-10-30 12:00", "2026-11-02 12:00", 8),  # ... and the fall change
        (NJ.calendar, "2026-11-23 00:00", "2026-11-30 00:00", 32),  # Thanksgiving week
        (NJ.calendar, "2026-12-21 00:00", "2026-12-28 00:00", 24),  # Dec 24 extra, Dec 25
        (NJ.calendar, "2026-01-01 00:00", "2026-07-01 00:00", 122 * 8),  # 129 weekdays - 7
        (NJ.calendar, "2026-01-01 00:00", "2027-01-01 00:00", 246 * 8),
        (NJ.calendar, "2026-03-02 11:00", "2026-03-02 10:00", 0),  # end before start
        (NJ.calendar, "2026-03-02 11:00", "2026-03-02 11:00", 0),
        (NEW_YORK.calendar, "2026-03-06 17:00", "2026-03-09 10:00", 2),
        (LONDON.calendar, "2026-03-27 17:00", "2026-03-30 09:30", 1),
        (LONDON.calendar, "2026-10-23 00:00", "2026-10-27 00:00", 17),
        (SHANGHAI.calendar, "2026-02-09 00:00", "2026-02-16 00:00", 48),  # + make-up Saturday
        (SHANGHAI.calendar, "2026-02-16 00:00", "2026-02-23 00:00", 0),  # Spring Festival
        (SHANGHAI.calendar, "2026-02-23 00:00", "2026-03-02 00:00", 40),  # Tue-Fri + Sat 28
        (SHANGHAI.calendar, "2026-09-28 00:00", "2026-10-12 00:00", 48),  # Golden Week + Oct 10
        (LATE_DESK.calendar, "2026-03-02 17:00", "2026-03-03 03:00", 8),  # across midnight
        (NY_24X7, "2026-03-08 00:00", "2026-03-09 00:00", 23),  # spring forward
        (NY_24X7, "2026-11-01 00:00", "2026-11-02 00:00", 25),  # fall back
        (NY_24X7, "2026-01-01 00:00", "2026-07-01 00:00", 181 * 24 - 1),
        (NY_24X7, "2026-01-01 00:00", "2027-01-01 00:00", 365 * 24),
        (LONDON_24X7, "2026-03-29 00:00", "2026-03-30 00:00", 23),
        (LONDON_24X7, "2026-10-25 00:00", "2026-10-26 00:00", 25),
        (NY_24X7_GENERAL.calendar, "2026-03-08 00:00", "2026-03-09 00:00", 23),
        (NY_24X7_GENERAL.calendar, "2026-11-01 00:00", "2026-11-02 00:00", 25),
        (NY_24X7_GENERAL.calendar, "2026-01-01 00:00", "2027-01-01 00:00", 365 * 24),
        (NIGHT_SUNDAY_NY, "2026-03-01 00:00", "2026-03-15 00:00", 6 + 5),
        (NIGHT_SUNDAY_LONDON, "2026-10-18 00:00", "2026-11-01 00:00", 6 + 7),
    ],
)
def test_business_seconds_count_only_open_time_between_two_instants(
    calendar: BusinessCalendar, start: str, end: str, hours: float
) -> None:
    assert calendar.business_seconds(at(calendar, start), at(calendar, end)) == hours * HOUR


@pytest.mark.parametrize("calendar", [NY_24X7, LONDON_24X7, NY_24X7_GENERAL.calendar])
@pytest.mark.parametrize("local", ["2026-03-07 12:00", "2026-03-28 12:00", "2026-10-31 01:30"])
def test_a_24x7_calendar_counts_real_elapsed_seconds_across_dst(
    calendar: BusinessCalendar, local: str
) -> None:
    start = at(calendar, local)
    assert calendar.business_seconds(start, start + 86400) == 86400
    assert calendar.add_business_seconds(start, 86400) == start + 86400


def test_a_decade_long_span_is_right_beyond_the_day_cache() -> None:
    calendar = NY_24X7_GENERAL.calendar
    start, end = at(calendar, "2020-01-01 00:00"), at(calendar, "2035-01-01 00:00")
    assert calendar.business_seconds(start, end) == end - start


def test_a_half_year_span_takes_well_under_a_millisecond() -> None:
    calendar = NJ.calendar
    start, end = at(calendar, "2026-01-05 10:00"), at(calendar, "2026-07-20 15:00")
    calendar.business_seconds(start, end)  # warm the day cache, as a running monitor would
    calls = 2000
    began = time.perf_counter()
    for _ in range(calls):
        calendar.business_seconds(start, end)
    assert (time.perf_counter() - began) / calls < 0.0005


# --- add_business_seconds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "hours", "expected"),
    [
        (NJ.calendar, "2026-03-02 10:00", 1, "Mon 2026-03-02 11:00 -0500"),
        (NJ.calendar, "2026-03-02 11:00", 2, "Mon 2026-03-02 14:00 -0500"),  # over lunch
        (NJ.calendar, "2026-03-02 11:00", 1, "Mon 2026-03-02 12:00 -0500"),  # ends at lunch
        (NJ.calendar, "2026-03-02 17:00", 1, "Mon 2026-03-02 18:00 -0500"),  # ends at close
        (NJ.calendar, "2026-03-02 17:00", 1.5, "Tue 2026-03-03 09:30 -0500"),
        (NJ.calendar, "2026-03-02 07:00", 1, "Mon 2026-03-02 10:00 -0500"),  # before hours
        (NJ.calendar, "2026-03-02 12:30", 0.5, "Mon 2026-03-02 13:30 -0500"),  # from lunch
        (NJ.calendar, "2026-03-06 17:00", 8, "Mon 2026-03-09 17:00 -0400"),  # 8h across DST
        (NJ.calendar, "2026-03-06 18:30", 1, "Mon 2026-03-09 10:00 -0400"),  # Friday evening
        (NJ.calendar, "2026-11-25 15:00", 12, "Mon 2026-11-30 10:00 -0500"),  # Thanksgiving
        (NJ.calendar, "2026-12-23 17:00", 2, "Mon 2026-12-28 10:00 -0500"),
        (NJ.calendar, "2026-01-02 09:00", 122 * 8, "Tue 2026-06-30 18:00 -0400"),
        (NEW_YORK.calendar, "2026-10-30 17:00", 2, "Mon 2026-11-02 10:00 -0500"),
        (LONDON.calendar, "2026-03-27 17:00", 1, "Mon 2026-03-30 09:30 +0100"),
        (SHANGHAI.calendar, "2026-02-13 17:00", 2, "Sat 2026-02-14 10:00 +0800"),
        (SHANGHAI.calendar, "2026-02-14 17:00", 2, "Tue 2026-02-24 10:00 +0800"),
        (SHANGHAI.calendar, "2026-09-30 17:00", 2, "Thu 2026-10-08 10:00 +0800"),
        (LATE_DESK.calendar, "2026-03-02 23:00", 2, "Tue 2026-03-03 01:00 +0000"),
        (LATE_DESK.calendar, "2026-03-04 01:00", 1, "Wed 2026-03-04 02:00 +0000"),
        (LATE_DESK.calendar, "2026-03-04 01:00", 2, "Mon 2026-03-09 19:00 +0000"),
        (NY_24X7, "2026-03-07 12:00", 24, "Sun 2026-03-08 13:00 -0400"),  # 24 real hours
        (NY_24X7, "2026-10-31 12:00", 24, "Sun 2026-11-01 11:00 -0500"),
        (NY_24X7_GENERAL.calendar, "2026-03-07 12:00", 24, "Sun 2026-03-08 13:00 -0400"),
        (NY_24X7_GENERAL.calendar, "2026-10-31 12:00", 24, "Sun 2026-11-01 11:00 -0500"),
        (LONDON_24X7, "2026-03-28 12:00", 24, "Sun 2026-03-29 13:00 +0100"),
        (NIGHT_SUNDAY_NY, "2026-03-08 00:00", 5, "Sun 2026-03-08 06:00 -0400"),
        (NIGHT_SUNDAY_NY, "2026-03-08 00:00", 6, "Sun 2026-03-15 01:00 -0400"),
    ],
)
def test_adding_business_hours_lands_on_the_instant_those_open_hours_run_out(
    calendar: BusinessCalendar, start: str, hours: float, expected: str
) -> None:
    assert show(calendar, calendar.add_business_seconds(at(calendar, start), hours * HOUR)) == (
        expected
    )


@pytest.mark.parametrize("local", ["2026-03-02 10:00", "2026-03-07 10:00"])
def test_adding_zero_business_seconds_returns_the_start_even_when_closed(local: str) -> None:
    start = at(NJ.calendar, local)
    assert NJ.calendar.add_business_seconds(start, 0) == start


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_adding_a_negative_or_non_finite_duration_is_an_error(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite and >= 0"):
        NJ.calendar.add_business_seconds(at(NJ.calendar, "2026-03-02 10:00"), seconds)


# --- add_workdays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "count", "expected"),
    [
        (NJ.calendar, "2026-03-02 10:30", 2, "Wed 2026-03-04 10:30 -0500"),  # inside hours
        (NJ.calendar, "2026-03-02 10:30", 0, "Mon 2026-03-02 10:30 -0500"),
        (NJ.calendar, "2026-03-02 07:00", 2, "Wed 2026-03-04 09:00 -0500"),  # before opening
        (NJ.calendar, "2026-03-02 07:00", 0, "Mon 2026-03-02 09:00 -0500"),
        (NJ.calendar, "2026-03-02 19:00", 2, "Thu 2026-03-05 09:00 -0500"),  # after closing
        (NJ.calendar, "2026-03-02 18:00", 1, "Wed 2026-03-04 09:00 -0500"),  # at closing
        (NJ.calendar, "2026-03-02 12:30", 1, "Tue 2026-03-03 13:00 -0500"),  # in lunch
        (NJ.calendar, "2026-03-05 15:00", 2, "Mon 2026-03-09 15:00 -0400"),  # DST: same wall
        (NJ.calendar, "2026-03-06 19:00", 1, "Tue 2026-03-10 09:00 -0400"),  # Friday evening
        (NJ.calendar, "2026-03-06 19:00", 0, "Mon 2026-03-09 09:00 -0400"),
        (NJ.calendar, "2026-11-25 10:00", 1, "Fri 2026-11-27 10:00 -0500"),  # Thanksgiving
        (NJ.calendar, "2026-11-25 10:00", 2, "Mon 2026-11-30 10:00 -0500"),
        (NJ.calendar, "2026-11-26 10:00", 1, "Mon 2026-11-30 09:00 -0500"),  # on the holiday
        (NJ.calendar, "2026-12-23 16:00", 1, "Mon 2026-12-28 16:00 -0500"),  # Dec 24, 25
        (NJ.calendar, "2026-03-02 10:00", 7, "Wed 2026-03-11 10:00 -0400"),  # repair: 7 days
        (NJ.calendar, "2026-10-30 11:00", 1, "Mon 2026-11-02 11:00 -0500"),
        (LONDON.calendar, "2026-10-23 11:00", 1, "Mon 2026-10-26 11:00 +0000"),
        (LONDON.calendar, "2026-03-27 16:45", 1, "Mon 2026-03-30 16:45 +0100"),
        (SHANGHAI.calendar, "2026-02-13 10:00", 1, "Sat 2026-02-14 10:00 +0800"),
        (SHANGHAI.calendar, "2026-02-13 10:00", 2, "Tue 2026-02-24 10:00 +0800"),
        (SHANGHAI.calendar, "2026-09-30 15:00", 2, "Fri 2026-10-09 15:00 +0800"),
        (NY_24X7, "2026-03-07 10:00", 1, "Sun 2026-03-08 10:00 -0400"),  # 23 real hours
        (NY_24X7, "2026-03-07 02:30", 1, "Sun 2026-03-08 03:30 -0400"),  # 02:30 does not exist
        (NY_24X7, "2026-10-31 01:30", 1, "Sun 2026-11-01 01:30 -0400"),  # first 01:30
        (NY_24X7_GENERAL.calendar, "2026-03-07 02:30", 1, "Sun 2026-03-08 03:30 -0400"),
    ],
)
def test_n_workdays_end_at_the_same_local_time_on_the_nth_following_workday(
    calendar: BusinessCalendar, start: str, count: int, expected: str
) -> None:
    assert show(calendar, calendar.add_workdays(at(calendar, start), count)) == expected


def test_workdays_into_a_repeated_hour_land_on_its_first_occurrence_whatever_the_start() -> None:
    start = at(NY_24X7, "2026-11-01 01:30", fold=1)  # the second 01:30, already EST
    assert show(NY_24X7, start) == "Sun 2026-11-01 01:30 -0500"
    assert show(NY_24X7, NY_24X7.add_workdays(start, 7)) == "Sun 2026-11-08 01:30 -0500"
    # 371 days later is the next fall-back day: its 01:30 is ambiguous again, fold=0 wins.
    assert show(NY_24X7, NY_24X7.add_workdays(start, 371)) == "Sun 2027-11-07 01:30 -0400"


def test_a_negative_workday_count_is_an_error() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        NJ.calendar.add_workdays(at(NJ.calendar, "2026-03-02 10:00"), -1)


# --- properties -----------------------------------------------------------------------------

ORACLE_SPECS = [NJ, NEW_YORK, LONDON, SHANGHAI, LATE_DESK, NY_24X7_GENERAL]
ALL_CALENDARS = [*CALENDARS.values(), NY_24X7_GENERAL.calendar]
EARLIEST = datetime(2025, 12, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2027, 2, 1, tzinfo=UTC).timestamp()
instants = st.floats(EARLIEST, LATEST, allow_nan=False)
whole_minutes = st.integers(int(EARLIEST) // 60, int(LATEST) // 60).map(lambda m: m * 60.0)
durations = st.one_of(
    st.floats(0, 3 * 24 * HOUR, allow_nan=False),
    st.floats(0, 2000 * HOUR, allow_nan=False),
    st.integers(0, 200).map(lambda n: n * 1800.0),
)
calendars = st.sampled_from(ALL_CALENDARS)
fast = settings(max_examples=100, deadline=None)


@fast
@given(calendars, instants, durations)
def test_counting_back_the_added_business_time_gives_the_same_duration(
    calendar: BusinessCalendar, start: float, seconds: float
) -> None:
    end = calendar.add_business_seconds(start, seconds)
    assert end >= start
    assert calendar.business_seconds(start, end) == pytest.approx(seconds, abs=1e-6)


@fast
@given(calendars, instants, durations)
def test_added_business_time_ends_inside_open_hours_or_exactly_at_a_close(
    calendar: BusinessCalendar, start: float, seconds: float
) -> None:
    end = calendar.add_business_seconds(start, seconds)
    if seconds == 0:
        return
    day = datetime.fromtimestamp(end, calendar.zone).date()
    closes = [b for d in (day - timedelta(days=1), day) for _, b in calendar.open_intervals_on(d)]
    assert calendar.is_open(end) or any(abs(end - close) < 1e-6 for close in closes)


@fast
@given(calendars, instants, durations, durations)
def test_business_seconds_never_decrease_as_the_end_moves_later(
    calendar: BusinessCalendar, start: float, first: float, extra: float
) -> None:
    earlier = calendar.business_seconds(start, start + first)
    later = calendar.business_seconds(start, start + first + extra)
    assert later >= earlier - 1e-6


@fast
@given(calendars, instants, durations, durations)
def test_business_seconds_of_adjacent_spans_add_up(
    calendar: BusinessCalendar, a: float, ab: float, bc: float
) -> None:
    b, c = a + ab, a + ab + bc
    whole = calendar.business_seconds(a, c)
    assert calendar.business_seconds(a, b) + calendar.business_seconds(b, c) == pytest.approx(
        whole, abs=1e-6
    )


@fast
@given(calendars, instants)
def test_the_next_opening_is_open_and_nothing_before_it_is(
    calendar: BusinessCalendar, t: float
) -> None:
    opening = calendar.next_opening(t)
    assert opening >= t
    assert calendar.is_open(opening)
    assert calendar.business_seconds(t, opening) == 0


@fast
@given(st.sampled_from(ORACLE_SPECS), instants)
def test_is_open_agrees_with_reading_the_wall_clock(spec: Spec, t: float) -> None:
    assert spec.calendar.is_open(t) is spec.naive_is_open(t)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ORACLE_SPECS), whole_minutes, st.integers(0, 2 * 24 * 60))
def test_business_seconds_agree_with_counting_open_minutes_one_by_one(
    spec: Spec, start: float, minutes: int
) -> None:
    open_minutes = sum(spec.naive_is_open(start + 60 * m) for m in range(minutes))
    assert spec.calendar.business_seconds(start, start + 60 * minutes) == 60 * open_minutes


@fast
@given(instants, durations)
def test_the_24x7_general_path_agrees_with_the_24x7_fast_path(t: float, seconds: float) -> None:
    general = NY_24X7_GENERAL.calendar
    assert general.business_seconds(t, t + seconds) == pytest.approx(seconds, abs=1e-6)
    assert general.add_business_seconds(t, seconds) == pytest.approx(t + seconds, abs=1e-6)
    assert NY_24X7.add_workdays(t, 3) == general.add_workdays(t, 3)


@fast
@given(st.sampled_from([NJ, NEW_YORK, LONDON, SHANGHAI]), instants, st.integers(0, 30))
def test_workdays_keep_the_wall_time_of_the_opening_and_count_workdays_only(
    spec: Spec, t: float, count: int
) -> None:
    calendar = spec.calendar
    opened = datetime.fromtimestamp(calendar.next_opening(t), calendar.zone)
    ended = datetime.fromtimestamp(calendar.add_workdays(t, count), calendar.zone)
    assert ended.time() == opened.time()
    span = (ended.date() - opened.date()).days
    days = [opened.date() + timedelta(days=n) for n in range(1, span + 1)]
    assert sum(calendar.is_workday(day) for day in days) == count

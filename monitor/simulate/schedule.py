"""A contract's minute grid over the simulated span: arrival load, opening hours, staff.

Everything time-of-day is computed once per minute in the contract's time zone
(so DST and holidays come for free), after which the hot path only indexes lists.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from random import Random
from zoneinfo import ZoneInfo

from monitor.domain.agreement import Agreement
from monitor.domain.calendar import BusinessCalendar
from monitor.simulate.profile import TrafficProfile

MINUTE = 60.0
_WORK_SPREAD_S = 900.0


class Schedule:
    """Per-minute ``load`` (arrival multiplier), ``open``, ``agents`` and ``chat_slots``."""

    def __init__(
        self, agreement: Agreement, profile: TrafficProfile, start: float, until: float
    ) -> None:
        self.start = start
        self.until = until
        size = max(0, math.ceil((until - start) / MINUTE))
        zone = ZoneInfo(agreement.timezone)
        calendar = business_calendar(agreement) if profile.use_calendar else None
        self.load: list[float] = []
        self.open: list[bool] = []
        self.agents: list[int] = []
        self.chat_slots: list[int] = []
        agents_by_minute, chat_by_minute = _staff_by_minute_of_day(profile)
        concurrency = profile.chats.concurrency
        weekend_factor = profile.weekend_factor
        for index, (minute_of_day, weekday) in enumerate(_local_clock(zone, start, size)):
            agents = agents_by_minute[minute_of_day]
            chat_agents = chat_by_minute[minute_of_day]
            if calendar is None:
                is_open = agents + chat_agents > 0
            else:
                is_open = calendar.is_open(start + index * MINUTE)
                agents = max(agents, profile.min_agents_open)
                chat_agents = max(chat_agents, profile.min_chat_agents_open)
            load = profile.curve[minute_of_day // 60]
            self.load.append(load * weekend_factor if weekday >= 5 else load)
            self.open.append(is_open)
            self.agents.append(agents if is_open else 0)
            self.chat_slots.append(chat_agents * concurrency if is_open else 0)
        self._next_open = _next_true(self.open)

    def rates(self, per_hour_peak: float, *, open_only: bool) -> list[float]:
        """Arrival rate per second for each minute."""
        scale = per_hour_peak / 3600.0
        if not open_only:
            return [load * scale for load in self.load]
        return [
            load * scale if is_open else 0.0
            for load, is_open in zip(self.load, self.open, strict=True)
        ]

    def staffing(self, servers: Sequence[int]) -> list[tuple[float, int]]:
        """The change points ``(epoch, servers)`` of a per-minute server count."""
        changes: list[tuple[float, int]] = []
        for minute, count in enumerate(servers):
            if not changes or changes[-1][1] != count:
                changes.append((self.start + minute * MINUTE, count))
        return changes

    def work_time(self, t: float, rng: Random) -> float:
        """When an agent acts on something due at ``t``: then if staffed, else after reopening."""
        minute = int((t - self.start) // MINUTE)
        if minute >= len(self.open) or self.open[minute]:
            return t
        reopen = self._next_open[minute]
        if reopen >= len(self.open):
            return self.until
        return self.start + reopen * MINUTE + rng.uniform(0.0, _WORK_SPREAD_S)


def business_calendar(agreement: Agreement) -> BusinessCalendar | None:
    """The calendar that sets opening hours: ``business`` if named so, else the first one."""
    calendars = agreement.calendars
    return calendars.get("business") or next(iter(calendars.values()), None)


def arrivals(rng: Random, rates: Sequence[float], start: float, until: float) -> Iterator[float]:
    """Epochs of a non-homogeneous Poisson process with per-minute ``rates``, by thinning."""
    peak = max(rates, default=0.0)
    if peak <= 0:
        return
    t = start
    while True:
        t += rng.expovariate(peak)
        if t >= until:
            return
        if rng.random() * peak < rates[int((t - start) // MINUTE)]:
            yield t


def _staff_by_minute_of_day(profile: TrafficProfile) -> tuple[list[int], list[int]]:
    """Agents and chat agents on duty at each local minute of the day (shifts add up)."""
    agents, chat_agents = [0] * 1440, [0] * 1440
    for minute in range(1440):
        for shift in profile.shifts:
            if shift.covers(minute / 60.0):
                agents[minute] += shift.agents
                chat_agents[minute] += shift.chat_agents
    return agents, chat_agents


def _local_clock(zone: ZoneInfo, start: float, size: int) -> Iterator[tuple[int, int]]:
    """Local minute of day and weekday (Monday 0) at each grid minute.

    The UTC offset is looked up once per UTC hour and per minute only in an hour
    that contains a transition, so long spans stay cheap and DST stays exact.
    """
    hour = None
    steady: float | None = None
    for index in range(size):
        epoch = start + index * MINUTE
        if int(epoch // 3600) != hour:
            hour = int(epoch // 3600)
            first, last = _offset(zone, hour * 3600.0), _offset(zone, hour * 3600.0 + 3599.0)
            steady = first if first == last else None
        offset = steady if steady is not None else _offset(zone, epoch)
        local_minutes = int((epoch + offset) // MINUTE)
        yield local_minutes % 1440, (local_minutes // 1440 + 3) % 7  # 1970-01-01 was a Thursday


def _offset(zone: ZoneInfo, epoch: float) -> float:
    offset = datetime.fromtimestamp(epoch, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _next_true(flags: Sequence[bool]) -> list[int]:
    """For each index, the first index at or after it whose flag is set (len if none)."""
    result = [len(flags)] * len(flags)
    upcoming = len(flags)
    for index in range(len(flags) - 1, -1, -1):
        if flags[index]:
            upcoming = index
        result[index] = upcoming
    return result

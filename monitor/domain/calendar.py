"""Business calendars (placeholder: the real implementation is being written)."""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping, Sequence
from datetime import date


class BusinessCalendar:
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

    @classmethod
    def always_open(cls, timezone: str = "UTC", name: str = "24x7") -> BusinessCalendar:
        return cls(name, timezone, {d: ((0, 1440),) for d in range(7)})

    def is_open(self, t: float) -> bool:
        raise NotImplementedError

    def business_seconds(self, start: float, end: float) -> float:
        raise NotImplementedError

    def add_business_seconds(self, start: float, seconds: float) -> float:
        raise NotImplementedError

    def add_workdays(self, start: float, count: int) -> float:
        raise NotImplementedError

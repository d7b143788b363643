"""The internal, validated model of one customer agreement (what the engine reads).

The agreement *file* format (slamon/v1) lives in ``monitor.rulespec``; the loader
turns a file into these frozen dataclasses. All durations are seconds (float),
all ratios are fractions in [0, 1].
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from monitor.domain.calendar import BusinessCalendar

WindowKind = Literal[
    "service_level",
    "average_speed_of_answer",
    "average_wait",
    "abandonment_rate",
    "average_handle_time",
    "satisfaction",
]
ItemKind = Literal["first_response", "next_response", "resolution"]
WINDOW_KINDS: Final = (
    "service_level",
    "average_speed_of_answer",
    "average_wait",
    "abandonment_rate",
    "average_handle_time",
    "satisfaction",
)
ITEM_KINDS: Final = ("first_response", "next_response", "resolution")
PERIOD_KINDS: Final = ("availability",)
ALL_KINDS: Final = WINDOW_KINDS + ITEM_KINDS + PERIOD_KINDS

ServiceLevelFormula = Literal[
    "answered_within_over_offered",
    "answered_within_over_answered",
    "removed_within_over_offered",
]
DEFAULT_SERVICE_LEVEL_FORMULA: Final = "answered_within_over_offered"

Comparator = Literal[">=", ">", "<=", "<"]
_COMPARE: Final[Mapping[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
Unit = Literal["ratio", "seconds", "number"]


@dataclass(frozen=True, slots=True)
class Target:
    """``>= 80%`` is Target(">=", 0.8, "ratio"); ``<= 30s`` is Target("<=", 30.0, "seconds")."""

    comparator: Comparator
    value: float
    unit: Unit = "ratio"

    def met(self, observed: float) -> bool:
        return _COMPARE[self.comparator](observed, self.value)

    @property
    def higher_is_better(self) -> bool:
        return self.comparator in (">=", ">")

    def __str__(self) -> str:
        if self.unit == "ratio":
            return f"{self.comparator} {self.value * 100:g}%"
        if self.unit == "seconds":
            return f"{self.comparator} {self.value:g}s"
        return f"{self.comparator} {self.value:g}"


@dataclass(frozen=True, slots=True)
class Match:
    """Which items an objective applies to. ``None`` means any; a set means any of."""

    channel: frozenset[str] | None = None
    priority: frozenset[str] | None = None
    category: frozenset[str] | None = None
    queue: frozenset[str] | None = None
    attributes: tuple[tuple[str, frozenset[str]], ...] = ()


ANY: Final = Match()


@dataclass(frozen=True, slots=True)
class BusinessTime:
    """A deadline of N seconds counted on the objective's calendar (open time only)."""

    seconds: float

    def __str__(self) -> str:
        return _format_seconds(self.seconds)


@dataclass(frozen=True, slots=True)
class Workdays:
    """A deadline at the same local time on the Nth following workday."""

    count: int

    def __str__(self) -> str:
        return f"{self.count} workday" + ("" if self.count == 1 else "s")


Deadline = BusinessTime | Workdays


@dataclass(frozen=True, slots=True)
class WindowObjective:
    """An SLI over a rolling window of calls, chats or surveys, or over each calendar
    month (``period`` ``month``; ``window`` is then 0).

    Calls and chats are selected by ``match``: ``channel`` ``phone`` means calls,
    ``chat`` means chats; without a channel selector only calls count.
    """

    id: str
    kind: WindowKind
    target: Target
    window: float
    match: Match = ANY
    threshold: float | None = None
    formula: ServiceLevelFormula = DEFAULT_SERVICE_LEVEL_FORMULA
    short_abandon: float = 0.0
    min_volume: int = 1
    hold_for: float = 0.0
    satisfied_min_score: float = 4.0
    scale_max: float = 5.0
    clause: str = ""
    period: Literal["month"] | None = None


@dataclass(frozen=True, slots=True)
class ItemObjective:
    """A per-item clock: first/next response or resolution of a ticket, chat or call."""

    id: str
    kind: ItemKind
    within: Deadline
    calendar: BusinessCalendar
    match: Match = ANY
    pause_on: frozenset[str] = frozenset()
    warn_at: tuple[float, ...] = ()
    target: Target | None = None
    period: Literal["month"] | None = None
    clause: str = ""


@dataclass(frozen=True, slots=True)
class AvailabilityObjective:
    """Share of the period a service is up, from ``service.status`` transitions."""

    id: str
    service: str
    target: Target
    period: Literal["month"] = "month"
    degraded_is_down: bool = False
    calendar: BusinessCalendar | None = None
    clause: str = ""

    kind: Literal["availability"] = "availability"


Objective = WindowObjective | ItemObjective | AvailabilityObjective


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    after: float
    notify: tuple[str, ...]
    business_hours_only: bool = False


@dataclass(frozen=True, slots=True)
class Alerting:
    warn_at: tuple[float, ...] = (0.75,)
    hold_for: float = 300.0
    min_volume: int = 10
    repeat_interval: float = 4 * 3600.0
    escalation: tuple[EscalationLevel, ...] = (EscalationLevel(0.0, ("alertmanager",)),)


@dataclass(frozen=True, slots=True)
class Credit:
    """A service credit owed when a (monthly) objective is missed."""

    objective: str
    percent_of_fee: float
    clause: str = ""


@dataclass(frozen=True, slots=True)
class Agreement:
    contract_id: str
    title: str
    timezone: str
    calendars: Mapping[str, BusinessCalendar]
    objectives: tuple[Objective, ...]
    alerting: Alerting = Alerting()
    credits: tuple[Credit, ...] = ()
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def objective(self, objective_id: str) -> Objective:
        for objective in self.objectives:
            if objective.id == objective_id:
                return objective
        raise KeyError(objective_id)


def _format_seconds(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"

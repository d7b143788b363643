"""The ``slamon/v1`` agreement-file spec as pydantic models.

These models are the file format, not the engine's model: they accept what a
person writes (``"12h"``, ``">= 80%"``, ``mon-fri``), reject typos
(``extra="forbid"``) and check each value on its own. Values that have a domain
type (durations, deadlines, targets) are parsed into it right here, so every
error carries the location of the field it came from. Cross references (named
calendars, credited objectives, unique ids) are checked in ``references``;
defaults that depend on other fields are filled in ``build``.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from monitor.domain.agreement import (
    DEFAULT_SERVICE_LEVEL_FORMULA,
    Deadline,
    ServiceLevelFormula,
    Target,
    Unit,
    Workdays,
)
from monitor.domain.events import CHANNELS, PRIORITIES
from monitor.rulespec import units

VERSION: Final = "slamon/v1"
PAUSE_STATUSES: Final = ("new", "open", "pending", "on_hold")
WINDOW_CHANNELS: Final = ("phone", "chat")
_IDENTIFIER_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
MAX_WINDOW_S: Final = 92 * units.DAY_S
"""A quarter: a rolling window keeps up to one bucket per minute of it."""
MAX_SHORT_ABANDON_S: Final = 3600.0
MAX_INTERVAL_S: Final = 30 * units.DAY_S
"""Escalation ``after`` and ``repeat_interval``."""
MAX_VOLUME: Final = 1_000_000
MAX_SCALE: Final = 1000.0


def _identifier(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or not value[0].isalnum()
        or not set(value) <= _IDENTIFIER_CHARS
    ):
        raise ValueError(
            f"bad id {value!r}: use lower-case letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return value


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
        ) from None
    return str(value)


def _target(*allowed: Unit, higher_is_better: bool) -> PlainValidator:
    def check(value: Any) -> Target:
        return units.check_target(units.parse_target(value), allowed, higher_is_better)

    return PlainValidator(check)


def _selector(known: tuple[str, ...] | None, what: str) -> PlainValidator:
    """A scalar or a non-empty list (any of); values must be in ``known`` if given."""

    def check(value: Any) -> frozenset[str]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"expected a {what} or a list of them, got {value!r}")
        if not values:
            raise ValueError("an empty list: matcher can never match")
        for candidate in values:
            if known is not None and candidate not in known:
                raise ValueError(
                    f"unknown {what} {candidate!r}: matcher can never match "
                    f"(known: {', '.join(known)})"
                )
        return frozenset(values)

    return PlainValidator(check)


def _never_on_calls_and_chats(what: str) -> PlainValidator:
    def check(value: Any) -> None:
        raise ValueError(
            f"calls and chats carry no {what}: matcher can never match "
            f"(select tickets by {what} in an item objective)"
        )

    return PlainValidator(check)


Identifier = Annotated[str, PlainValidator(_identifier)]
TimeZoneName = Annotated[str, PlainValidator(_timezone)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
WindowLength = Annotated[float, PlainValidator(units.duration_at_most(MAX_WINDOW_S, positive=True))]
Threshold = Annotated[float, PlainValidator(units.duration_at_most(units.DAY_S, positive=True))]
ShortAbandon = Annotated[float, PlainValidator(units.duration_at_most(MAX_SHORT_ABANDON_S))]
HoldFor = Annotated[float, PlainValidator(units.duration_at_most(units.DAY_S))]
Interval = Annotated[float, PlainValidator(units.duration_at_most(MAX_INTERVAL_S, positive=True))]
After = Annotated[float, PlainValidator(units.duration_at_most(MAX_INTERVAL_S))]
DeadlineValue = Annotated[Deadline, PlainValidator(units.parse_deadline)]
Percent = Annotated[float, PlainValidator(units.parse_percent)]
Date = Annotated[date, PlainValidator(units.parse_date)]
Days = Annotated[tuple[int, ...], PlainValidator(units.parse_days)]
Hours = Annotated[tuple[int, int], PlainValidator(units.parse_hours)]
Volume = Annotated[StrictInt, Field(ge=1, le=MAX_VOLUME)]
HigherRatio = Annotated[Target, _target("ratio", higher_is_better=True)]
LowerRatio = Annotated[Target, _target("ratio", higher_is_better=False)]
LowerSeconds = Annotated[Target, _target("seconds", higher_is_better=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- calendars ---------------------------------------------------------------


@cache
def _holiday_countries() -> dict[str, list[str]]:
    supported: dict[str, list[str]] = holidays.list_supported_countries()
    return supported


class HolidaysSpec(_Spec):
    country: str
    subdivision: str | None = None

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        if country not in _holiday_countries():
            raise ValueError(
                f"unknown holiday country {country!r}; use an ISO 3166 alpha-2 code "
                "such as US, CN or DE"
            )
        return country

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if subdivision is None or country is None:
            return subdivision
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            known = ", ".join(_holiday_countries()[country]) or "none"
            raise ValueError(
                f"{country} has no holiday subdivision {subdivision!r} (known: {known})"
            ) from None
        return subdivision


class CalendarSpec(_Spec):
    timezone: TimeZoneName | None = None
    weekly: dict[Days, list[Hours]]
    holidays: HolidaysSpec | None = None
    extra_holidays: list[Date] = Field(default_factory=list)
    extra_workdays: list[Date] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _open_and_unambiguous(
        cls, weekly: dict[tuple[int, ...], list[tuple[int, int]]]
    ) -> dict[tuple[int, ...], list[tuple[int, int]]]:
        seen: set[int] = set()
        for days, hours in weekly.items():
            for day in days:
                if day in seen:
                    raise ValueError(f"{units.DAYS[day]} is given in more than one key")
                seen.add(day)
            spans = sorted(hours)
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise ValueError(f"opening hours overlap on {units.DAYS[days[0]]}")
        if not any(weekly.values()):
            raise ValueError("the calendar is never open")
        return weekly

    @field_validator("extra_workdays")
    @classmethod
    def _not_also_holidays(cls, workdays: list[date], info: ValidationInfo) -> list[date]:
        both = sorted(set(workdays) & set(info.data.get("extra_holidays", ())))
        if both:
            raise ValueError(f"{both[0].isoformat()} is both an extra holiday and an extra workday")
        return workdays


# --- objectives --------------------------------------------------------------


class MatchSpec(_Spec):
    """Selects tickets, chats or calls; lists mean any of."""

    channel: Annotated[frozenset[str], _selector(CHANNELS, "channel")] | None = None
    priority: Annotated[frozenset[str], _selector(PRIORITIES, "priority")] | None = None
    category: Annotated[frozenset[str], _selector(None, "category")] | None = None
    queue: Annotated[frozenset[str], _selector(None, "queue")] | None = None
    attributes: dict[str, Annotated[frozenset[str], _selector(None, "value")]] = Field(
        default_factory=dict
    )


class WindowMatchSpec(_Spec):
    """Selects calls (``channel: phone``) or chats (``channel: chat``)."""

    channel: Annotated[frozenset[str], _selector(WINDOW_CHANNELS, "channel")] | None = None
    priority: Annotated[None, _never_on_calls_and_chats("priority")] = None
    category: Annotated[None, _never_on_calls_and_chats("category")] = None
    queue: Annotated[frozenset[str], _selector(None, "queue")] | None = None
    attributes: dict[str, Annotated[frozenset[str], _selector(None, "value")]] = Field(
        default_factory=dict
    )


class _Objective(_Spec):
    id: Identifier
    clause: str = ""


class _WindowObjective(_Objective):
    """A contact objective over a rolling ``window`` or per calendar month (``period``)."""

    window: WindowLength | None = None
    match: WindowMatchSpec = WindowMatchSpec()
    min_volume: Volume | None = None
    hold_for: HoldFor | None = Field(default=None, alias="for")
    period: Literal["month"] | None = Field(default=None, validate_default=True)

    @field_validator("period")
    @classmethod
    def _window_or_period(cls, period: str | None, info: ValidationInfo) -> str | None:
        if "window" not in info.data:
            return period  # the window itself is invalid: reported there
        window = info.data["window"]
        if period is None and window is None:
            raise ValueError(
                "needs a rolling window (window: 30m) or a monthly target (period: month)"
            )
        if period is not None and window is not None:
            raise ValueError(
                "give either window or period: month, not both; for both, write two "
                "objectives with different ids"
            )
        if period is not None and info.data.get("hold_for") is not None:
            raise ValueError(
                "'for' applies to rolling windows; a monthly target alerts on its error "
                "budget's burn rate"
            )
        return period


class ServiceLevelSpec(_WindowObjective):
    kind: Literal["service_level"]
    threshold: Threshold
    target: HigherRatio
    formula: ServiceLevelFormula = DEFAULT_SERVICE_LEVEL_FORMULA
    short_abandon: ShortAbandon = 0.0


class AverageTimeSpec(_WindowObjective):
    kind: Literal["average_speed_of_answer", "average_wait", "average_handle_time"]
    target: LowerSeconds


class AbandonmentSpec(_WindowObjective):
    kind: Literal["abandonment_rate"]
    target: LowerRatio
    short_abandon: ShortAbandon = 0.0


class SatisfactionSpec(_WindowObjective):
    kind: Literal["satisfaction"]
    scale_max: Annotated[float, Field(gt=0, le=MAX_SCALE)] = 5.0
    satisfied_min_score: float | None = None
    target: HigherRatio

    @field_validator("satisfied_min_score")
    @classmethod
    def _on_the_scale(cls, score: float | None, info: ValidationInfo) -> float | None:
        scale_max = info.data.get("scale_max")
        if score is not None and scale_max is not None and not 0 < score <= scale_max:
            raise ValueError(f"{score:g} is not on the survey scale (0, {scale_max:g}]")
        return score


class ItemSpec(_Objective):
    kind: Literal["first_response", "next_response", "resolution"]
    match: MatchSpec = MatchSpec()
    calendar: str | None = None
    within: DeadlineValue
    pause_on: list[Literal["new", "open", "pending", "on_hold"]] = Field(default_factory=list)
    warn_at: list[Percent] | None = None
    target: HigherRatio | None = None
    period: Literal["month"] | None = None

    @field_validator("within")
    @classmethod
    def _workdays_need_a_calendar(cls, within: Deadline, info: ValidationInfo) -> Deadline:
        if isinstance(within, Workdays) and info.data.get("calendar", "") is None:
            raise ValueError(f"'{within}' needs a business calendar: add calendar: <name>")
        return within

    @field_validator("period")
    @classmethod
    def _period_needs_target(cls, period: str | None, info: ValidationInfo) -> str | None:
        if period is not None and "target" in info.data and info.data["target"] is None:
            raise ValueError("period needs a compliance target, like target: '>= 95%'")
        return period


class AvailabilitySpec(_Objective):
    kind: Literal["availability"]
    service: Text
    target: HigherRatio
    period: Literal["month"] = "month"
    degraded: Literal["up", "down"] = "up"
    calendar: str | None = None


ObjectiveSpec = Annotated[
    ServiceLevelSpec
    | AverageTimeSpec
    | AbandonmentSpec
    | SatisfactionSpec
    | ItemSpec
    | AvailabilitySpec,
    Field(discriminator="kind"),
]
WindowSpec = ServiceLevelSpec | AverageTimeSpec | AbandonmentSpec | SatisfactionSpec


# --- alerting and credits ----------------------------------------------------


class EscalationSpec(_Spec):
    after: After
    notify: Annotated[list[Text], Field(min_length=1)]
    business_hours_only: StrictBool = False


class AlertingSpec(_Spec):
    """Contract-wide alerting; ``None`` fields take the engine's defaults."""

    warn_at: list[Percent] | None = None
    hold_for: HoldFor | None = Field(default=None, alias="for")
    min_volume: Volume | None = None
    repeat_interval: Interval | None = None
    escalation: Annotated[list[EscalationSpec], Field(min_length=1)] | None = None

    @field_validator("escalation")
    @classmethod
    def _in_order(cls, levels: list[EscalationSpec] | None) -> list[EscalationSpec] | None:
        afters = [level.after for level in levels or ()]
        if afters != sorted(afters):
            raise ValueError("escalation levels must be listed in order of 'after'")
        return levels


class CreditSpec(_Spec):
    objective: str
    percent_of_fee: Annotated[float, Field(gt=0, le=100)]
    clause: str = ""


class AgreementSpec(_Spec):
    version: Literal["slamon/v1"]
    contract: Identifier
    title: Text
    timezone: TimeZoneName | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    calendars: dict[Identifier, CalendarSpec] = Field(default_factory=dict)
    objectives: Annotated[list[ObjectiveSpec], Field(min_length=1)]
    alerting: AlertingSpec = AlertingSpec()
    credits: list[CreditSpec] = Field(default_factory=list)

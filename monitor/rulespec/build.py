"""Fill the defaults and turn a validated spec into the engine's domain objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import holidays

from monitor.domain.agreement import (
    Agreement,
    Alerting,
    AvailabilityObjective,
    Credit,
    EscalationLevel,
    ItemObjective,
    Match,
    Objective,
    WindowObjective,
)
from monitor.domain.calendar import BusinessCalendar
from monitor.rulespec import v1

DEFAULT_TIMEZONE = "UTC"
DEFAULT_CALENDAR = "business"
SATISFIED_SHARE_OF_SCALE = 0.8
"""Without ``satisfied_min_score``, a survey counts as satisfied from 80% of the scale (4 of 5)."""


def build_agreement(spec: v1.AgreementSpec, source: str) -> Agreement:
    timezone = contract_timezone(spec)
    calendars = {
        name: build_calendar(name, calendar, timezone) for name, calendar in spec.calendars.items()
    }
    always_open = BusinessCalendar.always_open(timezone)
    alerting = build_alerting(spec.alerting)
    objectives = tuple(
        build_objective(objective, calendars, always_open, alerting)
        for objective in spec.objectives
    )
    return Agreement(
        contract_id=spec.contract,
        title=spec.title,
        timezone=timezone,
        calendars=calendars,
        objectives=objectives,
        alerting=alerting,
        credits=tuple(
            Credit(credit.objective, credit.percent_of_fee, credit.clause)
            for credit in spec.credits
        ),
        source=source,
        labels=dict(spec.labels),
    )


def contract_timezone(spec: v1.AgreementSpec) -> str:
    """The explicit timezone, else the ``business`` calendar's, else the first calendar's."""
    if spec.timezone is not None:
        return spec.timezone
    business = spec.calendars.get(DEFAULT_CALENDAR)
    candidates = ([business] if business else []) + list(spec.calendars.values())
    for calendar in candidates:
        if calendar.timezone is not None:
            return calendar.timezone
    return DEFAULT_TIMEZONE


def build_calendar(name: str, spec: v1.CalendarSpec, default_timezone: str) -> BusinessCalendar:
    weekly: dict[int, tuple[tuple[int, int], ...]] = dict.fromkeys(range(7), ())
    for days, hours in spec.weekly.items():
        for day in days:
            weekly[day] = tuple(sorted(hours))
    public_holidays = (
        holidays.country_holidays(spec.holidays.country, subdiv=spec.holidays.subdivision)
        if spec.holidays is not None
        else frozenset()
    )
    return BusinessCalendar(
        name,
        spec.timezone or default_timezone,
        weekly,
        holidays=public_holidays,
        extra_holidays=tuple(spec.extra_holidays),
        extra_workdays=tuple(spec.extra_workdays),
    )


def build_alerting(spec: v1.AlertingSpec) -> Alerting:
    defaults = Alerting()
    escalation = (
        tuple(
            EscalationLevel(level.after, tuple(level.notify), level.business_hours_only)
            for level in spec.escalation
        )
        if spec.escalation is not None
        else defaults.escalation
    )
    return Alerting(
        warn_at=tuple(spec.warn_at) if spec.warn_at is not None else defaults.warn_at,
        hold_for=spec.hold_for if spec.hold_for is not None else defaults.hold_for,
        min_volume=spec.min_volume or defaults.min_volume,
        repeat_interval=spec.repeat_interval or defaults.repeat_interval,
        escalation=escalation,
    )


def build_objective(
    spec: v1.ObjectiveSpec,
    calendars: Mapping[str, BusinessCalendar],
    always_open: BusinessCalendar,
    alerting: Alerting,
) -> Objective:
    if isinstance(spec, v1.ItemSpec):
        return ItemObjective(
            id=spec.id,
            kind=spec.kind,
            within=spec.within,
            calendar=calendars[spec.calendar] if spec.calendar else always_open,
            match=build_match(spec.match),
            pause_on=frozenset(spec.pause_on),
            warn_at=tuple(spec.warn_at) if spec.warn_at is not None else alerting.warn_at,
            target=spec.target,
            period=spec.period or ("month" if spec.target is not None else None),
            clause=spec.clause,
        )
    if isinstance(spec, v1.AvailabilitySpec):
        return AvailabilityObjective(
            id=spec.id,
            service=spec.service,
            target=spec.target,
            period=spec.period,
            degraded_is_down=spec.degraded == "down",
            calendar=calendars[spec.calendar] if spec.calendar else None,
            clause=spec.clause,
        )
    return build_window_objective(spec, alerting)


def build_window_objective(spec: v1.WindowSpec, alerting: Alerting) -> WindowObjective:
    objective = WindowObjective(
        id=spec.id,
        kind=spec.kind,
        target=spec.target,
        window=spec.window or 0.0,
        match=build_match(spec.match),
        min_volume=spec.min_volume or alerting.min_volume,
        hold_for=spec.hold_for if spec.hold_for is not None else alerting.hold_for,
        clause=spec.clause,
        period=spec.period,
    )
    if isinstance(spec, v1.AbandonmentSpec):
        return replace(objective, short_abandon=spec.short_abandon)
    if isinstance(spec, v1.ServiceLevelSpec):
        return replace(
            objective,
            threshold=spec.threshold,
            formula=spec.formula,
            short_abandon=spec.short_abandon,
        )
    if isinstance(spec, v1.SatisfactionSpec):
        min_score = spec.satisfied_min_score
        return replace(
            objective,
            scale_max=spec.scale_max,
            satisfied_min_score=(
                min_score if min_score is not None else spec.scale_max * SATISFIED_SHARE_OF_SCALE
            ),
        )
    return objective


def build_match(spec: v1.MatchSpec | v1.WindowMatchSpec) -> Match:
    return Match(
        channel=spec.channel,
        priority=spec.priority if isinstance(spec, v1.MatchSpec) else None,
        category=spec.category if isinstance(spec, v1.MatchSpec) else None,
        queue=spec.queue,
        attributes=tuple(sorted(spec.attributes.items())),
    )

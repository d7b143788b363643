"""Tickets: arrivals by channel and a whole lifecycle per ticket, drawn at creation.

A lifecycle: created → (internal note) → open + first public reply → rounds of
pending/customer reply or on-hold, each ending in an agent reply, maybe a priority
change → solved → sometimes a customer reply reopens it → solved → closed.
Agents act only while the center is staffed (:meth:`Schedule.work_time`).
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random
from typing import Protocol

from monitor.domain.events import PRIORITIES
from monitor.simulate.emission import Body, Emission, FollowUps, survey_body
from monitor.simulate.profile import Choice, Dist, Surveys, TicketTraffic
from monitor.simulate.schedule import Schedule, arrivals

CATEGORY_QUEUES = {"technical": "technical", "billing": "billing"}


def ticket_events(
    rng: Random,
    schedule: Schedule,
    tickets: TicketTraffic,
    surveys: Surveys,
    *,
    contract_id: str,
    id_prefix: str,
) -> Iterator[Emission]:
    """Every ticket event of a contract, in time order."""
    total = sum(rate for _, rate in tickets.per_hour_peak)
    if total <= 0:
        return
    rates = schedule.rates(total, open_only=False)
    life = _Lifecycles(rng, schedule, tickets, surveys)
    later = FollowUps()
    for n, created in enumerate(arrivals(rng, rates, schedule.start, schedule.until)):
        yield from later.due(created)
        for t, kind, body in life.draw(created, contract_id, f"{id_prefix}{n}"):
            later.add(t, kind, body)
    yield from later.before(schedule.until)


class _Emit(Protocol):
    def __call__(self, t: float, kind: str, **extra: object) -> None: ...


class _Lifecycles:
    def __init__(
        self, rng: Random, schedule: Schedule, tickets: TicketTraffic, surveys: Surveys
    ) -> None:
        self.rng = rng
        self.schedule = schedule
        self.tickets = tickets
        self.surveys = surveys
        self.channels = Choice(tickets.per_hour_peak)
        self.priorities = Choice(tickets.priorities)
        self.categories = Choice(tickets.categories)
        self.first_reply = dict(tickets.first_reply)
        self.speed = dict(tickets.speed)

    def draw(self, created: float, contract_id: str, ticket_id: str) -> list[Emission]:
        """The events of one ticket, sorted by time (stable: same-instant order is kept)."""
        rng, tk = self.rng, self.tickets
        channel = self.channels.pick(rng)
        priority = self.priorities.pick(rng)
        category = self.categories.pick(rng)
        base: Body = {
            "contract_id": contract_id,
            "queue": CATEGORY_QUEUES.get(category, "general"),
            "ticket_id": ticket_id,
        }
        out: list[Emission] = []

        def emit(t: float, kind: str, **extra: object) -> None:
            out.append((t, kind, {**base, **extra}))

        emit(created, "ticket.created", channel=channel, priority=priority, category=category)
        reply_delay = self.first_reply.get(channel, tk.next_reply)
        first = self._agent(created, reply_delay, priority)
        if rng.random() < tk.internal_note_share:
            note = self.schedule.work_time(rng.uniform(created, first), rng)
            emit(min(note, first), "ticket.agent_reply", public=False)
        emit(first, "ticket.status_changed", status="open")
        emit(first, "ticket.agent_reply", public=True)
        t = first
        for _ in range(_geometric(rng, tk.extra_rounds_mean)):
            t, priority = self._round(emit, t, priority)
        t = self._solve(emit, t)
        reopened = rng.random() < tk.reopen_share
        if reopened:
            t += tk.reopen_after.sample(rng)
            emit(t, "ticket.customer_reply")
            emit(t, "ticket.reopened")
            emit(t, "ticket.status_changed", status="open")
            t = self._agent(t, tk.next_reply, priority)
            emit(t, "ticket.agent_reply", public=True)
            t = self._solve(emit, t)
        if rng.random() < tk.survey_share:
            survey = survey_body(rng, self.surveys, base, "ticket_id", channel, reopened)
            out.append((t + tk.survey_delay.sample(rng), "survey.response", survey))
        emit(t + tk.close_after_s, "ticket.status_changed", status="closed")
        out.sort(key=lambda emission: emission[0])
        return out

    def _round(self, emit: _Emit, t: float, priority: str) -> tuple[float, str]:
        """One more exchange: wait on the customer or a third party, then an agent reply."""
        rng, tk = self.rng, self.tickets
        draw = rng.random()
        if draw < tk.pending_share:
            emit(t, "ticket.status_changed", status="pending")
            t += tk.customer_reply.sample(rng)
            emit(t, "ticket.customer_reply")
            emit(t, "ticket.status_changed", status="open")
        elif draw < tk.pending_share + tk.hold_share:
            emit(t, "ticket.status_changed", status="on_hold")
            t += tk.hold.sample(rng)
            emit(t, "ticket.status_changed", status="open")
        if rng.random() < tk.priority_change_share:
            priority = rng.choice([p for p in PRIORITIES if p != priority])
            emit(t, "ticket.priority_changed", priority=priority)
        t = self._agent(t, tk.next_reply, priority)
        emit(t, "ticket.agent_reply", public=True)
        return t, priority

    def _solve(self, emit: _Emit, t: float) -> float:
        t = self.schedule.work_time(t + self.rng.uniform(0.0, 600.0), self.rng)
        emit(t, "ticket.status_changed", status="solved")
        return t

    def _agent(self, t: float, delay: Dist, priority: str) -> float:
        scaled = delay.sample(self.rng) * self.speed.get(priority, 1.0)
        return self.schedule.work_time(t + scaled, self.rng)


def _geometric(rng: Random, mean: float) -> int:
    """A count 0, 1, 2, ... with the given mean."""
    if mean <= 0:
        return 0
    stop = 1.0 / (1.0 + mean)
    count = 0
    while rng.random() >= stop:
        count += 1
    return count

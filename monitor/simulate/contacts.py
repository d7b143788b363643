"""Calls and chats: a queue simulation per contract, rendered to call.* and chat.* events."""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from monitor.simulate.emission import Body, Emission, FollowUps, seconds_between, survey_body
from monitor.simulate.profile import CallTraffic, ChatTraffic, Choice, Surveys
from monitor.simulate.queueing import Abandoned, Offered, run_queue
from monitor.simulate.schedule import Schedule, arrivals


def call_events(
    rng: Random,
    schedule: Schedule,
    calls: CallTraffic,
    surveys: Surveys,
    *,
    contract_id: str,
    id_prefix: str,
) -> Iterator[Emission]:
    """call.offered / answered / abandoned / ended, plus some post-call surveys."""
    until = schedule.until
    happenings = run_queue(
        arrivals(rng, schedule.rates(calls.per_hour_peak, open_only=True), schedule.start, until),
        schedule.staffing(schedule.agents),
        service=lambda: calls.handle.sample(rng),
        patience=lambda: calls.patience.sample(rng),
        until=until,
    )
    queues = Choice(calls.queues)
    bodies: dict[int, Body] = {}
    later = FollowUps()
    for happening in happenings:
        t = happening.t
        if later.next_at() <= t:
            yield from later.due(t)
        if isinstance(happening, Offered):
            body = {
                "contract_id": contract_id,
                "queue": queues.pick(rng),
                "call_id": f"{id_prefix}{happening.n}",
            }
            bodies[happening.n] = body
            yield t, "call.offered", body
            continue
        body = bodies.pop(happening.n)
        wait_s = seconds_between(happening.arrived, t)
        if isinstance(happening, Abandoned):
            yield t, "call.abandoned", {**body, "wait_s": wait_s}
            continue
        yield t, "call.answered", {**body, "wait_s": wait_s}
        ended = t + happening.service
        later.add(ended, "call.ended", {**body, "handle_s": seconds_between(t, ended)})
        if rng.random() < calls.survey_share:
            unhappy = wait_s > surveys.unhappy_wait_s
            survey = survey_body(
                rng,
                surveys,
                contract_id=contract_id,
                ref=body["call_id"],
                channel="phone",
                unhappy=unhappy,
            )
            later.add(ended + surveys.delay.sample(rng), "survey.response", survey)
    yield from later.before(until)


def chat_events(
    rng: Random,
    schedule: Schedule,
    chats: ChatTraffic,
    surveys: Surveys,
    *,
    contract_id: str,
    id_prefix: str,
) -> Iterator[Emission]:
    """chat.started, a first agent message after the queue wait, an exchange, chat.ended."""
    until = schedule.until
    happenings = run_queue(
        arrivals(rng, schedule.rates(chats.per_hour_peak, open_only=True), schedule.start, until),
        schedule.staffing(schedule.chat_slots),
        service=lambda: chats.duration.sample(rng),
        patience=lambda: chats.patience.sample(rng),
        until=until,
    )
    queues = Choice(chats.queues)
    bodies: dict[int, Body] = {}
    later = FollowUps()
    for happening in happenings:
        t = happening.t
        if later.next_at() <= t:
            yield from later.due(t)
        if isinstance(happening, Offered):
            body = {
                "contract_id": contract_id,
                "queue": queues.pick(rng),
                "chat_id": f"{id_prefix}{happening.n}",
            }
            bodies[happening.n] = body
            yield t, "chat.started", body
            continue
        body = bodies.pop(happening.n)
        if isinstance(happening, Abandoned):
            yield t, "chat.abandoned", body
            continue
        _converse(rng, later, chats, body, t, t + happening.service)
        if rng.random() < chats.survey_share:
            unhappy = seconds_between(happening.arrived, t) > surveys.unhappy_wait_s
            survey = survey_body(
                rng,
                surveys,
                contract_id=contract_id,
                ref=body["chat_id"],
                channel="chat",
                unhappy=unhappy,
            )
            later.add(t + happening.service + surveys.delay.sample(rng), "survey.response", survey)
    yield from later.before(until)


def _converse(
    rng: Random, later: FollowUps, chats: ChatTraffic, body: Body, assigned: float, ended: float
) -> None:
    """Schedule the messages of a chat an agent picked up at ``assigned``."""
    first = assigned + min(chats.first_message.sample(rng), (ended - assigned) / 2.0)
    later.add(first, "chat.agent_message", body)
    exchanges = rng.randint(1, max(1, chats.max_exchanges))
    moments = sorted(rng.uniform(first, ended) for _ in range(2 * exchanges))
    for index, moment in enumerate(moments):
        kind = "chat.customer_message" if index % 2 == 0 else "chat.agent_message"
        later.add(moment, kind, body)
    later.add(ended, "chat.ended", body)

"""Calls and chats: a queue simulation per contract, rendered to call.* and chat.* events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from random import Random

from monitor.simulate.emission import Body, Emission, FollowUps, seconds_between, survey_body
from monitor.simulate.profile import CallTraffic, ChatTraffic, Choice, Dist, Surveys, Weighted
from monitor.simulate.queueing import Abandoned, Happening, Offered, run_queue
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
    """call.offered, then call.answered and call.ended or call.abandoned; some surveys."""
    contacts = _contacts(
        rng,
        schedule,
        schedule.agents,
        calls.per_hour_peak,
        service=calls.handle,
        patience=calls.patience,
        queues=calls.queues,
        base={"contract_id": contract_id},
        id_field="call_id",
        id_prefix=id_prefix,
    )
    later = FollowUps()
    for happening, body in contacts:
        t = happening.t
        if later.next_at() <= t:
            yield from later.due(t)
        if isinstance(happening, Offered):
            yield t, "call.offered", body
            continue
        wait_s = seconds_between(happening.arrived, t)
        if isinstance(happening, Abandoned):
            yield t, "call.abandoned", {**body, "wait_s": wait_s}
            continue
        yield t, "call.answered", {**body, "wait_s": wait_s}
        ended = t + happening.service
        later.add(ended, "call.ended", {**body, "handle_s": seconds_between(t, ended)})
        if rng.random() < calls.survey_share:
            unhappy = wait_s > surveys.unhappy_wait_s
            survey = survey_body(rng, surveys, body, "call_id", "phone", unhappy)
            later.add(ended + surveys.delay.sample(rng), "survey.response", survey)
    yield from later.before(schedule.until)


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
    contacts = _contacts(
        rng,
        schedule,
        schedule.chat_slots,
        chats.per_hour_peak,
        service=chats.duration,
        patience=chats.patience,
        queues=chats.queues,
        base={"contract_id": contract_id},
        id_field="chat_id",
        id_prefix=id_prefix,
    )
    later = FollowUps()
    for happening, body in contacts:
        t = happening.t
        if later.next_at() <= t:
            yield from later.due(t)
        if isinstance(happening, Offered):
            yield t, "chat.started", body
            continue
        if isinstance(happening, Abandoned):
            yield t, "chat.abandoned", body
            continue
        ended = t + happening.service
        _converse(rng, later, chats, body, t, ended)
        if rng.random() < chats.survey_share:
            unhappy = t - happening.arrived > surveys.unhappy_wait_s
            survey = survey_body(rng, surveys, body, "chat_id", "chat", unhappy)
            later.add(ended + surveys.delay.sample(rng), "survey.response", survey)
    yield from later.before(schedule.until)


def _contacts(
    rng: Random,
    schedule: Schedule,
    servers: Sequence[int],
    per_hour_peak: float,
    *,
    service: Dist,
    patience: Dist,
    queues: Weighted,
    base: Body,
    id_field: str,
    id_prefix: str,
) -> Iterator[tuple[Happening, Body]]:
    """The queue's happenings, each with the body (contract, queue, id) of its contact."""
    rates = schedule.rates(per_hour_peak, open_only=True)
    happenings = run_queue(
        arrivals(rng, rates, schedule.start, schedule.until),
        schedule.staffing(servers),
        service=lambda: service.sample(rng),
        patience=lambda: patience.sample(rng),
        until=schedule.until,
    )
    choice = Choice(queues)
    bodies: dict[int, Body] = {}
    for happening in happenings:
        if isinstance(happening, Offered):
            body = {**base, "queue": choice.pick(rng), id_field: f"{id_prefix}{happening.n}"}
            bodies[happening.n] = body
        else:
            body = bodies.pop(happening.n)
        yield happening, body


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

"""``simulate``: merge every contract's traffic sources into one time-ordered event stream.

Each source (calls, chats, tickets, service status per contract) has its own
``random.Random`` seeded from ``(seed, contract, source)``, so the output depends
only on the arguments. Ids carry a run tag derived from seed, start and contracts,
so two runs with different seeds or starts do not collide in one topic.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import Any, Final

from monitor.domain.agreement import Agreement
from monitor.simulate.contacts import call_events, chat_events
from monitor.simulate.emission import Emission, millis
from monitor.simulate.outages import monitored_services, outage_events
from monitor.simulate.profile import TrafficProfile
from monitor.simulate.schedule import Schedule
from monitor.simulate.tickets import ticket_events


def simulate(
    agreements: Sequence[Agreement],
    *,
    start: datetime,
    duration: timedelta,
    seed: int = 0,
    profile: TrafficProfile = TrafficProfile(),  # noqa: B008 - frozen, so a safe default
) -> Iterator[dict[str, Any]]:
    """JSON-ready v1 events for ``[start, start + duration)``, in non-decreasing ``ts``."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    contract_ids = [agreement.contract_id for agreement in agreements]
    if len(set(contract_ids)) != len(contract_ids):
        raise ValueError(f"duplicate contract ids in {contract_ids}")
    begin = start.timestamp()
    until = begin + duration.total_seconds()
    run = run_tag(seed, begin, contract_ids)
    sources = [
        source
        for index, agreement in enumerate(agreements)
        for source in _contract_sources(agreement, profile, seed, begin, until, f"{run}-{index}")
    ]
    return _stamp(heapq.merge(*sources, key=itemgetter(0)), run)


def write_jsonl(events: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one compact JSON object per line; return how many were written."""
    encode = json.JSONEncoder(separators=(",", ":")).encode
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(encode(event) + "\n")
            count += 1
    return count


def run_tag(seed: int, begin: float, contract_ids: Sequence[str]) -> str:
    key = f"{seed}|{millis(begin)}|{'|'.join(contract_ids)}"
    return hashlib.blake2b(key.encode(), digest_size=4).hexdigest()


def _contract_sources(
    agreement: Agreement,
    profile: TrafficProfile,
    seed: int,
    begin: float,
    until: float,
    ids: str,
) -> list[Iterator[Emission]]:
    cid = agreement.contract_id
    schedule = Schedule(agreement, profile, begin, until)

    def rng(source: str) -> Random:
        return Random(f"{seed}/{cid}/{source}")

    surveys = profile.surveys
    return [
        call_events(
            rng("calls"), schedule, profile.calls, surveys, contract_id=cid, id_prefix=f"C-{ids}-"
        ),
        chat_events(
            rng("chats"), schedule, profile.chats, surveys, contract_id=cid, id_prefix=f"H-{ids}-"
        ),
        ticket_events(
            rng("tickets"),
            schedule,
            profile.tickets,
            surveys,
            contract_id=cid,
            id_prefix=f"T-{ids}-",
        ),
        outage_events(
            rng("outages"),
            profile.outages,
            monitored_services(agreement),
            contract_id=cid,
            start=begin,
            until=until,
        ),
    ]


_SECONDS: Final = tuple(f"{second:02d}" for second in range(60))
_MILLIS: Final = tuple(f".{milli:03d}Z" for milli in range(1000))


def _stamp(emissions: Iterable[Emission], run: str) -> Iterator[dict[str, Any]]:
    """Give each emission its event id and RFC 3339 timestamp (UTC, milliseconds)."""
    current_minute = None
    prefix = ""
    for count, (t, kind, body) in enumerate(emissions):
        second, milli = divmod(millis(t), 1000)
        minute, second = divmod(second, 60)
        if minute != current_minute:
            current_minute = minute
            prefix = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
        yield {
            "event_id": f"{run}-{count}",
            "type": kind,
            "ts": prefix + _SECONDS[second] + _MILLIS[milli],
            **body,
        }

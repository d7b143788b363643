"""``produce_file``: routing table (pure) and a real publish + read-back on the broker."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.settings import Settings, Topics
from monitor.stream.produce import (
    HEADER_REASON,
    HEADER_SOURCE,
    Routed,
    produce_file,
    route_line,
)

RecordReader = Callable[..., Awaitable[list[Any]]]

TOPICS = Topics()


def event(type_: str, contract: str = "acme", **extra: Any) -> bytes:
    body = {
        "event_id": f"{type_}-{contract}-{len(extra)}",
        "type": type_,
        "ts": "2026-11-20T09:00:00Z",
        "contract_id": contract,
        **extra,
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (event("call.offered", call_id="c1"), Routed("slamon.calls", b"acme")),
        (event("chat.started", "zeta", chat_id="x"), Routed("slamon.chats", b"zeta")),
        (
            event("ticket.created", "\u5317\u4eac"),
            Routed("slamon.tickets", "\u5317\u4eac".encode()),
        ),
        (event("survey.response", score=5), Routed("slamon.surveys", b"acme")),
        (event("service.status", service="core"), Routed("slamon.services", b"acme")),
        (event("ticket.not_a_real_type"), Routed("slamon.tickets", b"acme")),
    ],
)
def test_lines_are_routed_by_type_family_and_keyed_by_contract(
    line: bytes, expected: Routed
) -> None:
    assert route_line(line, TOPICS) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe{}", "invalid_encoding"),
        (b"[1, 2]", "not_object"),
        (b'"call.offered"', "not_object"),
        (b'{"contract_id": "acme"}', "missing_field"),
        (b'{"type": "call.offered"}', "missing_field"),
        (b'{"type": "call.offered", "contract_id": 7}', "wrong_type"),
        (b'{"type": "call.offered", "contract_id": ""}', "wrong_type"),
        (b'{"type": null, "contract_id": "acme"}', "wrong_type"),
        (b'{"type": "email.sent", "contract_id": "acme"}', "unknown_type"),
        (b'{"type": "call", "contract_id": "acme"}', "unknown_type"),
    ],
)
def test_unroutable_lines_go_to_the_deadletter_topic_with_a_reason(
    line: bytes, reason: str
) -> None:
    routed = route_line(line, TOPICS)
    assert (routed.topic, routed.key, routed.reason) == ("slamon.deadletter", None, reason)
    assert routed.error


GOOD = [
    event("call.offered", "acme", call_id="c1"),
    event("call.answered", "acme", call_id="c1", wait_s=12),
    event("chat.started", "zeta", chat_id="h1"),
    event("ticket.created", "acme", ticket_id="T-1", channel="email"),
    event("ticket.agent_reply", "zeta", ticket_id="T-2"),
    event("survey.response", "acme", score=4),
    event("service.status", "zeta", service="core", status="down"),
]
BAD = [
    b"{not json",
    b"[1]",
    b'{"type": "call.offered"}',
    b'{"type": "fax.sent", "contract_id": "a"}',
]


@pytest.mark.integration
@pytest.mark.timeout(60)
@pytest.mark.parametrize("progress", [False, True], ids=["quiet", "progress-bar"])
def test_a_file_lands_on_the_right_topics_with_the_right_keys(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path, progress: bool
) -> None:
    lines = [*GOOD[:3], b"", *BAD[:2], *GOOD[3:], b"   ", *BAD[2:]]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    topics = kafka_settings.topics

    async def produce_and_read() -> tuple[Any, list[Any]]:
        stats = await produce_file(path, kafka_settings, progress=progress)
        records = await read_records([*topics.inputs(), topics.deadletter], len(GOOD) + len(BAD))
        return stats, records

    stats, records = asyncio.run(produce_and_read())

    assert (stats.lines, stats.blank) == (len(lines), 2)
    assert (stats.produced, stats.deadlettered) == (len(GOOD), len(BAD))
    assert stats.by_topic == {
        topics.calls: 2,
        topics.chats: 1,
        topics.tickets: 2,
        topics.surveys: 1,
        topics.services: 1,
        topics.deadletter: 4,
    }
    assert Counter(r.topic for r in records) == stats.by_topic

    good = [r for r in records if r.topic != topics.deadletter]
    assert sorted(r.value for r in good) == sorted(GOOD)
    for record in good:
        body = json.loads(record.value)
        assert record.key == body["contract_id"].encode()
        assert getattr(topics, f"{body['type'].split('.')[0]}s") == record.topic

    dead = sorted(
        (r for r in records if r.topic == topics.deadletter), key=lambda r: BAD.index(r.value)
    )
    assert [r.value for r in dead] == BAD
    reasons = [dict(r.headers)[HEADER_REASON].decode() for r in dead]
    assert reasons == ["invalid_json", "not_object", "missing_field", "unknown_type"]
    sources = [dict(r.headers)[HEADER_SOURCE].decode() for r in dead]
    assert sources == [f"{path}:{n}" for n in (5, 6, 12, 13)]


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_calls_of_one_contract_share_a_partition(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path
) -> None:
    lines = [event("call.offered", f"c{i % 3}", call_id=str(i)) for i in range(60)]
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(lines))

    async def produce_and_read() -> list[Any]:
        await produce_file(path, kafka_settings, progress=False)
        return await read_records([kafka_settings.topics.calls], len(lines))

    records = asyncio.run(produce_and_read())
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key, set()).add(record.partition)
    assert set(partitions) == {b"c0", b"c1", b"c2"}
    assert all(len(p) == 1 for p in partitions.values())

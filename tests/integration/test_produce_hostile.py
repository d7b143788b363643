"""``slamon produce`` on hostile files: a huge line is dead-lettered as ``too_large``
without being read whole, and a byte order mark does not cost the first event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.domain.events import MAX_EVENT_BYTES
from monitor.replay import UTF8_BOM
from monitor.settings import Settings
from monitor.stream.produce import HEADER_ERROR, HEADER_REASON, HEADER_SOURCE, produce_file

RecordReader = Callable[..., Awaitable[list[Any]]]


def offered(call_id: str) -> bytes:
    body = {
        "event_id": call_id,
        "type": "call.offered",
        "ts": "2026-11-20T10:00:00Z",
        "contract_id": "acme",
        "call_id": call_id,
    }
    return json.dumps(body).encode()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_huge_line_is_dead_lettered_as_too_large_and_the_first_event_survives_a_bom(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path
) -> None:
    huge = b'{"type": "call.offered", "contract_id": "acme", "pad": "' + b"x" * 3_000_000 + b'"}'
    path = tmp_path / "events.jsonl"
    path.write_bytes(UTF8_BOM + b"\n".join([offered("c1"), huge, offered("c2")]) + b"\n")
    topics = kafka_settings.topics

    async def produce_and_read() -> tuple[Any, list[Any]]:
        stats = await produce_file(path, kafka_settings, progress=False)
        records = await read_records([topics.calls, topics.deadletter], 3)
        return stats, records

    stats, records = asyncio.run(produce_and_read())

    assert (stats.lines, stats.produced, stats.deadlettered) == (3, 2, 1)
    assert stats.bytes == path.stat().st_size
    calls = sorted(r.value for r in records if r.topic == topics.calls)
    assert calls == [offered("c1"), offered("c2")]
    (dead,) = [r for r in records if r.topic == topics.deadletter]
    headers = dict(dead.headers)
    assert headers[HEADER_REASON] == b"too_large"
    assert headers[HEADER_SOURCE] == f"{path}:2".encode()
    assert headers[HEADER_ERROR] == f"event is {len(huge)} bytes, the limit is 65536".encode()
    assert dead.value == huge[: MAX_EVENT_BYTES + 1]

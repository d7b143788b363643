"""10,000 malformed or hostile messages among valid traffic: the worker shrugs them off.

Every bad message lands in the dead-letter topic with its original bytes, a
reason and its source topic/partition/offset; duplicates of valid events are
ignored; the alerts are exactly those of a replay of the valid events alone.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from monitor.replay import replay
from monitor.settings import Settings
from monitor.stream.processor import (
    HEADER_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
)
from tests.integration.test_worker_replay import LATENESS_S, RULES, rules, simulated_day
from tests.worker_harness import (
    WorkerProcess,
    alert_key,
    assert_repeats_identical,
    event_records,
    expected_keys,
    produce,
    read_alerts,
    read_topic,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BAD_COUNT = 10_000


def hostile(valid: list[bytes], count: int, seed: int = 7) -> list[tuple[bytes, str]]:
    """(value, expected reason) pairs of every kind of bad input."""
    rng = random.Random(seed)
    sample = [json.loads(line) for line in valid[:200]]
    makers = [
        lambda: (b"{not json " + str(rng.random()).encode(), "invalid_json"),
        lambda: (bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64))) + b"\xff", None),
        lambda: (b"[1, 2, 3]", "not_object"),
        lambda: (b'"just a string"', "not_object"),
        lambda: (json.dumps({**rng.choice(sample), "type": "fax.sent"}).encode(), "unknown_type"),
        lambda: (json.dumps({**rng.choice(sample), "ts": 12345}).encode(), "wrong_type"),
        lambda: (json.dumps({**rng.choice(sample), "event_id": ["x"]}).encode(), "wrong_type"),
        lambda: (
            json.dumps({k: v for k, v in rng.choice(sample).items() if k != "ts"}).encode(),
            "missing_field",
        ),
        lambda: (json.dumps({**rng.choice(sample), "ts": "yesterday"}).encode(), None),
        lambda: (
            json.dumps(
                {
                    **rng.choice(sample),
                    "contract_id": f"nobody-{rng.randint(0, 9)}",
                    "event_id": f"u{rng.random()}",
                }
            ).encode(),
            "unknown_contract",
        ),
        lambda: (
            json.dumps({**rng.choice(sample), "event_id": "e" * 5000}).encode(),
            "invalid_value",
        ),
        lambda: (b'{"pad": "' + b"x" * 70_000 + b'"}', "too_large"),
        lambda: (b"", "invalid_json"),
    ]
    out = []
    for i in range(count):
        maker = makers[i % len(makers)] if i % 500 else makers[11]  # a few huge ones
        out.append(maker())
    return out


@pytest.mark.timeout(240)
def test_hostile_input_is_dead_lettered_and_changes_nothing(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    lines, until = simulated_day(hours=4)
    expected = replay(lines, rules(), lateness=LATENESS_S, until=until).alerts
    topics = kafka_settings.topics
    valid = event_records(kafka_settings, lines)
    bad = hostile(lines, BAD_COUNT)
    rng = random.Random(11)
    inputs = list(topics.inputs())
    records: list[tuple[str, bytes | None, bytes]] = []
    bad_iter = iter(bad)
    per_valid = BAD_COUNT / len(valid)
    owed = 0.0
    for number, record in enumerate(valid):
        records.append(record)
        if number % 10 == 0:
            records.append(record)  # an exact duplicate: ignored by event_id
        owed += per_valid
        while owed >= 1:
            owed -= 1
            value, _reason = next(bad_iter)
            key = rng.choice([None, b"", b"\x00\xff", record[1], b"k" * 1000])
            records.append((rng.choice(inputs), key, value))
    for value, _reason in bad_iter:
        records.append((rng.choice(inputs), None, value))
    produce(kafka_settings, records)

    env = worker_env(kafka_settings, RULES, follow_wall_clock="false")
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        alerts = read_alerts(kafka_settings, expected_keys(expected), timeout_s=150)
        dead = read_topic(kafka_settings, topics.deadletter, lambda r: len(r) >= BAD_COUNT, 60, 1)
        invalid = sum(
            worker.metric("slamon_events_invalid_total", reason=reason) or 0
            for reason in {r for _v, r in bad if r} | {"invalid_encoding", "invalid_value"}
        )
        duplicates = sum(
            worker.metric("slamon_events_duplicate_total", contract=c) or 0
            for c in ("cta-apc-nj", "cn-branch-support-2024", "call-center-services-sample")
        )
        assert worker.running
        assert worker.terminate() == 0

    assert {alert_key(a) for a in alerts} == expected_keys(expected)
    assert_repeats_identical(alerts)
    assert duplicates == len(range(0, len(valid), 10))

    assert len(dead) == BAD_COUNT
    assert invalid == BAD_COUNT
    got = Counter()
    for record in dead:
        headers = dict(record.headers)
        assert headers[HEADER_SOURCE_TOPIC].decode() in inputs
        assert int(headers[HEADER_SOURCE_PARTITION]) in range(kafka_settings.partitions)
        assert int(headers[HEADER_SOURCE_OFFSET]) >= 0
        got[headers[HEADER_REASON].decode()] += 1
    for _value, reason in bad:
        if reason is not None:
            assert got[reason] > 0
    sent = Counter(value[:1000] for value, _r in bad)
    received = Counter(record.value[:1000] for record in dead)
    assert received == sent

"""bench.live's pure parts: the py-spy breakdown, the probe latency attribution, the
per-partition agreement copies and the scaling medians."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.live import (
    PROBE_DEADLINE_S,
    RULES,
    WATCHED,
    Record,
    Scaling,
    Sending,
    copy_partition,
    copy_rules,
    encode,
    metrics_url,
    percentile,
    preload_records,
    probe_latencies,
    send_paced,
)
from bench.live_profile import summarize_raw
from monitor.rulespec.loader import load_rules
from monitor.settings import Topics

ROOT = "run (asyncio/runners.py:118)"
HANDLE = "handle (monitor/stream/processor.py:90)"
RAW = "\n".join(
    [
        f"{ROOT};select (selectors.py:468) 40",
        f"{ROOT};{HANDLE};apply (monitor/domain/engine.py:70) 30",
        f"{ROOT};{HANDLE};parse_event (monitor/domain/events.py:200);"
        "validate_json (pydantic/type_adapter.py:466) 10",
        f"{ROOT};_c_aiter (faust/streams.py:1180) 15",
        f"{ROOT};create_task (asyncio/base_events.py:436) 5",
    ]
)


def test_idle_waits_are_left_out_and_library_time_goes_to_its_caller() -> None:
    summary = summarize_raw(RAW)

    assert summary.samples == 100
    assert summary.idle_share == pytest.approx(0.4)
    assert summary.by_component == pytest.approx(
        {
            "engine (monitor/domain)": 0.5,
            "faust + mode": 0.25,
            "event parsing (monitor/domain/events.py)": 10 / 60,
            "asyncio event loop": 5 / 60,
        }
    )
    assert summary.inclusive["worker adapter (monitor/stream, metrics)"] == pytest.approx(40 / 60)
    assert summary.inclusive["asyncio event loop"] == pytest.approx(1.0)


def test_a_probe_latency_starts_at_the_event_that_moves_its_partition_past_the_deadline() -> None:
    due = 1000 + PROBE_DEADLINE_S + 60
    sent = [
        Sending("probe-a", 0, 1000.0, 10.0),
        Sending(None, 0, due - 1, 10.1),  # same partition, not far enough
        Sending(None, 1, due + 5, 10.2),  # other partition: does not move the probe's watermark
        Sending(None, 0, due + 1, 10.3),  # the trigger
        Sending(None, 0, due + 9, 10.4),
        Sending("probe-b", 0, 2000.0, 10.5),  # never breached: no sample
    ]

    samples = probe_latencies(sent, {"probe-a": 10.55})

    assert samples == [pytest.approx(250.0)]


class _Batch:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    def append(self, *, key: bytes, value: bytes, timestamp: None) -> object | None:
        if len(self.values) == 3:
            return None  # full
        self.values.append(value)
        return object()


class _BatchingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, list[bytes]]] = []

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(
        self, batch: _Batch, topic: str, *, partition: int
    ) -> asyncio.Future[None]:
        self.sent.append((topic, partition, batch.values))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_paced_sending_sends_every_record_once_in_order_batched_per_partition() -> None:
    plan = [
        (Record("chats", n % 2, b"k", str(n).encode()), "probe" if n == 3 else None, float(n))
        for n in range(40)
    ]
    producer = _BatchingProducer()

    sent, seconds = asyncio.run(send_paced(producer, plan, rate=2000.0))  # type: ignore[arg-type]

    assert [s.ts for s in sent] == [float(n) for n in range(40)]
    assert [s.probe for s in sent].count("probe") == 1
    for partition in (0, 1):
        values = [v for _, p, batch in producer.sent if p == partition for v in batch]
        assert values == [str(n).encode() for n in range(partition, 40, 2)]
    assert len(producer.sent) < 40  # records that came due together share a batch
    assert seconds >= 39 / 2000.0


def test_percentiles_of_few_samples() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([float(n) for n in range(1, 102)], 50) == pytest.approx(51.0)


def test_every_partition_gets_a_copy_of_every_agreement(tmp_path: Path) -> None:
    originals, _ = load_rules([RULES])
    copies, problems = load_rules([copy_rules(RULES, tmp_path, 3)])
    assert not problems
    ids = sorted(a.contract_id for a in copies)
    assert ids == sorted(f"{a.contract_id}-p{n}" for a in originals for n in range(3))
    assert Counter(copy_partition(i) for i in ids) == {n: len(originals) for n in range(3)}


def test_a_copy_s_events_go_to_its_partition_whatever_their_key() -> None:
    topics = Topics()
    event = {"event_id": "e1", "type": "chat.started", "ts": "2026-11-02T00:00:00Z"}
    records = encode(iter([event | {"contract_id": "acme-p5"}]), topics)
    assert [(r.topic, r.partition, r.key) for r in records] == [(topics.chats, 5, b"acme-p5")]
    with pytest.raises(ValueError, match="not a per-partition copy"):
        copy_partition("acme")


def test_preloaded_events_spread_evenly_over_the_partitions(tmp_path: Path) -> None:
    copies, _ = load_rules([copy_rules(RULES, tmp_path, 4)])
    records = preload_records(copies, 8_000, Topics())
    per_partition = Counter(record.partition for record in records)
    assert set(per_partition) == {0, 1, 2, 3}
    assert max(per_partition.values()) < 1.2 * min(per_partition.values())


def test_polls_ask_the_worker_for_the_watched_samples_only() -> None:
    url = urlsplit(metrics_url(9108))
    assert (url.netloc, url.path) == ("127.0.0.1:9108", "/metrics")
    assert parse_qs(url.query) == {"name[]": list(WATCHED)}


def test_scaling_compares_the_medians_of_alternated_rounds() -> None:
    scaling = Scaling([100.0, 50.0, 110.0], [150.0, 160.0, 20.0], [1.0] * 3, [[1.0, 1.0]] * 3)
    assert scaling.vs_one_worker == pytest.approx(150.0 / 100.0)

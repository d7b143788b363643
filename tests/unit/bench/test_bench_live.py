"""bench.live's pure parts: the py-spy breakdown and the probe latency attribution."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.live import PROBE_DEADLINE_S, percentile, probe_latencies
from bench.live_profile import summarize_raw

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
    sent = [  # (probe, event time, sent at, future)
        ("probe-a", 1000.0, 10.0, None),
        (None, due - 1, 10.1, None),  # same partition, not far enough
        (None, due + 5, 10.2, None),  # other partition: does not move the probe's watermark
        (None, due + 1, 10.3, None),  # the trigger
        (None, due + 9, 10.4, None),
        ("probe-b", 2000.0, 10.5, None),  # never breached: no sample
    ]
    partitions = [0, 0, 1, 0, 0, 0]
    metadata = [SimpleNamespace(topic="chats", partition=p) for p in partitions]

    samples = probe_latencies(sent, metadata, {"probe-a": 10.55})

    assert samples == [pytest.approx(250.0)]


def test_percentiles_of_few_samples() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([float(n) for n in range(1, 102)], 50) == pytest.approx(51.0)

"""Crashes: a worker killed with SIGKILL mid-stream loses nothing (docs/design.md).

State (engine snapshot + source offsets) is restored from the checkpoint
changelog and every source resumes from the checkpoint's own offsets, so the
alerts in the end equal ``slamon replay`` of the same events; alerts of the
re-applied range may repeat, but only identical ones.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor.replay import replay
from monitor.settings import Settings
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


def wait_for_alerts(settings: Settings, count: int) -> None:
    records = read_topic(settings, settings.topics.alerts, lambda r: len(r) >= count, 60)
    assert len(records) >= count


def assert_equals_replay(alerts: list[dict[str, object]], expected: list[object]) -> None:
    assert {alert_key(a) for a in alerts} == expected_keys(expected)  # type: ignore[arg-type]
    assert_repeats_identical(alerts)
    assert {a["alert_id"]: a for a in alerts} == {e.alert_id: e.to_json() for e in expected}  # type: ignore[attr-defined]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    "kill_at",
    [
        "first_alerts",  # before the first checkpoint by time
        "second_half_produced",  # after a checkpoint, with records in flight
        "all_alerts_out",  # after everything was processed and published
    ],
)
def test_a_worker_killed_mid_stream_resumes_from_its_own_state(
    kafka_settings: Settings, tmp_path: Path, kill_at: str
) -> None:
    lines, until = simulated_day()
    expected = replay(lines, rules(), lateness=LATENESS_S, until=until).alerts
    records = event_records(kafka_settings, lines)
    half = len(records) // 2
    produce(kafka_settings, records[:half])
    env = worker_env(kafka_settings, RULES, follow_wall_clock="false")

    with WorkerProcess(env, tmp_path / "first.log") as first:
        first.wait_ready()
        wait_for_alerts(kafka_settings, 10)
        if kill_at == "first_alerts":
            first.kill()
            produce(kafka_settings, records[half:])
        else:
            time.sleep(1.5)  # past a checkpoint (every second or 500 events)
            produce(kafka_settings, records[half:])
            if kill_at == "all_alerts_out":
                read_alerts(kafka_settings, expected_keys(expected), timeout_s=60, settle_s=0)
            first.kill()

    with WorkerProcess(env, tmp_path / "second.log") as second:
        second.wait_ready()
        alerts = read_alerts(kafka_settings, expected_keys(expected), timeout_s=90)
        resumed = second.log_events("partitions_resumed")[-1]
        assert second.terminate() == 0, second.log_tail()

    if kill_at != "first_alerts":
        assert resumed["from_checkpoint"], "the restarted worker did not resume from saved state"
    assert_equals_replay(alerts, expected)


@pytest.mark.timeout(240)
def test_when_one_of_two_workers_dies_the_other_takes_over_with_its_state(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    lines, until = simulated_day()
    expected = replay(lines, rules(), lateness=LATENESS_S, until=until).alerts
    records = event_records(kafka_settings, lines)
    half = len(records) // 2
    produce(kafka_settings, records[:half])
    env = worker_env(kafka_settings, RULES, follow_wall_clock="false")

    with (
        WorkerProcess(env, tmp_path / "a.log") as a,
        WorkerProcess(env, tmp_path / "b.log") as b,
    ):
        deadline = time.monotonic() + 60
        while not (
            a.partitions()
            and b.partitions()
            and a.partitions() | b.partitions() == {0, 1, 2, 3}
            and not a.partitions() & b.partitions()
        ):
            assert time.monotonic() < deadline, a.log_tail() + b.log_tail()
            time.sleep(0.2)
        a.wait_ready()
        b.wait_ready()
        wait_for_alerts(kafka_settings, 10)
        time.sleep(1.5)
        # the contracts of the test day live on partitions 0 and 1: kill the owner of 1
        victim, survivor = (a, b) if 1 in a.partitions() else (b, a)
        taken_over = victim.partitions()
        produce(kafka_settings, records[half:])
        victim.kill()
        alerts = read_alerts(kafka_settings, expected_keys(expected), timeout_s=120)
        assert survivor.running
        assert survivor.partitions() == {0, 1, 2, 3}
        resumed = survivor.log_events("partitions_resumed")[-1]
        assert survivor.terminate() == 0, survivor.log_tail()

    assert 1 in taken_over
    assert 1 in resumed["from_checkpoint"], "partition 1 was not taken over with its state"
    assert_equals_replay(alerts, expected)

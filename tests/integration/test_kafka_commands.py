"""`slamon produce` and `slamon simulate --kafka` on the real embedded broker."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.simulate import simulate, write_jsonl
from monitor.stream.simulate_live import publish_live

RecordReader = Callable[..., Awaitable[list[Any]]]
RULES = Path(__file__).resolve().parents[2] / "rules"
START = datetime(2026, 11, 23, 8, tzinfo=UTC)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _env(settings: Settings) -> dict[str, str]:
    env = {"SLAMON_KAFKA_BROKERS": settings.bootstrap_servers}
    for name, topic in settings.topics.model_dump().items():
        env[f"SLAMON_TOPICS__{name.upper()}"] = topic
    return env


def _family_topic(settings: Settings, event: dict[str, Any]) -> str:
    family = event["type"].split(".")[0]
    topic: str = getattr(settings.topics, f"{family}s")
    return topic


def _one_hour() -> list[dict[str, Any]]:
    agreements, problems = load_rules([RULES])
    assert not problems
    return list(simulate(agreements, start=START, duration=timedelta(hours=1), seed=3))


def test_produce_publishes_a_file_keyed_by_contract(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path
) -> None:
    events = _one_hour()[:300]
    path = tmp_path / "events.jsonl"
    write_jsonl(events, path)

    result = CliRunner().invoke(app, ["produce", str(path)], env=_env(kafka_settings))

    assert result.exit_code == 0, result.output
    assert f"produced {len(events)} events" in result.output
    records = asyncio.run(read_records(list(kafka_settings.topics.inputs()), len(events)))
    assert len(records) == len(events)
    by_id = {json.loads(r.value)["event_id"]: r for r in records}
    for event in events:
        record = by_id[event["event_id"]]
        assert record.key == event["contract_id"].encode()
        assert record.topic == _family_topic(kafka_settings, event)


@pytest.mark.parametrize("command", ["produce", "simulate"])
def test_publishing_without_brokers_says_how_to_configure_them(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLAMON_KAFKA_BROKERS", raising=False)
    monkeypatch.delenv("SLAMON_CONFIG", raising=False)
    path = tmp_path / "events.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    args = ["produce", str(path)] if command == "produce" else ["simulate", "--kafka"]
    args += [] if command == "produce" else ["--rules", str(RULES)]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "SLAMON_KAFKA_BROKERS" in result.stderr


def test_simulate_kafka_publishes_the_same_traffic_as_the_file_simulator(
    kafka_settings: Settings, read_records: RecordReader
) -> None:
    expected = _one_hour()
    args = ["simulate", "--kafka", "--rules", str(RULES), "--start", START.isoformat()]
    args += ["--hours", "1", "--seed", "3", "--speed", "0"]

    result = CliRunner().invoke(app, args, env=_env(kafka_settings))

    assert result.exit_code == 0, result.output
    assert f"sent {len(expected)} events" in result.output
    assert "end of the simulated span" in result.output
    records = asyncio.run(read_records(list(kafka_settings.topics.inputs()), len(expected)))
    assert sorted(json.loads(r.value)["event_id"] for r in records) == sorted(
        e["event_id"] for e in expected
    )
    assert Counter(r.topic for r in records) == Counter(
        _family_topic(kafka_settings, e) for e in expected
    )
    assert all(r.key == json.loads(r.value)["contract_id"].encode() for r in records)


def test_a_live_run_stops_at_its_wall_limit_before_the_span_ends(
    kafka_settings: Settings,
) -> None:
    events = _one_hour()
    last = datetime.fromisoformat(events[-1]["ts"].replace("Z", "+00:00")).timestamp()

    stats = asyncio.run(
        publish_live(events, kafka_settings, start=START.timestamp(), speed=60.0, max_wall_s=1.0)
    )

    assert not stats.finished
    assert 0 < stats.sent < len(events)
    assert stats.sim_time is not None
    assert stats.sim_time < last


def test_a_live_run_stops_when_asked(kafka_settings: Settings) -> None:
    events = _one_hour()

    async def run() -> Any:
        stop = asyncio.Event()
        sent: list[int] = []

        def on_sent(stats: Any) -> None:
            sent.append(stats.sent)
            if stats.sent == 10:
                stop.set()

        stats = await publish_live(
            events, kafka_settings, start=START.timestamp(), speed=0, stop=stop, on_sent=on_sent
        )
        return stats, sent

    stats, sent = asyncio.run(run())

    assert (stats.sent, stats.finished) == (10, False)
    assert sent == list(range(1, 11))


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "args",
    [
        ["produce", "{events}"],
        ["simulate", "--kafka", "--rules", str(RULES), "--hours", "1", "--speed", "0"],
        ["report", "--kafka", "--rules", str(RULES), "--period", "2026-11", "--out", "{out}"],
    ],
    ids=["produce", "simulate", "report"],
)
def test_an_unreachable_broker_is_one_line_and_exit_1(args: list[str], tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    write_jsonl(_one_hour()[:10], events)
    broker = f"127.0.0.1:{_closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAMON_")}
    env["SLAMON_KAFKA_BROKERS"] = broker
    argv = [a.format(events=events, out=tmp_path / "report") for a in args]

    done = subprocess.run(
        [sys.executable, "-m", "monitor", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"slamon: error: cannot reach the Kafka brokers at {broker}: check that they are up "
        "and that SLAMON_KAFKA_BROKERS names them\n"
    )
    assert "Traceback" not in done.stdout


def test_produce_exits_1_naming_the_reasons_of_dead_lettered_lines(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path
) -> None:
    good = _one_hour()[:3]
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(e) for e in good] + ["{not json", '{"type": "call.offered"}', "[]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()

    strict = runner.invoke(app, ["produce", str(path)], env=_env(kafka_settings))
    lenient = runner.invoke(
        app, ["produce", str(path), "--allow-invalid"], env=_env(kafka_settings)
    )

    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[-1] == (
        f"slamon: error: 3 line(s) of {path} were invalid (invalid_json: 1, missing_field: 1, "
        "not_object: 1) and went to the dead-letter topic; fix them and produce those lines "
        "again, or pass --allow-invalid"
    )
    assert lenient.exit_code == 0, lenient.stderr
    dead = asyncio.run(read_records([kafka_settings.topics.deadletter], 6))
    assert len(dead) == 6  # both runs: nothing is lost

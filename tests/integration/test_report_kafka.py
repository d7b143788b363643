"""`slamon report` from the topics of a deployment equals the report from the file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from monitor.replay import read_lines
from monitor.reporting.period import month_period
from monitor.reporting.run import build_reports
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.simulate import simulate, write_jsonl
from monitor.stream.kafka_source import read_events
from monitor.stream.produce import produce_file

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OLD = datetime(2026, 7, 1, tzinfo=UTC)


async def _publish_noise(settings: Settings) -> int:
    """October calls that would count, but published with July timestamps: before the lookback."""
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs())
    await producer.start()
    try:
        for n in range(5):
            for type_, minute in (("call.offered", 0), ("call.answered", 5)):
                body = {
                    "event_id": f"noise-{type_}-{n}",
                    "type": type_,
                    "ts": f"2026-10-14T15:{minute:02d}:00Z",
                    "contract_id": "cta-apc-nj",
                    "call_id": f"noise-{n}",
                }
                await producer.send_and_wait(
                    settings.topics.calls,
                    json.dumps(body).encode(),
                    key=b"cta-apc-nj",
                    timestamp_ms=int(OLD.timestamp() * 1000),
                )
    finally:
        await producer.stop()
    return 10


def test_a_report_from_the_topics_reads_from_offsets_by_time_and_equals_the_file_report(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    agreements, problems = load_rules([ROOT / "rules" / "cta-apc-nj.yaml"])
    assert not problems
    events = tmp_path / "events.jsonl"
    begin = datetime(2026, 10, 13, 12, tzinfo=UTC)
    count = write_jsonl(
        simulate(agreements, start=begin, duration=timedelta(hours=12), seed=3), events
    )
    asyncio.run(_publish_noise(kafka_settings))
    stats = asyncio.run(produce_file(events, kafka_settings, progress=False))
    assert stats.produced == count

    period = month_period("America/New_York", "2026-10")
    read = asyncio.run(
        read_events(
            kafka_settings,
            since=period.start - 31 * 86400,
            until=period.end + 86400,
            timeout_s=120,
        )
    )
    assert len(read.lines) == count, "the July-stamped records must be skipped by time"
    assert read.skipped_before in (0, 10)  # 10 on Tansu, whose lookup returns offset 0
    from_kafka = build_reports(read.lines, agreements, lambda a: period).documents()
    from_file = build_reports(read_lines(events), agreements, lambda a: period).documents()
    for document in (*from_kafka, *from_file):
        document.pop("source")
    assert from_kafka == from_file
    assert from_kafka[0]["objectives"]["phone-service-level"]["samples"] > 50

    cut = begin.timestamp() + 6 * 3600
    early = asyncio.run(read_events(kafka_settings, since=period.start, until=cut, timeout_s=120))
    assert early.skipped_after > 0
    assert 0 < len(early.lines) < count
    times = [json.loads(line)["ts"] for line in early.lines]
    assert times == sorted(times)
    assert max(datetime.fromisoformat(t).timestamp() for t in times) <= cut


def test_slamon_report_kafka_reads_the_brokers_from_settings(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    rules = ROOT / "rules" / "cta-apc-nj.yaml"
    agreements, _ = load_rules([rules])
    events = tmp_path / "events.jsonl"
    begin = datetime(2026, 10, 14, 13, tzinfo=UTC)
    write_jsonl(simulate(agreements, start=begin, duration=timedelta(hours=4), seed=9), events)
    asyncio.run(produce_file(events, kafka_settings, progress=False))
    env = {"SLAMON_KAFKA_BROKERS": kafka_settings.bootstrap_servers} | {
        f"SLAMON_TOPICS__{name.upper()}": getattr(kafka_settings.topics, name)
        for name in type(kafka_settings.topics).model_fields
    }
    runner = CliRunner()
    common = ["--rules", str(rules.parent), "--contract", "cta-apc-nj", "--period", "2026-10"]
    from_kafka = runner.invoke(
        app, ["report", "--kafka", *common, "--out", str(tmp_path / "k")], env=env
    )
    assert from_kafka.exit_code == 0, from_kafka.output
    from_file = runner.invoke(app, ["report", str(events), *common, "--out", str(tmp_path / "f")])
    assert from_file.exit_code == 0, from_file.output
    documents = [
        json.loads((tmp_path / d / "cta-apc-nj-2026-10.json").read_text("utf-8")) for d in "kf"
    ]
    assert documents[0]["source"]["kind"] == "kafka"
    assert documents[0]["source"]["brokers"] == kafka_settings.bootstrap_servers
    for document in documents:
        document.pop("source")
    assert documents[0] == documents[1]
    assert (tmp_path / "k" / "cta-apc-nj-2026-10.html").is_file()


def test_slamon_report_kafka_without_brokers_says_how_to_set_them() -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    result = CliRunner().invoke(
        app,
        ["report", "--kafka", "--contract", "cta-apc-nj", "--period", "2026-10"],
        env={"SLAMON_KAFKA_BROKERS": ""},
    )
    assert result.exit_code == 2
    assert "SLAMON_KAFKA_BROKERS" in result.output

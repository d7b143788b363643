"""Checkpoints per state key at scale: ``python -m bench.checkpoint [--items N]``.

One partition of the live path (a :class:`~monitor.stream.state.PartitionState`,
its engine tracking changed keys) is fed N ``ticket.created`` events for contract
``cta-apc-nj`` (email, high priority: two running clocks per ticket) within one
business hour, so all N stay open. Then, in a fresh child process:

* ``first_checkpoint``: records and bytes of the first checkpoint (every key) and
  the seconds to build them;
* ``checkpoint_after_1000_events``: 1,000 ``ticket.agent_reply`` events to 1,000 of
  the tickets, then the next checkpoint: its records, bytes and seconds;
* ``restore``: every record fed to a ``ChangelogReader`` (as a restart reads the
  changelog partition) and the engine rebuilt from them: the seconds to ready,
  excluding the broker's transfer of the bytes;
* ``rss_bytes_per_open_ticket``: growth of the resident set per open ticket while
  the N tickets were applied (``/proc/self/statm``);
* with ``--broker``, ``restart_to_ready``: both checkpoints are written to the
  changelog topic of an embedded broker, then the partition is read back with the
  worker's own ``read_changelog`` and its state rebuilt: the seconds a restarted
  worker spends before it can fetch events.

Results go to the terminal and ``bench/results/memory-checkpoint.json``;
docs/operations.md sizes workers from them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bench.memory import CONTRACT, ROOT, SPREAD_S, START, rss, ticket

RESULTS: Final = ROOT / "bench" / "results" / "memory-checkpoint.json"
TOUCHED: Final = 1000


def reply(i: int) -> str:
    ts = START + timedelta(seconds=SPREAD_S + 60)
    return json.dumps(
        {
            "event_id": f"bench-reply-{i}",
            "type": "ticket.agent_reply",
            "ts": ts.isoformat(),
            "contract_id": CONTRACT,
            "ticket_id": f"T-{i}",
            "public": True,
        }
    )


def _size(records: list[Any]) -> int:
    return sum(len(r.key) + len(r.value or b"") for r in records)


async def _write_and_read(bootstrap: str, records: list[Any]) -> tuple[Any, float, float]:
    from aiokafka import AIOKafkaProducer

    from monitor.settings import Settings
    from monitor.stream.checkpoints import changelog_topic, read_changelog, send_records

    settings = Settings(kafka_brokers=[bootstrap], app_id=f"bench-checkpoint-{os.getpid()}")
    topic = changelog_topic(settings)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        await send_records(producer, topic, 0, records)
        await producer.flush()
        write_s = time.perf_counter() - started
    finally:
        await producer.stop()
    started = time.perf_counter()
    readers = await read_changelog(settings, [0])
    return readers[0], write_s, time.perf_counter() - started


def through_broker(records: list[Any], agreements: list[Any]) -> dict[str, Any]:
    from monitor.settings import Settings
    from monitor.stream.checkpoints import changelog_topic
    from monitor.stream.embedded_broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        name = changelog_topic(Settings(app_id=f"bench-checkpoint-{os.getpid()}"))
        broker.create_topics([name], 1)
        reader, write_s, read_s = asyncio.run(_write_and_read(broker.bootstrap_servers, records))
    started = time.perf_counter()
    restored = reader.state(agreements, lateness=60.0)
    rebuild_s = time.perf_counter() - started
    assert restored is not None
    return {
        "records_written": len(records),
        "write_seconds": round(write_s, 1),
        "read_seconds": round(read_s, 1),
        "rebuild_seconds": round(rebuild_s, 1),
        "seconds": round(read_s + rebuild_s, 1),
    }


def measure(n: int, broker: bool = False) -> dict[str, Any]:
    from monitor.domain.events import EventError, parse_event
    from monitor.rulespec.loader import load_rules
    from monitor.stream.state import ChangelogReader, PartitionState

    agreements, problems = load_rules([ROOT / "rules"])
    assert not problems, problems
    agreements = [a for a in agreements if a.contract_id == CONTRACT]
    state = PartitionState.fresh(0, agreements, lateness=60.0)
    engine = state.engine
    gc.collect()
    before = rss()
    for i in range(n):
        event = parse_event(ticket(i, n))
        assert not isinstance(event, EventError), event
        engine.apply(event)
    engine.advance((START + timedelta(seconds=SPREAD_S + 120)).timestamp() - 60.0)
    gc.collect()
    grown = rss() - before
    state.source("slamon.tickets").next_offset = n

    started = time.perf_counter()
    first = state.checkpoint_records()
    first_s = time.perf_counter() - started

    for i in range(TOUCHED):
        event = parse_event(reply(i))
        assert not isinstance(event, EventError), event
        engine.apply(event)
    state.source("slamon.tickets").next_offset = n + TOUCHED
    started = time.perf_counter()
    second = state.checkpoint_records()
    second_s = time.perf_counter() - started

    started = time.perf_counter()
    reader = ChangelogReader(0)
    for record in [*first, *second]:
        reader.add(record.key, record.value, record.seq)
    restored = reader.state(agreements, lateness=60.0)
    restore_s = time.perf_counter() - started
    assert restored is not None
    assert len(restored.engine.contracts[CONTRACT].items) == n
    del restored, reader
    extra = {"restart_to_ready": through_broker([*first, *second], agreements)} if broker else {}
    return {
        "open_tickets": n,
        "rss_bytes_per_open_ticket": round(grown / n),
        "first_checkpoint": {
            "records": len(first),
            "bytes": _size(first),
            "seconds": round(first_s, 2),
        },
        "checkpoint_after_1000_events": {
            "records": len(second),
            "bytes": _size(second),
            "seconds": round(second_s, 3),
        },
        "restore": {"records_read": len(first) + len(second), "seconds": round(restore_s, 1)},
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--broker",
        action="store_true",
        help="also write the records to an embedded broker and time a restart from it",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.items[0], broker=args.broker)))
        return
    runs = []
    for n in args.items:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.checkpoint",
                "--child",
                "--items",
                str(n),
                *(["--broker"] if args.broker else []),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
        run = json.loads(out.stdout)
        runs.append(run)
        after = run["checkpoint_after_1000_events"]
        print(
            f"{n:>8} open tickets: checkpoint after {TOUCHED} events "
            f"{after['records']} records ({after['bytes']} B, {after['seconds']} s); "
            f"first checkpoint {run['first_checkpoint']['records']} records "
            f"({run['first_checkpoint']['seconds']} s); restore {run['restore']['seconds']} s; "
            f"RSS {run['rss_bytes_per_open_ticket']} B/open ticket"
        )
        if "restart_to_ready" in run:
            ready = run["restart_to_ready"]
            print(
                f"{'':>8} through the broker: restart to ready {ready['seconds']} s "
                f"(read {ready['read_seconds']} s, rebuild {ready['rebuild_seconds']} s)"
            )
    result = {
        "benchmark": "bench/checkpoint.py",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "item": "ticket.created, email, high priority: 2 running clocks per ticket",
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

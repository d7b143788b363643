"""Memory per open item: ``python -m bench.memory [--items N ...]``.

Feeds the engine N ``ticket.created`` events for contract ``cta-apc-nj`` (email,
high priority: each ticket runs two clocks, ``email-first-response`` and
``resolution-high``) within one business hour, so all N stay open, and measures
per open ticket:

* ``rss_bytes``: growth of the process's resident set (``/proc/self/statm``), what a
  container's memory limit sees, including allocator overhead;
* ``traced_bytes``: Python allocations still held (``tracemalloc``), a second,
  noise-free view;
* ``state_bytes``: size of the engine's JSON snapshot, what a checkpoint writes to
  the changelog topic.

With ``--whole-process`` it measures instead what ``slamon replay`` costs: a child
writes the N tickets to a file and replays it (``read_lines`` + ``replay``, event
dedup and parse batches included), and the growth of its resident set over the
same process before the replay, at the end and at its peak (``ru_maxrss``), is
divided by N. Those results go to ``bench/results/memory-replay.json``.

Each N runs in a fresh child process. The idle RSS of a process that imported the
worker (Python, Faust, aiokafka, the engine) is measured the same way. Results go to
the terminal and ``bench/results/memory.json``; docs/operations.md sizes workers
from them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS: Final = ROOT / "bench" / "results" / "memory.json"
REPLAY_RESULTS: Final = ROOT / "bench" / "results" / "memory-replay.json"
CONTRACT: Final = "cta-apc-nj"
START: Final = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # Monday 09:00 in New Jersey
SPREAD_S: Final = 50 * 60  # all tickets created within the first business hour
PAGE: Final = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE


def ticket(i: int, n: int) -> str:
    ts = START + timedelta(seconds=SPREAD_S * i / n)
    return json.dumps(
        {
            "event_id": f"bench-mem-{i}",
            "type": "ticket.created",
            "ts": ts.isoformat(),
            "contract_id": CONTRACT,
            "ticket_id": f"T-{i}",
            "channel": "email",
            "priority": "high",
            "category": "general",
            "queue": "billing",
        }
    )


def measure(n: int, traced: bool) -> dict[str, Any]:
    """One measurement in this process: open N tickets, return the growth per ticket."""
    from monitor.domain.engine import Engine
    from monitor.domain.events import EventError, parse_event
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules([ROOT / "rules"])
    assert not problems, problems
    raws = [ticket(i, n) for i in range(n)]
    engine = Engine([a for a in agreements if a.contract_id == CONTRACT])
    gc.collect()
    if traced:
        tracemalloc.start()
    before = rss()
    for raw in raws:  # parsed here: the Event objects the engine keeps count too
        event = parse_event(raw)
        assert not isinstance(event, EventError), event
        engine.apply(event)
    del event
    engine.advance((START + timedelta(seconds=SPREAD_S + 120)).timestamp())  # past lateness
    gc.collect()
    grown = rss() - before
    held = tracemalloc.get_traced_memory()[0] if traced else 0
    tracemalloc.stop()
    status = {s.objective_id: s for s in engine.objective_status() if s.contract_id == CONTRACT}
    clocks = sum(s.open_items for s in status.values())
    assert clocks == 2 * n, f"expected {2 * n} running clocks, got {clocks}"
    state = len(json.dumps(engine.snapshot(), separators=(",", ":")))
    return {
        "open_tickets": n,
        "running_clocks": clocks,
        "rss_bytes_per_ticket": round(grown / n),
        "traced_bytes_per_ticket": round(held / n) if traced else None,
        "state_bytes_per_ticket": round(state / n),
    }


def measure_replay(n: int) -> dict[str, Any]:
    """The whole replay process: growth of RSS at the end and at the peak, per ticket."""
    from monitor.domain.engine import Engine
    from monitor.replay import read_lines, replay
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules([ROOT / "rules"])
    assert not problems, problems
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tickets.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for i in range(n):
                handle.write(ticket(i, n) + "\n")
        engine = Engine([a for a in agreements if a.contract_id == CONTRACT])
        gc.collect()
        before = rss()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result = replay(read_lines(path), agreements, engine=engine)
        gc.collect()
        grown = rss() - before
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    status = {s.objective_id: s for s in engine.objective_status() if s.contract_id == CONTRACT}
    clocks = sum(s.open_items for s in status.values())
    assert clocks == 2 * n, f"expected {2 * n} running clocks, got {clocks}"
    assert not result.invalid, result.invalid[:3]
    return {
        "open_tickets": n,
        "running_clocks": clocks,
        "rss_bytes_per_ticket": round(grown / n),
        "peak_rss_bytes_per_ticket": round((peak - max(before, peak_before)) / n),
        "process_rss_bytes": rss(),
    }


def whole_process(items: list[int]) -> None:
    runs = []
    for n in items:
        run = child(["--child", "replay", "--items", str(n)])
        runs.append(run)
        print(
            f"{n:>8} open tickets ({run['running_clocks']} clocks), slamon replay: "
            f"RSS {run['rss_bytes_per_ticket']} B/ticket at the end, "
            f"{run['peak_rss_bytes_per_ticket']} B/ticket at the peak, "
            f"process {run['process_rss_bytes'] / 2**20:.0f} MiB"
        )
    result = {
        "benchmark": "bench/memory.py --whole-process",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "item": "ticket.created, email, high priority: 2 running clocks per ticket",
        "runs": runs,
    }
    REPLAY_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    REPLAY_RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {REPLAY_RESULTS.relative_to(ROOT)}")


def idle_worker_rss() -> int:
    """RSS of a process that imported everything a worker imports."""
    import monitor.stream.worker  # noqa: F401

    gc.collect()
    return rss()


def child(argv: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument(
        "--whole-process",
        action="store_true",
        help="measure a whole slamon replay process over a file of the tickets",
    )
    parser.add_argument(
        "--child", choices=["rss", "traced", "idle", "replay"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child == "idle":
        print(json.dumps({"idle_worker_rss_bytes": idle_worker_rss()}))
        return
    if args.child == "replay":
        print(json.dumps(measure_replay(args.items[0])))
        return
    if args.whole_process:
        whole_process(args.items)
        return
    if args.child:
        print(json.dumps(measure(args.items[0], traced=args.child == "traced")))
        return

    runs = []
    for n in args.items:
        plain = child(["--child", "rss", "--items", str(n)])
        plain["traced_bytes_per_ticket"] = child(["--child", "traced", "--items", str(n)])[
            "traced_bytes_per_ticket"
        ]
        runs.append(plain)
        print(
            f"{n:>8} open tickets ({plain['running_clocks']} clocks): "
            f"RSS {plain['rss_bytes_per_ticket']} B/ticket, "
            f"Python heap {plain['traced_bytes_per_ticket']} B/ticket, "
            f"state {plain['state_bytes_per_ticket']} B/ticket"
        )
    idle = child(["--child", "idle"])["idle_worker_rss_bytes"]
    print(f"idle worker process RSS: {idle / 2**20:.0f} MiB")
    largest = runs[-1]
    result = {
        "benchmark": "bench/memory.py",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "item": "ticket.created, email, high priority: 2 running clocks per ticket",
        "runs": runs,
        "idle_worker_rss_bytes": idle,
        "rss_bytes_per_open_ticket": largest["rss_bytes_per_ticket"],
        "state_bytes_per_open_ticket": largest["state_bytes_per_ticket"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

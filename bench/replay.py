"""Replay throughput benchmark: ``python -m bench.replay [--events N] [--repeat K] [--keep FILE]``.

Simulates about N events for the agreements in ``rules/``, then measures in the same
process, K times each and alternating, the plain decode rate (read the file, ``json.loads`` every
line) and the replay rate (``monitor.replay.replay``). The figure of merit is the
ratio replay/decode, which stays comparable on a shared, noisy machine where the
absolute rates do not. Results go to the terminal and ``bench/results/replay.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import json
import math
import multiprocessing
import platform
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from rich.console import Console
from rich.table import Table

from monitor.domain.agreement import Agreement
from monitor.replay import ReplayResult, read_lines, replay
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate, write_jsonl

ROOT: Final = Path(__file__).resolve().parent.parent
RULES: Final = ROOT / "rules"
RESULTS: Final = ROOT / "bench" / "results" / "replay.json"
START: Final = datetime(2026, 11, 2, tzinfo=UTC)
SEED: Final = 1
GOAL: Final = 0.3
PROBE_DAYS: Final = 7  # one full week, so weekends count in the events/day estimate
MARGIN: Final = 1.1  # simulate a little more than needed, then cut to N
PROFILE_LINES: Final = 200_000
PROFILE_TOP: Final = 15

console = Console(soft_wrap=True)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Args:
    events: int
    repeat: int
    keep: Path | None


@dataclass(frozen=True, slots=True)
class ReplayRun:
    seconds: float
    events: int
    alerts: int
    invalid: int
    counters: dict[str, int]


@dataclass(frozen=True, slots=True)
class ProfileRow:
    function: str
    line: int
    tottime: float
    share: float
    calls: int


def parse_args(argv: Sequence[str] | None) -> Args:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--keep", type=Path, help="events file to reuse, or create and keep")
    ns = parser.parse_args(argv)
    if ns.events <= 0 or ns.repeat <= 0:
        parser.error("--events and --repeat must be positive")
    return Args(events=ns.events, repeat=ns.repeat, keep=ns.keep)


# -- the input ----------------------------------------------------------------------


def load_agreements() -> list[Agreement]:
    agreements, problems = load_rules([RULES])
    for problem in problems:
        console.print(f"[yellow]rules problem:[/] {problem}")
    if not agreements:
        raise SystemExit(f"no agreements loaded from {RULES}")
    return agreements


def events_per_day(agreements: Sequence[Agreement]) -> float:
    probe = simulate(agreements, start=START, duration=timedelta(days=PROBE_DAYS), seed=SEED)
    return sum(1 for _ in probe) / PROBE_DAYS


def generate(agreements: Sequence[Agreement], events: int, path: Path) -> int:
    per_day = events_per_day(agreements)
    days = math.ceil(events / per_day * MARGIN)
    console.print(f"simulating {days} days (~{per_day:,.0f} events/day) into {path}")
    stream = simulate(agreements, start=START, duration=timedelta(days=days), seed=SEED)
    written = write_jsonl(itertools.islice(stream, events), path)
    if written < events:
        console.print(f"[yellow]only {written:,} events simulated (asked for {events:,})[/]")
    return written


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def prepare(args: Args, scratch: Path) -> tuple[Path, int]:
    """The events file, simulated in a child process when it does not exist yet.

    Simulating a million events churns a lot of memory. In a child process, that churn
    cannot shape the heap the measurements run in: the measuring process only reads
    the file, with or without ``--keep``, so both ways measure the same thing.
    """
    if args.keep is not None and args.keep.exists():
        console.print(f"reusing {args.keep} (generation skipped)")
        return args.keep, count_lines(args.keep)
    path = args.keep if args.keep is not None else scratch / "events.jsonl"
    child = multiprocessing.get_context("spawn").Process(
        target=generate_file, args=(args.events, path)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"simulating the events failed (exit code {child.exitcode})")
    return path, count_lines(path)


def generate_file(events: int, path: Path) -> None:
    generate(load_agreements(), events, path)


# -- the measurements ---------------------------------------------------------------


def decode_once(path: Path) -> float:
    """Seconds to read ``path`` line by line and ``json.loads`` every line."""
    loads = json.loads
    start = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            loads(line)
    return time.perf_counter() - start


def replay_once(path: Path, agreements: Sequence[Agreement]) -> ReplayRun:
    start = time.perf_counter()
    result = replay(read_lines(path), agreements)
    seconds = time.perf_counter() - start
    return summarize(result, seconds)


def summarize(result: ReplayResult, seconds: float) -> ReplayRun:
    counters = result.engine.counters.to_state()
    return ReplayRun(
        seconds=seconds,
        events=counters["total"] + result.invalid_count,
        alerts=len(result.alerts),
        invalid=result.invalid_count,
        counters=counters,
    )


def repeated(run: Callable[[], T], times: int, label: str) -> list[T]:
    results: list[T] = []
    for _ in range(times):
        gc.collect()
        results.append(run())
        console.print(f"  {label} run done")
    gc.collect()
    return results


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- the profile --------------------------------------------------------------------


def profile_replay(path: Path, agreements: Sequence[Agreement]) -> list[ProfileRow]:
    lines = itertools.islice(read_lines(path), PROFILE_LINES)
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    replay(lines, agreements)
    profiler.disable()
    return top_functions(pstats.Stats(profiler), PROFILE_TOP)


def top_functions(stats: pstats.Stats, top: int) -> list[ProfileRow]:
    entries = stats.stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = sum(entry[2] for entry in entries.values()) or 1.0
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [
        ProfileRow(function_name(key), key[1], tt, tt / total, calls)
        for key, (_, calls, tt, _, _) in ranked
    ]


def function_name(key: tuple[str, int, str]) -> str:
    filename, _, name = key
    if filename == "~":  # built-ins
        return name
    return f"{module_name(Path(filename))}:{name}"


def module_name(file: Path) -> str:
    for base in (ROOT, *(Path(entry) for entry in sys.path if entry)):
        try:
            relative = file.resolve().relative_to(base.resolve())
        except (ValueError, OSError):
            continue
        return ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
    return file.stem


# -- the report ---------------------------------------------------------------------


def rate(events: int, seconds: float) -> float:
    return events / seconds if seconds > 0 else math.inf


def build_result(
    events: int,
    args: Args,
    decode_seconds: list[float],
    replays: list[ReplayRun],
    rss_mb: tuple[float, float],
    profile: list[ProfileRow],
) -> dict[str, Any]:
    decode_rates = [rate(events, s) for s in decode_seconds]
    replay_rates = [rate(run.events, run.seconds) for run in replays]
    decode_median = statistics.median(decode_rates)
    replay_median = statistics.median(replay_rates)
    ratio = replay_median / decode_median
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.platform(),
        "processor": platform.machine(),
        "events": events,
        "repeats": args.repeat,
        "decode": {"seconds": decode_seconds, "events_per_s": decode_rates},
        "replay": {"seconds": [run.seconds for run in replays], "events_per_s": replay_rates},
        "decode_median_events_per_s": decode_median,
        "replay_median_events_per_s": replay_median,
        "ratio": ratio,
        "goal": GOAL,
        "met": ratio >= GOAL,
        "alerts": replays[-1].alerts,
        "alerts_per_run": [run.alerts for run in replays],
        "invalid": replays[-1].invalid,
        "engine_counters": replays[-1].counters,
        "peak_rss_mb": rss_mb[1],
        "peak_rss_mb_before_replay": rss_mb[0],
        "profile_lines": PROFILE_LINES,
        "profile_top": [asdict(row) for row in profile],
    }


def print_summary(result: dict[str, Any]) -> None:
    table = Table(title="slamon replay benchmark (medians)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    verdict = "[green]met[/]" if result["met"] else "[red]not met[/]"
    table.add_row("events", f"{result['events']:,}")
    table.add_row("decode events/s", f"{result['decode_median_events_per_s']:,.0f}")
    table.add_row("replay events/s", f"{result['replay_median_events_per_s']:,.0f}")
    table.add_row("ratio replay/decode", f"{result['ratio']:.3f} (goal {GOAL}, {verdict})")
    table.add_row("alerts", f"{result['alerts']:,}")
    table.add_row("invalid lines", f"{result['invalid']:,}")
    table.add_row("peak RSS MB", f"{result['peak_rss_mb']:,.1f}")
    console.print(table)


def print_profile(rows: list[ProfileRow]) -> None:
    table = Table(title=f"replay profile, first {PROFILE_LINES:,} lines (top by tottime)")
    table.add_column("function")
    table.add_column("line", justify="right")
    table.add_column("calls", justify="right")
    table.add_column("tottime s", justify="right")
    table.add_column("share", justify="right")
    for row in rows:
        table.add_row(
            row.function, str(row.line), f"{row.calls:,}", f"{row.tottime:.3f}", f"{row.share:.1%}"
        )
    console.print(table)


def check_consistency(events: int, replays: list[ReplayRun]) -> None:
    if len({run.alerts for run in replays}) > 1:
        console.print(f"[red]alert counts differ between runs: {[r.alerts for r in replays]}[/]")
    if replays[-1].events != events:
        console.print(f"[red]replay saw {replays[-1].events:,} events, file has {events:,}[/]")
    if replays[-1].invalid:
        console.print(f"[yellow]{replays[-1].invalid:,} invalid lines in the replay[/]")


def write_json(result: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")


# -- main ---------------------------------------------------------------------------


def measure(args: Args, path: Path, events: int, agreements: list[Agreement]) -> dict[str, Any]:
    """Decode and replay runs alternate, so a burst of load elsewhere hits both alike."""
    console.print(f"measuring {events:,} events, {args.repeat} runs each, alternating")
    decode_seconds: list[float] = []
    replays: list[ReplayRun] = []
    rss_before = peak_rss_mb()
    for index in range(args.repeat):
        decode_seconds += repeated(lambda: decode_once(path), 1, f"decode {index + 1}")
        replays += repeated(lambda: replay_once(path, agreements), 1, f"replay {index + 1}")
    rss_after = peak_rss_mb()
    check_consistency(events, replays)
    profile = profile_replay(path, agreements)
    rss = (rss_before, rss_after)
    return build_result(events, args, decode_seconds, replays, rss, profile)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    agreements = load_agreements()
    with tempfile.TemporaryDirectory(prefix="slamon-bench-") as scratch:
        path, events = prepare(args, Path(scratch))
        result = measure(args, path, events, agreements)
    print_profile([ProfileRow(**row) for row in result["profile_top"]])
    print_summary(result)
    write_json(result)


if __name__ == "__main__":
    main()

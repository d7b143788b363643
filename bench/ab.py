"""A/B replay timing of two revisions: ``python -m bench.ab BASE NEW [--rules REV] [--rounds N]``.

Answers "is NEW faster than BASE?" on a shared machine whose speed drifts by tens of
percent within minutes, which ``bench.replay`` (absolute rates, a few runs) cannot.
Each revision (a git revision, or ``WORKTREE`` for the working tree with its uncommitted
changes) is exported with its ``monitor/`` package and ``rules/`` into a temporary
directory and loaded once, in its own long-lived worker process. The workers replay
the same events file in turn, one at a time, BASE first in even rounds and NEW first in
odd ones, so drift and bursts of load hit both alike; each replay is timed inside its
worker (``time.perf_counter`` around ``monitor.replay.replay``). The report gives both
medians, their ratio with its spread over the rounds, and whether the two revisions
raised the same alerts (a digest of every alert's JSON). Results go to the terminal and
``bench/results/ab.json``. With ``--rules REV`` both sides take ``rules/`` from REV:
the engines are then compared on the same agreements, whatever objectives were added
to ``rules/`` in between.

Two exports of the same revision differ by up to about 5 % over 4 rounds of 400,000
events on our machine: smaller differences need more rounds before they mean anything.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from bench.replay import Args as ReplayArgs
from bench.replay import prepare

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS: Final = ROOT / "bench" / "results" / "ab.json"
WORKTREE: Final = "WORKTREE"
WORKER: Final = Path(__file__).resolve().parent / "ab_worker.py"
PACKAGE: Final = "monitor"
RULES: Final = "rules"
DEFAULT_EVENTS: Final = 200_000

console = Console(soft_wrap=True)


@dataclass(frozen=True, slots=True)
class Args:
    base: str
    new: str
    rounds: int
    events: int
    keep: Path | None
    out: Path
    rules: str | None = None


def parse_args(argv: Sequence[str] | None) -> Args:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("base", help=f"git revision to compare against, or {WORKTREE}")
    parser.add_argument("new", help=f"git revision to measure, or {WORKTREE}")
    parser.add_argument("--rounds", type=int, default=4, help="replays of each revision")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="when simulating")
    parser.add_argument("--keep", type=Path, help="events file to reuse, or create and keep")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument(
        "--rules", help=f"revision (or {WORKTREE}) whose rules/ both sides replay (default: own)"
    )
    ns = parser.parse_args(argv)
    if ns.rounds <= 0 or ns.events <= 0:
        parser.error("--rounds and --events must be positive")
    return Args(ns.base, ns.new, ns.rounds, ns.events, ns.keep, ns.out, ns.rules)


# -- the revisions ------------------------------------------------------------------


def export(revision: str, into: Path, rules_from: str | None = None) -> Path:
    """``monitor/`` of ``revision`` (or of the working tree) under ``into``, and ``rules/``
    of ``rules_from`` (default: the same revision)."""
    into.mkdir(parents=True)
    _extract(revision, PACKAGE, into)
    _extract(revision if rules_from is None else rules_from, RULES, into)
    return into


def _extract(revision: str, name: str, into: Path) -> None:
    if revision == WORKTREE:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(ROOT / name, into / name, ignore=ignore)
        return
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, name],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip()
        raise SystemExit(f"cannot export {revision!r}: {message}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


# -- the workers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    alerts: int
    digest: str


class Worker:
    """A revision loaded in its own process (``bench/ab_worker.py``), replaying on demand."""

    def __init__(self, tree: Path, events: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER), str(tree), str(events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._answer()  # loaded and ready

    def run(self) -> Run:
        assert self._process.stdin is not None
        self._process.stdin.write("run\n")
        self._process.stdin.flush()
        answer = self._answer()
        return Run(answer["seconds"], answer["alerts"], answer["digest"])

    def _answer(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait(timeout=30)
            raise SystemExit(f"a worker stopped (exit code {code})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # the worker may be gone already
            if self._process.stdin is not None:
                self._process.stdin.close()  # end of input: the worker returns
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# -- the comparison -----------------------------------------------------------------


def compare(args: Args, events: Path, trees: tuple[Path, Path]) -> dict[str, Any]:
    base_worker = Worker(trees[0], events)
    try:
        new_worker = Worker(trees[1], events)
    except BaseException:
        base_worker.stop()
        raise
    workers = (base_worker, new_worker)
    runs: tuple[list[Run], list[Run]] = ([], [])
    try:
        for index in range(args.rounds):
            order = (0, 1) if index % 2 == 0 else (1, 0)
            for side in order:
                runs[side].append(workers[side].run())
            base, new = runs[0][-1].seconds, runs[1][-1].seconds
            console.print(f"  round {index + 1}: base {base:.2f} s, new {new:.2f} s")
    finally:
        for each in workers:
            each.stop()
    return build_result(args, events, runs)


def build_result(args: Args, events: Path, runs: tuple[list[Run], list[Run]]) -> dict[str, Any]:
    base_seconds = [run.seconds for run in runs[0]]
    new_seconds = [run.seconds for run in runs[1]]
    base_median, new_median = statistics.median(base_seconds), statistics.median(new_seconds)
    per_round = [new / base for base, new in zip(base_seconds, new_seconds, strict=True)]
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "base": args.base,
        "new": args.new,
        "rules": args.rules,
        "events_file": str(events),
        "rounds": args.rounds,
        "base_seconds": base_seconds,
        "new_seconds": new_seconds,
        "base_median_s": base_median,
        "new_median_s": new_median,
        "ratio_new_to_base": new_median / base_median,
        "ratio_per_round": per_round,
        "same_alerts": len({run.digest for side in runs for run in side}) == 1,
        "alerts": {"base": runs[0][-1].alerts, "new": runs[1][-1].alerts},
    }


def print_summary(result: dict[str, Any]) -> None:
    rules = "" if result["rules"] is None else f", rules of {result['rules']}"
    table = Table(title=f"replay A/B: {result['base']} -> {result['new']}{rules} (medians)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("rounds", str(result["rounds"]))
    table.add_row("base seconds", f"{result['base_median_s']:.2f}")
    table.add_row("new seconds", f"{result['new_median_s']:.2f}")
    per_round = result["ratio_per_round"]
    table.add_row(
        "new / base",
        f"{result['ratio_new_to_base']:.3f} (rounds {min(per_round):.3f}-{max(per_round):.3f})",
    )
    same = "[green]yes[/]" if result["same_alerts"] else "[red]no[/]"
    table.add_row(
        "same alerts", f"{same} ({result['alerts']['base']:,} / {result['alerts']['new']:,})"
    )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="slamon-ab-") as scratch_dir:
        scratch = Path(scratch_dir)
        trees = (
            export(args.base, scratch / "base", args.rules),
            export(args.new, scratch / "new", args.rules),
        )
        events, count = prepare(ReplayArgs(args.events, 1, args.keep), scratch)
        rules = "" if args.rules is None else f" with the rules of {args.rules}"
        console.print(
            f"comparing {args.base} and {args.new}{rules} on {count:,} events, "
            f"{args.rounds} rounds, alternating"
        )
        result = compare(args, events, trees)
    print_summary(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {args.out}")
    if not result["same_alerts"]:
        raise SystemExit("the two revisions raised different alerts")


if __name__ == "__main__":
    main()

"""``slamon replay``: run the engine over a JSONL file, in event time only."""

from __future__ import annotations

import gc
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert
from monitor.domain.engine import DEFAULT_LATENESS, Engine
from monitor.domain.events import Event, EventError, parse_event
from monitor.domain.report import build_report

MAX_LISTED_INVALID: Final = 1000
PARSE_BATCH_LINES: Final = 2048
"""Lines parsed together before the engine applies them. Parsing (pydantic-core) and
applying (the engine) each have a working set of code and data that competes for the
CPU caches; alternating per line evicts both every event. In batches each stays warm:
about 12 % less replay time on the bench file (see CHANGELOG for the A/B)."""
READ_CHUNK_BYTES: Final = 1 << 19
"""How much of the file ``read_lines`` reads at a time (about 2,000 lines of events)."""


@dataclass(slots=True)
class InvalidLine:
    line: int
    reason: str
    message: str


@dataclass(slots=True)
class ReplayResult:
    engine: Engine
    alerts: list[Alert] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)
    invalid_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def invalid_count(self) -> int:
        return sum(self.invalid_by_reason.values())

    def report(self) -> dict[str, Any]:
        report = build_report(self.engine)
        report["events"]["total"] += self.invalid_count
        report["events"]["invalid"] = self.invalid_count
        report["events"]["invalid_by_reason"] = dict(sorted(self.invalid_by_reason.items()))
        report["invalid_lines"] = [
            {"line": bad.line, "reason": bad.reason, "message": bad.message} for bad in self.invalid
        ]
        report["watermark"] = self.engine.watermark
        return report


def replay(
    lines: Iterable[bytes],
    agreements: Sequence[Agreement],
    *,
    lateness: float = DEFAULT_LATENESS,
    until: float | None = None,
    on_alert: Callable[[Alert], None] | None = None,
    engine: Engine | None = None,
) -> ReplayResult:
    """Apply every line in file order, then flush the watermark to ``until`` or the last event."""
    with collector_paused():
        return _replay(lines, agreements, lateness, until, on_alert, engine)


def _replay(
    lines: Iterable[bytes],
    agreements: Sequence[Agreement],
    lateness: float,
    until: float | None,
    on_alert: Callable[[Alert], None] | None,
    engine: Engine | None,
) -> ReplayResult:
    engine = engine or Engine(agreements, lateness=lateness)
    result = ReplayResult(engine)
    emit = on_alert or result.alerts.append
    apply = engine.apply
    remaining = iter(lines)
    first_number = 1  # of the batch's first line
    while batch := list(itertools.islice(remaining, PARSE_BATCH_LINES)):
        parsed = list(map(parse_event, batch))
        some_invalid = False
        for event in parsed:
            if isinstance(event, EventError):
                some_invalid = True
                continue
            alerts = apply(event).alerts
            if alerts:
                for alert in alerts:
                    emit(alert)
        if some_invalid:
            _count_invalid(result, batch, parsed, first_number)
        first_number += len(batch)
    end = until if until is not None else engine.max_event_time
    for alert in engine.advance(end):
        emit(alert)
    return result


def _count_invalid(
    result: ReplayResult, batch: list[bytes], parsed: list[Event | EventError], first_number: int
) -> None:
    """Count and list the batch's bad lines; blank lines are allowed and skipped."""
    for offset, event in enumerate(parsed):
        if not isinstance(event, EventError):
            continue
        raw = batch[offset]
        if not raw or raw.isspace():
            continue
        result.invalid_by_reason[event.reason] += 1
        if len(result.invalid) < MAX_LISTED_INVALID:
            result.invalid.append(InvalidLine(first_number + offset, event.reason, event.message))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a replay runs, then restore it.

    A replay creates no cyclic garbage: the engine's state is freed by reference
    counting alone, and a test checks that a replay (bad lines included) leaves none.
    Yet the collector's passes walk the young engine state again and again: about 4 %
    of a replay with the default thresholds raised 70-fold, more with the defaults.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_lines(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The file's lines without their line ends (``\n``, ``\r\n``), read in large blocks.

    ``on_bytes`` hears the size of each block as it is read (for a progress bar).
    """
    return itertools.chain.from_iterable(_line_chunks(path, on_bytes))


def _line_chunks(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[list[bytes]]:
    """Blocks of the file split at its line feeds: one copy of each line, made by split."""
    with path.open("rb") as handle:
        pending: list[bytes] = []  # the pieces of a line cut by the ends of blocks
        while block := handle.read(READ_CHUNK_BYTES):
            if on_bytes is not None:
                on_bytes(len(block))
            lines = block.split(b"\n")
            pending.append(lines[0])
            if len(lines) == 1:
                continue  # a line longer than the block: joined once, at its end
            lines[0] = b"".join(pending)
            pending = [lines.pop()]
            carriage_returns = b"\r" in block or b"\r" in lines[0]
            yield _without_carriage_returns(lines) if carriage_returns else lines
        last = b"".join(pending)
        if last:
            yield _without_carriage_returns([last])


def _without_carriage_returns(lines: list[bytes]) -> list[bytes]:
    return [line.rstrip(b"\r") for line in lines]


def write_alert(handle: IO[str], alert: Alert) -> None:
    handle.write(json.dumps(alert.to_json(), ensure_ascii=False, separators=(",", ":")))
    handle.write("\n")

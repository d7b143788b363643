"""``slamon replay``: run the engine over a JSONL file, in event time only."""

from __future__ import annotations

import gc
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from monitor.domain.admission import (
    DEFAULT_MAX_FUTURE_S,
    ENGINE_ERROR,
    TIME_OUT_OF_RANGE,
    time_out_of_range,
)
from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert
from monitor.domain.engine import DEFAULT_LATENESS, Engine
from monitor.domain.events import MAX_EVENT_BYTES, Event, EventError, parse_event
from monitor.domain.report import build_report

MAX_LISTED_INVALID: Final = 1000
PARSE_BATCH_LINES: Final = 2048
"""Lines parsed together before the engine applies them. Parsing (pydantic-core) and
applying (the engine) each have a working set of code and data that competes for the
CPU caches; alternating per line evicts both every event. In batches each stays warm
(the A/B is bench/results/ab-batched-parse.json)."""
READ_CHUNK_BYTES: Final = 1 << 19
"""How much of the file ``read_lines`` reads at a time (about 2,000 lines of events)."""
MAX_LINE_BYTES: Final = MAX_EVENT_BYTES
"""Longer lines are not events (the parser's ``too_large``): ``read_lines`` keeps only
their first bytes, so a huge line costs no more memory than a normal one."""
UTF8_BOM: Final = b"\xef\xbb\xbf"
MAX_ERROR_MESSAGE: Final = 300


class CutLine(bytes):
    """The first bytes of a line longer than :data:`MAX_LINE_BYTES`; ``size`` is its length.

    It is still longer than the limit, so the parser rejects it as ``too_large``.
    """

    size: int

    def __new__(cls, head: bytes, size: int) -> CutLine:
        line = super().__new__(cls, head)
        line.size = size
        return line

    def problem(self) -> str:
        """The parser's ``too_large`` message, with the line's whole size."""
        return f"event is {self.size} bytes, the limit is {MAX_LINE_BYTES}"


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
        # The engine counted the events that raised in its total already.
        report["events"]["total"] += self.invalid_count - self.invalid_by_reason[ENGINE_ERROR]
        report["events"]["invalid"] = self.invalid_count
        report["events"]["invalid_by_reason"] = dict(sorted(self.invalid_by_reason.items()))
        report["invalid_lines"] = [
            {"line": bad.line, "reason": bad.reason, "message": bad.message} for bad in self.invalid
        ]
        watermark = self.engine.watermark
        report["watermark"] = watermark if math.isfinite(watermark) else None  # no event applied
        return report


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Event times a replay admits: at most ``max_future_s`` ahead of ``now``.

    ``now`` is the wall clock, read once by the caller (the command line), never here.
    """

    now: float
    max_future_s: float = DEFAULT_MAX_FUTURE_S

    def __post_init__(self) -> None:
        if not math.isfinite(self.now):
            raise ValueError(f"now must be a finite instant, not {self.now}")
        if not math.isfinite(self.max_future_s) or self.max_future_s <= 0:
            raise ValueError(f"max_future_s must be a positive number, not {self.max_future_s}")

    @property
    def latest(self) -> float:
        return self.now + self.max_future_s


def replay(
    lines: Iterable[bytes],
    agreements: Sequence[Agreement],
    *,
    lateness: float = DEFAULT_LATENESS,
    until: float | None = None,
    on_alert: Callable[[Alert], None] | None = None,
    engine: Engine | None = None,
    time_range: TimeRange | None = None,
) -> ReplayResult:
    """Apply every line in file order, then flush the watermark to ``until`` or the last event.

    Every non-blank line ends up counted once: by the engine (applied, duplicate, late,
    unknown contract) or as invalid with its reason. That includes events dated beyond
    ``time_range`` (``time_out_of_range``) and events the engine raised on
    (``engine_error``): one bad event never stops the replay.
    """
    if not math.isfinite(lateness) or lateness < 0:
        raise ValueError(f"lateness must be a finite number of seconds >= 0, not {lateness}")
    with collector_paused():
        return _replay(lines, agreements, lateness, until, on_alert, engine, time_range)


def _replay(
    lines: Iterable[bytes],
    agreements: Sequence[Agreement],
    lateness: float,
    until: float | None,
    on_alert: Callable[[Alert], None] | None,
    engine: Engine | None,
    time_range: TimeRange | None,
) -> ReplayResult:
    engine = engine or Engine(agreements, lateness=lateness)
    result = ReplayResult(engine)
    emit = on_alert or result.alerts.append
    apply = engine.apply
    latest = math.inf if time_range is None else time_range.latest
    remaining = iter(lines)
    first_number = 1  # of the batch's first line
    while batch := list(itertools.islice(remaining, PARSE_BATCH_LINES)):
        parsed = list(map(parse_event, batch))
        some_invalid = False
        for index, event in enumerate(parsed):
            if isinstance(event, EventError):
                some_invalid = True
                continue
            if event.epoch > latest:
                parsed[index] = _out_of_range(event, time_range)
                some_invalid = True
                continue
            try:
                alerts = apply(event).alerts
            except Exception as exc:  # one event must never stop the replay
                parsed[index] = EventError(ENGINE_ERROR, _engine_error(exc))
                some_invalid = True
                continue
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


def _out_of_range(event: Event, time_range: TimeRange | None) -> EventError:
    assert time_range is not None  # only then is there a latest admitted instant
    message = time_out_of_range(event.epoch, time_range.now, time_range.max_future_s)
    return EventError(TIME_OUT_OF_RANGE, message or "ts: too far ahead of the clock", "ts")


def _engine_error(exc: Exception) -> str:
    message = f"the engine failed on this event: {type(exc).__name__}: {exc}"
    if len(message) <= MAX_ERROR_MESSAGE:
        return message
    return message[: MAX_ERROR_MESSAGE - 3] + "..."


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
            message = raw.problem() if isinstance(raw, CutLine) else event.message
            result.invalid.append(InvalidLine(first_number + offset, event.reason, message))


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
            _age_young_objects()
            gc.enable()


def _age_young_objects() -> None:
    """Move every object the collector tracks to its oldest generation, in constant time.

    The paused collector still counts allocations: once enabled again, the first
    allocation would start a pass over the youngest generation, which now holds the
    whole engine state (about 5 % of a replay, and another pass when they move up
    again), only to find it alive. ``freeze`` then ``unfreeze`` splices every generation
    into the oldest one instead and resets the count. Not done when the process froze
    objects of its own: ``unfreeze`` would return those to the collector.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def read_lines(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The file's lines without their line ends (``\n``, ``\r\n``), read in large blocks.

    A UTF-8 byte order mark at the start of the file is dropped. A line longer than
    :data:`MAX_LINE_BYTES` comes as a :class:`CutLine` (its first bytes and its size):
    it is measured as it streams by, never held whole. ``on_bytes`` hears the size of
    each block as it is read (for a progress bar).
    """
    return itertools.chain.from_iterable(_line_chunks(path, on_bytes))


def _line_chunks(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[list[bytes]]:
    """Blocks of the file split at its line feeds: one copy of each line, made by split."""
    with path.open("rb") as handle:
        pending = _PendingLine()  # a line cut by the ends of blocks
        first_block = True
        while block := handle.read(READ_CHUNK_BYTES):
            if on_bytes is not None:
                on_bytes(len(block))
            if first_block:
                block = _without_bom(block, handle)
                first_block = False
            lines = block.split(b"\n")
            pending.add(lines[0])
            if len(lines) == 1:
                continue  # a line longer than the block: joined once, at its end
            lines[0] = pending.take()
            pending.add(lines.pop())
            carriage_returns = b"\r" in block or b"\r" in lines[0]
            yield _without_carriage_returns(lines) if carriage_returns else lines
        last = pending.take()
        if last:
            yield _without_carriage_returns([last])


def _without_bom(block: bytes, handle: IO[bytes]) -> bytes:
    while len(block) < len(UTF8_BOM) and UTF8_BOM.startswith(block):
        more = handle.read(1)  # a file shorter than a block may end inside the mark
        if not more:
            break
        block += more
    return block.removeprefix(UTF8_BOM)


class _PendingLine:
    """The pieces of one line spread over several blocks, kept up to the line limit."""

    __slots__ = ("last_byte", "pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0
        self.last_byte = b""

    def add(self, piece: bytes) -> None:
        room = MAX_LINE_BYTES + 1 - self.size
        if room > 0:
            self.pieces.append(piece if len(piece) <= room else piece[:room])
        if piece:
            self.size += len(piece)
            self.last_byte = piece[-1:]

    def take(self) -> bytes:
        line = b"".join(self.pieces)
        cut = self.size > len(line)
        size = self.size - 1 if cut and self.last_byte == b"\r" else self.size  # no line end
        self.pieces = []
        self.size = 0
        self.last_byte = b""
        return CutLine(line, size) if cut else line


def _without_carriage_returns(lines: list[bytes]) -> list[bytes]:
    return [line if isinstance(line, CutLine) else line.rstrip(b"\r") for line in lines]


def write_alert(handle: IO[str], alert: Alert) -> None:
    handle.write(json.dumps(alert.to_json(), ensure_ascii=False, separators=(",", ":")))
    handle.write("\n")

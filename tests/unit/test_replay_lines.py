"""``replay`` over raw lines: blank lines are skipped, bad ones counted by their number,
and parsing in batches changes nothing."""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import monitor.replay as replay_module
from monitor.domain.agreement import Agreement
from monitor.domain.engine import Engine
from monitor.domain.events import Event, parse_event
from monitor.replay import (
    MAX_LINE_BYTES,
    PARSE_BATCH_LINES,
    UTF8_BOM,
    CutLine,
    read_lines,
    replay,
)
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate
from tests.support import agreement

RULES = Path(__file__).resolve().parents[2] / "rules"
MONDAY_NINE = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_blank_lines_are_skipped_and_bad_lines_keep_their_number() -> None:
    lines = [b"", b" \t", b"{not json", b"\r", b"[]"]

    result = replay(lines, [agreement()])

    assert result.invalid_count == 2
    assert [(bad.line, bad.reason) for bad in result.invalid] == [
        (3, "invalid_json"),
        (5, "not_object"),
    ]
    assert result.engine.counters.total == 0


def test_lines_parsed_in_batches_give_the_alerts_and_line_numbers_of_one_by_one() -> None:
    agreements, lines = simulated_hours()
    size = PARSE_BATCH_LINES
    # Bad and blank lines on both sides of batch boundaries (line numbers start at 1).
    for index in (size - 1, size, 2 * size - 1, 2 * size + 1):
        lines[index:index] = [b"{not json"]
    lines[size + 5 : size + 5] = [b"", b"  "]
    bad_numbers = [number for number, raw in enumerate(lines, 1) if raw == b"{not json"]

    result = replay(lines, agreements)

    engine = Engine(agreements)
    expected = [
        alert
        for raw in lines
        if raw.strip() and isinstance(event := parse_event(raw), Event)
        for alert in engine.apply(event).alerts
    ] + engine.advance(engine.max_event_time)
    assert len(lines) > 3 * size
    assert [bad.line for bad in result.invalid] == bad_numbers
    assert len(expected) > 10
    assert [a.to_json() for a in result.alerts] == [a.to_json() for a in expected]


def simulated_hours() -> tuple[list[Agreement], list[bytes]]:
    agreements, problems = load_rules([RULES])
    assert not problems
    events = simulate(agreements, start=MONDAY_NINE, duration=timedelta(hours=5), seed=5)
    return agreements, [json.dumps(event).encode() for event in events]


def test_read_lines_strips_line_ends_and_reports_every_byte(tmp_path: Path) -> None:
    lines = [f'{{"n": {n}, "pad": "{"x" * (n % 300)}"}}'.encode() for n in range(5000)]
    lines[10] = b""
    lines[11] = b"crlf"
    content = b"\n".join(lines[:11]) + b"\n" + lines[11] + b"\r\n" + b"\n".join(lines[12:])
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)  # no line end after the last line
    chunk_sizes: list[int] = []

    read = list(read_lines(path, chunk_sizes.append))

    assert read == lines
    assert sum(chunk_sizes) == len(content)
    assert len(chunk_sizes) > 1  # read in several chunks, not line by line nor all at once
    assert len(chunk_sizes) < len(lines) / 100


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 8, 13, 64])
def test_read_lines_gives_the_lines_of_line_by_line_reading_at_any_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    content = b'{"a": 1}\r\n\r\nplain\nx\r\r\n\n\r\n' + b"long" * 40 + b"\nlast\r"
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)
    monkeypatch.setattr(replay_module, "READ_CHUNK_BYTES", chunk_bytes)

    read = list(read_lines(path))

    assert read == [line.rstrip(b"\r\n") for line in io.BytesIO(content)]
    assert read == [b'{"a": 1}', b"", b"plain", b"x", b"", b"", b"long" * 40, b"last"]


def test_a_line_longer_than_the_limit_is_cut_while_read_and_keeps_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_module, "READ_CHUNK_BYTES", 1000)
    huge = b'{"queue": "' + b"q" * 100_000 + b'"}'
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"first\n" + huge + b"\r\nlast")

    first, cut, last = read_lines(path)

    assert (first, last) == (b"first", b"last")
    assert isinstance(cut, CutLine)
    assert cut.size == len(huge)  # without its line end
    assert bytes(cut) == huge[: MAX_LINE_BYTES + 1]


def test_a_line_at_the_limit_is_read_whole_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_module, "READ_CHUNK_BYTES", 1000)
    line = b"x" * MAX_LINE_BYTES
    path = tmp_path / "events.jsonl"
    path.write_bytes(line + b"\n" + line)

    read = list(read_lines(path))

    assert read == [line, line]
    assert not any(isinstance(each, CutLine) for each in read)


def test_a_huge_line_is_too_large_at_its_number_with_its_size_and_costs_no_memory(
    tmp_path: Path,
) -> None:
    agreements, lines = simulated_hours()
    lines = lines[:50]
    size = 20 * 1024 * 1024
    huge = b'{"event_id": "' + b"x" * size + b'"}'
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join([*lines[:10], huge, *lines[10:]]))
    tracemalloc.start()

    result = replay(read_lines(path), agreements)

    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [(bad.line, bad.reason, bad.message) for bad in result.invalid] == [
        (11, "too_large", f"event is {len(huge)} bytes, the limit is {MAX_LINE_BYTES}")
    ]
    assert result.report()["events"]["total"] == 51
    assert peak < size / 4  # the line is never held whole


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 4, 1 << 19])
def test_a_byte_order_mark_at_the_start_is_dropped_and_the_first_event_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    monkeypatch.setattr(replay_module, "READ_CHUNK_BYTES", chunk_bytes)
    agreements, lines = simulated_hours()
    path = tmp_path / "events.jsonl"
    path.write_bytes(UTF8_BOM + b"\n".join([lines[0], b"{bad", *lines[1:20]]))

    result = replay(read_lines(path), agreements)

    assert [(bad.line, bad.reason) for bad in result.invalid] == [(2, "invalid_json")]
    assert result.engine.counters.total == 20


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (UTF8_BOM, []),
        (UTF8_BOM[:2], [UTF8_BOM[:2]]),
        (UTF8_BOM + b"\n", [b""]),
        (b"a" + UTF8_BOM, [b"a" + UTF8_BOM]),
        (b"a\n" + UTF8_BOM + b"b", [b"a", UTF8_BOM + b"b"]),
    ],
)
def test_only_a_byte_order_mark_opening_the_file_is_dropped(
    tmp_path: Path, content: bytes, expected: list[bytes]
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)

    assert list(read_lines(path)) == expected


def test_a_bad_first_line_after_a_byte_order_mark_is_line_one(tmp_path: Path) -> None:
    agreements, lines = simulated_hours()
    path = tmp_path / "events.jsonl"
    path.write_bytes(UTF8_BOM + b"\n".join([b"{bad", *lines[:5]]))

    result = replay(read_lines(path), agreements)

    assert [(bad.line, bad.reason) for bad in result.invalid] == [(1, "invalid_json")]
    assert result.engine.counters.total == 5

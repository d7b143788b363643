"""Generated hostile event files through ``read_lines`` and ``replay``.

Valid events of every type, then mutated as an attacker would: numbers huge,
negative, non-finite or of the wrong type; event times far ahead, before 1970, in
year 1 or garbage; fields dropped, retyped or oversized; a byte order mark, NUL
bytes, invalid UTF-8, lines over the size limit. Whatever comes in: no exception
escapes, every non-blank line is counted exactly once (by the engine, or as
invalid with a known reason, never as an engine error), and event time never
moves past the admitted range, which is what bounds the engine's work per event.

``SLAMON_FUZZ_EXAMPLES`` sets the number of files tried (default 200).
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monitor.replay as replay_module
from monitor.domain.admission import ENGINE_ERROR, TIME_OUT_OF_RANGE
from monitor.domain.events import EVENT_TYPES, MAX_EVENT_BYTES, REASONS, Event, parse_event
from monitor.replay import UTF8_BOM, CutLine, TimeRange, read_lines, replay
from monitor.rulespec.loader import load_rules

RULES = Path(__file__).resolve().parents[2] / "rules"
AGREEMENTS, _PROBLEMS = load_rules([RULES])
CONTRACTS = [agreement.contract_id for agreement in AGREEMENTS]
START = datetime(2026, 11, 2, 8, tzinfo=UTC)  # a Monday
TIME_RANGE = TimeRange(now=(START + timedelta(days=2)).timestamp(), max_future_s=86400)
EXAMPLES = int(os.environ.get("SLAMON_FUZZ_EXAMPLES", "200"))

HOSTILE_TIMES = [
    "2100-01-01T00:00:00Z",
    "8999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-11-02T24:00:00Z",
    "2026-11-02t10:00:00z",
    "2026-11-02T10:00:00.123456789012+14:00",
    "2026-11-05T08:00:00Z",  # just beyond a day ahead of the clock
    "yesterday",
    "",
]
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    1e306,
    -1e306,
    10**400,
    -(10**400),
    5e-324,
    "12",
    "NaN",
    [],
    {},
    [[[[[[[[]]]]]]]],
    {"a": {"b": {"c": {}}}},
    "x" * 300,
    "\x00",
    "\u202e\ufeff\U0001f600",
]

numbers = st.one_of(
    st.floats(),  # NaN and the infinities included: json writes them as literals
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([1e306, 604800, 604800.0001, 100, 100.5, -0.0, 10**400]),
)


@st.composite
def event_time(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(HOSTILE_TIMES))
    moment = START + timedelta(seconds=draw(st.integers(0, 8 * 3600)))
    offset = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330, 840]))))
    return moment.astimezone(offset).isoformat()


EXTRA: dict[str, Any] = {
    "call": {"call_id": st.sampled_from(["C1", "C2", "C3"])},
    "chat": {"chat_id": st.sampled_from(["H1", "H2"])},
    "ticket": {"ticket_id": st.sampled_from(["T1", "T2", "T3"])},
    "survey": {},
    "service": {"service": st.sampled_from(["core", "portal"])},
}
BY_TYPE: dict[str, Any] = {
    "call.answered": {"wait_s": numbers},
    "call.abandoned": {"wait_s": numbers},
    "call.ended": {"handle_s": numbers},
    "ticket.created": {
        "channel": st.sampled_from(["email", "portal", "phone", "chat", "other"]),
        "priority": st.sampled_from(["urgent", "high", "normal", "low"]),
        "category": st.sampled_from(["complaint", "repair", "technical"]),
    },
    "ticket.agent_reply": {"public": st.booleans()},
    "ticket.status_changed": {
        "status": st.sampled_from(["new", "open", "pending", "on_hold", "solved", "closed"])
    },
    "ticket.priority_changed": {"priority": st.sampled_from(["urgent", "high", "normal"])},
    "survey.response": {"score": numbers, "scale_max": numbers},
    "service.status": {"status": st.sampled_from(["up", "down", "degraded"])},
}


@st.composite
def event_fields(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(EVENT_TYPES))
    fields: dict[str, Any] = {
        "event_id": f"e{draw(st.integers(0, 40))}",  # some repeat: duplicates
        "type": event_type,
        "ts": draw(event_time()),
        "contract_id": draw(st.sampled_from([*CONTRACTS, "no-such-contract"])),
        "queue": draw(st.sampled_from(["billing", "support"])),
    }
    for name, values in (EXTRA[event_type.split(".")[0]] | BY_TYPE.get(event_type, {})).items():
        fields[name] = draw(values)
    for _ in range(draw(st.integers(0, 2))):  # retype, drop or add a field
        name = draw(st.sampled_from([*fields, "attributes", "extra"]))
        if draw(st.booleans()):
            fields[name] = draw(st.sampled_from(HOSTILE_VALUES))
        else:
            fields.pop(name, None)
    return fields


@st.composite
def line(draw: st.DrawFn) -> bytes:
    raw = json.dumps(draw(event_fields()), ensure_ascii=draw(st.booleans())).encode()
    mutation = draw(st.integers(0, 12))
    if mutation == 0:
        return raw[: draw(st.integers(0, len(raw)))]  # cut short
    if mutation == 1:
        at = draw(st.integers(0, len(raw)))
        return (
            raw[:at]
            + draw(st.sampled_from([b"\x00", b"\xff", b"\xed\xa0\x80", b"\xc3"]))
            + raw[at:]
        )
    if mutation == 2:
        return raw[:-1] + b', "pad": "' + b"p" * MAX_EVENT_BYTES + b'"}'  # too large
    if mutation == 3:
        return draw(st.sampled_from([b"", b"  ", b"\t", b"[]", b"null", b"{}", UTF8_BOM + raw]))
    return raw


@st.composite
def event_file(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(line(), min_size=1, max_size=25))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    bom = UTF8_BOM if draw(st.booleans()) else b""
    return bom + ending.join(lines) + draw(st.sampled_from([b"", ending]))


def expected_lines(content: bytes) -> list[bytes]:
    """The lines as the simplest reading gives them: the oracle for ``read_lines``."""
    body = content.removeprefix(UTF8_BOM)
    lines = [piece.rstrip(b"\r") for piece in body.split(b"\n")]
    if lines and not lines[-1]:
        lines.pop()  # a line end after the last line starts no line
    return lines


def read_in_blocks_of(path: Path, block_bytes: int) -> list[bytes]:
    """``read_lines`` with small blocks too, so that long lines span several of them."""
    default = replay_module.READ_CHUNK_BYTES
    replay_module.READ_CHUNK_BYTES = block_bytes
    try:
        return list(read_lines(path))
    finally:
        replay_module.READ_CHUNK_BYTES = default


def is_blank(raw: bytes) -> bool:
    return not raw or raw.isspace()


@pytest.mark.timeout(600)  # a guard against a hang, not a speed assertion
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=event_file(), block_bytes=st.sampled_from([1, 7, 4096, 1 << 19]))
def test_every_line_of_a_hostile_file_is_counted_once_and_nothing_escapes(
    tmp_path_factory: pytest.TempPathFactory, content: bytes, block_bytes: int
) -> None:
    assert not _PROBLEMS
    path = tmp_path_factory.mktemp("fuzz") / "events.jsonl"
    path.write_bytes(content)

    lines = read_in_blocks_of(path, block_bytes)
    result = replay(lines, AGREEMENTS, time_range=TIME_RANGE)
    report = result.report()

    expected = expected_lines(content)
    assert len(lines) == len(expected)
    for raw, whole in zip(lines, expected, strict=True):
        if isinstance(raw, CutLine):  # a long line spread over blocks: only its head is read
            assert (raw, raw.size) == (whole[: MAX_EVENT_BYTES + 1], len(whole))
        else:
            assert raw == whole
    counted = [number for number, raw in enumerate(expected, 1) if not is_blank(raw)]
    refused = [
        number
        for number in counted
        if not isinstance(event := parse_event(expected[number - 1]), Event)
        or event.epoch > TIME_RANGE.latest
    ]
    assert report["events"]["total"] == len(counted)
    assert [bad.line for bad in result.invalid] == refused
    assert result.engine.counters.total == len(counted) - len(refused)
    assert set(result.invalid_by_reason) <= {*REASONS, TIME_OUT_OF_RANGE}
    assert ENGINE_ERROR not in result.invalid_by_reason
    assert result.engine.max_event_time <= TIME_RANGE.latest
    assert result.engine.watermark <= TIME_RANGE.latest
    assert not math.isnan(result.engine.watermark)
    json.dumps(report, allow_nan=False)  # the report is valid JSON: no NaN or infinity

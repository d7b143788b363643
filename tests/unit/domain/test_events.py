"""The event parser: every event type parses; bad input gets a stable reason and field."""

from __future__ import annotations

import json

import pytest

from monitor.domain.events import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    Event,
    EventError,
    parse_event,
)

BASE = {"event_id": "e1", "ts": "2026-11-20T17:00:00+01:00", "contract_id": "acme"}
EXTRA = {
    "call": {"call_id": "C1"},
    "chat": {"chat_id": "K1"},
    "ticket.created": {"ticket_id": "T1", "channel": "email"},
    "ticket.status_changed": {"ticket_id": "T1", "status": "pending"},
    "ticket.priority_changed": {"ticket_id": "T1", "priority": "high"},
    "ticket": {"ticket_id": "T1"},
    "survey.response": {"score": 4},
    "service.status": {"service": "core", "status": "down"},
}


def _fields(event_type: str) -> dict[str, object]:
    family = event_type.split(".")[0]
    return EXTRA.get(event_type) or EXTRA[family]


def _raw(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_parses_with_its_fields(event_type: str) -> None:
    parsed = parse_event(_raw(**BASE, type=event_type, **_fields(event_type)))
    assert not isinstance(parsed, EventError), parsed
    assert parsed.type == event_type
    assert parsed.ts.timestamp() == 1795190400.0


def test_the_event_time_is_computed_once_and_keeps_its_offset() -> None:
    parsed = parse_event(_raw(**BASE, type="call.offered", call_id="C"))
    assert isinstance(parsed, Event)
    assert parsed.epoch == 1795190400.0
    assert parsed.ts.isoformat() == "2026-11-20T17:00:00+01:00"
    assert (parsed.event_id, parsed.contract_id) == ("e1", "acme")


@pytest.mark.parametrize(
    "ts",
    [
        "2026-11-20T16:00:00Z",
        "2026-11-20t16:00:00z",
        "2026-11-20 16:00:00Z",
        "2026-11-20T16:00:00-00:00",
        "2026-11-20T11:00:00.000000-05:00",
        "2026-11-20T16:00:00.0000004Z",
    ],
)
def test_rfc3339_forms_are_accepted(ts: str) -> None:
    parsed = parse_event(_raw(**{**BASE, "ts": ts}, type="call.offered", call_id="C"))
    assert isinstance(parsed, Event), parsed
    assert parsed.epoch == parsed.ts.timestamp() == 1795190400.0


OPTIONAL_DEFAULTS = [
    ("call.offered", {"call_id": "C"}, {"queue": None, "attributes": {}}),
    ("call.answered", {"call_id": "C"}, {"wait_s": None}),
    ("call.abandoned", {"call_id": "C"}, {"wait_s": None}),
    ("call.ended", {"call_id": "C"}, {"handle_s": None}),
    ("ticket.created", {"ticket_id": "T", "channel": "chat"}, {"priority": "normal"}),
    ("ticket.created", {"ticket_id": "T", "channel": "chat"}, {"category": None}),
    ("ticket.agent_reply", {"ticket_id": "T"}, {"public": True}),
    ("survey.response", {"score": 4}, {"scale_max": 5.0, "ref": None}),
]


@pytest.mark.parametrize(("event_type", "given", "defaults"), OPTIONAL_DEFAULTS)
def test_optional_fields_get_their_defaults(
    event_type: str, given: dict[str, object], defaults: dict[str, object]
) -> None:
    parsed = parse_event(_raw(**BASE, type=event_type, **given))
    assert isinstance(parsed, Event), parsed
    assert {name: parsed.fields[name] for name in defaults} == defaults


def test_each_parse_gets_its_own_attributes() -> None:
    first, second = (parse_event(_raw(**BASE, type="chat.started", chat_id="K")) for _ in "ab")
    assert isinstance(first, Event)
    assert isinstance(second, Event)
    first.fields["attributes"]["tier"] = "gold"
    assert second.fields["attributes"] == {}


def test_unknown_extra_fields_are_ignored() -> None:
    parsed = parse_event(_raw(**BASE, type="call.offered", call_id="C", producer="acd-7"))
    assert not isinstance(parsed, EventError)


CALL = {**BASE, "type": "call.answered", "call_id": "C1"}


@pytest.mark.parametrize(
    ("raw", "reason", "field"),
    [
        (b"\xff\xfe{}", "invalid_encoding", None),
        (_raw(**CALL)[:-1] + b', "x": "\xed\xa0\x80"}', "invalid_encoding", None),
        (_raw(**CALL).replace(b'"C1"', b'"C\xc3"'), "invalid_encoding", None),
        (b"{not json", "invalid_json", None),
        (b"", "invalid_json", None),
        (b"[1, 2]", "not_object", None),
        (b'"text"', "not_object", None),
        (_raw(**{k: v for k, v in CALL.items() if k != "type"}), "missing_field", "type"),
        (_raw(**{**CALL, "type": "call.transferred"}), "unknown_type", "type"),
        (_raw(**{**CALL, "type": 7}), "wrong_type", "type"),
        (_raw(**{k: v for k, v in CALL.items() if k != "call_id"}), "missing_field", "call_id"),
        (_raw(**{k: v for k, v in CALL.items() if k != "ts"}), "missing_field", "ts"),
        (_raw(**{**CALL, "ts": "2026-11-20T17:00:00"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": 1795190400}), "wrong_type", "ts"),
        (_raw(**{**CALL, "ts": "yesterday"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": "2026-02-30T17:00:00+01:00"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": "2026-11-20T24:00:00Z"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": "2026-11-20T17:00:00+0100"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": "2026-11-20T17:00:00+24:00"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": " 2026-11-20T17:00:00Z"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "ts": "2026-11-20T17:00:0\u0660Z"}), "invalid_value", "ts"),
        (_raw(**{**CALL, "event_id": ""}), "invalid_value", "event_id"),
        (_raw(**{**CALL, "event_id": "x" * 201}), "invalid_value", "event_id"),
        (_raw(**{**CALL, "contract_id": 12}), "wrong_type", "contract_id"),
        (_raw(**{**CALL, "wait_s": -1}), "invalid_value", "wait_s"),
        (_raw(**{**CALL, "wait_s": "12"}), "wrong_type", "wait_s"),
        (_raw(**{**CALL, "call_id": 12}), "wrong_type", "call_id"),
        (_raw(**{**BASE, "type": "survey.response", "score": "4"}), "wrong_type", "score"),
        (
            _raw(**{**BASE, "type": "ticket.agent_reply", "ticket_id": "T", "public": 1}),
            "wrong_type",
            "public",
        ),
        (
            b'{"event_id": "e", "ts": "2026-11-20T17:00:00Z", "contract_id": "a", '
            b'"type": "call.answered", "call_id": "C", "wait_s": Infinity}',
            "invalid_value",
            "wait_s",
        ),
        (
            _raw(**{**BASE, "type": "ticket.agent_reply", "ticket_id": "T", "public": "yes"}),
            "wrong_type",
            "public",
        ),
        (
            _raw(**{**BASE, "type": "ticket.created", "ticket_id": "T", "channel": "fax"}),
            "invalid_value",
            "channel",
        ),
        (
            _raw(**{**BASE, "type": "ticket.status_changed", "ticket_id": "T", "status": "done"}),
            "invalid_value",
            "status",
        ),
        (
            _raw(**{**BASE, "type": "survey.response", "score": 4, "scale_max": 0}),
            "invalid_value",
            "scale_max",
        ),
        (_raw(**{**CALL, "attributes": {"tier": 1}}), "wrong_type", "attributes.tier"),
        (
            _raw(**{**CALL, "attributes": {f"k{i}": "v" for i in range(65)}}),
            "invalid_value",
            "attributes",
        ),
        (_raw(**{**CALL, "queue": "q" * (MAX_EVENT_BYTES + 1)}), "too_large", None),
    ],
)
def test_bad_input_gets_a_stable_reason_naming_the_field(
    raw: bytes, reason: str, field: str | None
) -> None:
    error = parse_event(raw)
    assert isinstance(error, EventError)
    assert (error.reason, error.field) == (reason, field)
    if field:
        assert error.message.startswith(f"{field}:")


@pytest.mark.parametrize(
    ("ts", "says"),
    [
        (
            "2026-02-30T17:00:00+01:00",
            "ts: '2026-02-30T17:00:00+01:00' is not a valid date and time: day is out of range",
        ),
        (
            "2026-11-20t25:00:00z",
            "ts: '2026-11-20t25:00:00z' is not a valid date and time: hour must be in 0..23",
        ),
        ("2026-11-20T17:00:00", "ts: must be an RFC 3339 timestamp with an offset"),
        ("yesterday", "ts: must be an RFC 3339 timestamp with an offset"),
    ],
)
def test_a_bad_timestamp_says_what_is_wrong(ts: str, says: str) -> None:
    error = parse_event(_raw(**{**CALL, "ts": ts}))
    assert isinstance(error, EventError)
    assert error.message.startswith(says)
    assert repr(ts) in error.message


SURVEY = {**BASE, "type": "survey.response"}
ANSWERED = {**BASE, "type": "call.answered", "call_id": "C1"}
ENDED = {**BASE, "type": "call.ended", "call_id": "C1"}


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({**ANSWERED, "wait_s": 1e306}, "wait_s", "less than or equal to 604800"),
        ({**ANSWERED, "wait_s": 604800.5}, "wait_s", "less than or equal to 604800"),
        ({**ENDED, "handle_s": 1e306}, "handle_s", "less than or equal to 604800"),
        ({**ENDED, "handle_s": -0.5}, "handle_s", "greater than or equal to 0"),
        ({**SURVEY, "score": 1e306, "scale_max": 1e307}, "score", "less than or equal to 100"),
        ({**SURVEY, "score": 4, "scale_max": 1e306}, "scale_max", "less than or equal to 100"),
        ({**SURVEY, "score": 50}, "score", "must not exceed scale_max 5 (got 50)"),
        ({**SURVEY, "score": 8, "scale_max": 7}, "score", "must not exceed scale_max 7 (got 8)"),
        ({**SURVEY, "score": -1}, "score", "greater than or equal to 0"),
    ],
)
def test_numbers_outside_their_bounds_are_invalid_values(
    fields: dict[str, object], field: str, says: str
) -> None:
    error = parse_event(_raw(**fields))

    assert isinstance(error, EventError)
    assert (error.reason, error.field) == ("invalid_value", field)
    assert says in error.message


@pytest.mark.parametrize(
    "fields",
    [
        {**ANSWERED, "wait_s": 604800},
        {**ENDED, "handle_s": 0},
        {**SURVEY, "score": 5},
        {**SURVEY, "score": 100, "scale_max": 100},
        {**SURVEY, "score": 0, "scale_max": 10},
    ],
)
def test_numbers_at_their_bounds_are_accepted(fields: dict[str, object]) -> None:
    assert isinstance(parse_event(_raw(**fields)), Event)


def test_a_huge_integer_literal_is_an_invalid_value_not_a_crash() -> None:
    raw = _raw(**ANSWERED)[:-1] + b', "wait_s": 1' + b"0" * 400 + b"}"

    error = parse_event(raw)

    assert isinstance(error, EventError)
    assert (error.reason, error.field) == ("invalid_value", "wait_s")


@pytest.mark.parametrize(
    "ts",
    [
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01t00:00:00z",
        "9000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
    ],
)
def test_event_times_outside_1970_to_9000_are_invalid_values(ts: str) -> None:
    error = parse_event(_raw(**{**CALL, "ts": ts}))

    assert isinstance(error, EventError)
    assert (error.reason, error.field) == ("invalid_value", "ts")
    assert error.message.startswith("ts: must be from 1970-01-01T00:00:00Z up to")
    assert repr(ts) in error.message


@pytest.mark.parametrize(
    "ts", ["1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00", "8999-12-31T23:59:59Z"]
)
def test_event_times_at_the_ends_of_the_range_are_accepted(ts: str) -> None:
    assert isinstance(parse_event(_raw(**{**CALL, "ts": ts})), Event)

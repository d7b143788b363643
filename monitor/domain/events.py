"""Event schema v1 and the one parse function from raw bytes.

The schema is one pydantic discriminated union of TypedDicts, validated strictly
from JSON (no intermediate model objects: the engine reads the validated dict as
is). ``parse_event`` turns raw bytes into an :class:`Event`, that dict plus the
event time as epoch seconds computed once, or into an :class:`EventError` with a
stable reason code and a message that names the field. Unknown fields are
ignored (producers may add their own); known fields are validated strictly:
timestamps are RFC 3339 with an offset, ids are bounded strings, booleans are
booleans. Optional fields are filled with their defaults, so every field of the
event's type is present in the dict.

Every number and instant is bounded here, at the edge, so that no value that
passes can overflow or stall the engine later: event times lie in
[:data:`EARLIEST_EVENT_TIME`, :data:`LATEST_EVENT_TIME`), durations in
[0, :data:`MAX_DURATION_S`], survey scales in (0, :data:`MAX_SCALE`] with
0 <= score <= scale_max. How far ahead of the wall clock an event may be is the
adapters' check (:mod:`monitor.domain.admission`): the parser never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, NotRequired

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from monitor.domain.timestamps import RFC3339, parse_datetime

MAX_EVENT_BYTES: Final = 64 * 1024
MAX_ATTRIBUTES: Final = 64

Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(max_length=200)]
#: Longest call wait or handle time accepted (7 days): anything longer is a producer bug,
#: and a bound keeps sums and means of durations finite.
MAX_DURATION_S: Final = 7 * 86400.0
#: Largest survey scale accepted (``scale_max``): 5-, 7-, 10- and 100-point scales fit.
MAX_SCALE: Final = 100.0
#: Event times accepted by the parser: from the Unix epoch to the start of year 9000.
#: Earlier instants break calendar and month arithmetic; later ones leave no room for
#: deadlines computed from them. (The wall-clock bound of the adapters is far tighter.)
EARLIEST_EVENT_TIME: Final = 0.0
LATEST_EVENT_TIME: Final = datetime(9000, 1, 1, tzinfo=UTC).timestamp()

Seconds = Annotated[float, Field(ge=0, le=MAX_DURATION_S, allow_inf_nan=False)]
Channel = Literal["email", "portal", "phone", "chat", "other"]
Priority = Literal["urgent", "high", "normal", "low"]
TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
ServiceState = Literal["up", "down", "degraded"]

CHANNELS: Final = ("email", "portal", "phone", "chat", "other")
PRIORITIES: Final = ("urgent", "high", "normal", "low")
TICKET_STATUSES: Final = ("new", "open", "pending", "on_hold", "solved", "closed")

Timestamp = Annotated[str, StringConstraints(pattern=RFC3339)]


class _Common(TypedDict):
    event_id: Id
    ts: Timestamp
    contract_id: Id
    queue: NotRequired[Annotated[Label | None, Field(default=None)]]
    attributes: NotRequired[
        Annotated[dict[Label, Label], Field(max_length=MAX_ATTRIBUTES, default_factory=dict)]
    ]


class CallOffered(_Common):
    type: Literal["call.offered"]
    call_id: Id


class CallAnswered(_Common):
    type: Literal["call.answered"]
    call_id: Id
    wait_s: NotRequired[Annotated[Seconds | None, Field(default=None)]]


class CallAbandoned(_Common):
    type: Literal["call.abandoned"]
    call_id: Id
    wait_s: NotRequired[Annotated[Seconds | None, Field(default=None)]]


class CallEnded(_Common):
    type: Literal["call.ended"]
    call_id: Id
    handle_s: NotRequired[Annotated[Seconds | None, Field(default=None)]]


class ChatEvent(_Common):
    type: Literal[
        "chat.started",
        "chat.agent_message",
        "chat.customer_message",
        "chat.ended",
        "chat.abandoned",
    ]
    chat_id: Id


class TicketCreated(_Common):
    type: Literal["ticket.created"]
    ticket_id: Id
    channel: Channel
    priority: NotRequired[Annotated[Priority, Field(default="normal")]]
    category: NotRequired[Annotated[Label | None, Field(default=None)]]


class TicketAgentReply(_Common):
    type: Literal["ticket.agent_reply"]
    ticket_id: Id
    public: NotRequired[Annotated[bool, Field(default=True)]]


class TicketCustomerReply(_Common):
    type: Literal["ticket.customer_reply"]
    ticket_id: Id


class TicketReopened(_Common):
    type: Literal["ticket.reopened"]
    ticket_id: Id


class TicketStatusChanged(_Common):
    type: Literal["ticket.status_changed"]
    ticket_id: Id
    status: TicketStatus


class TicketPriorityChanged(_Common):
    type: Literal["ticket.priority_changed"]
    ticket_id: Id
    priority: Priority


class SurveyResponse(_Common):
    type: Literal["survey.response"]
    score: Annotated[float, Field(ge=0, le=MAX_SCALE, allow_inf_nan=False)]
    scale_max: NotRequired[
        Annotated[float, Field(gt=0, le=MAX_SCALE, allow_inf_nan=False, default=5.0)]
    ]
    ref: NotRequired[Annotated[Id | None, Field(default=None)]]


class ServiceStatus(_Common):
    type: Literal["service.status"]
    service: Id
    status: ServiceState


EventFields = Annotated[
    CallOffered
    | CallAnswered
    | CallAbandoned
    | CallEnded
    | ChatEvent
    | TicketCreated
    | TicketAgentReply
    | TicketCustomerReply
    | TicketReopened
    | TicketStatusChanged
    | TicketPriorityChanged
    | SurveyResponse
    | ServiceStatus,
    Field(discriminator="type"),
]
"""The validated fields of one event, as pydantic returns them: a plain dict."""

EVENT_TYPES: Final = (
    "call.offered",
    "call.answered",
    "call.abandoned",
    "call.ended",
    "chat.started",
    "chat.agent_message",
    "chat.customer_message",
    "chat.ended",
    "chat.abandoned",
    "ticket.created",
    "ticket.agent_reply",
    "ticket.customer_reply",
    "ticket.reopened",
    "ticket.status_changed",
    "ticket.priority_changed",
    "survey.response",
    "service.status",
)

Fields = dict[str, Any]
"""An event as the engine reads it: the validated fields by name, defaults filled in."""

_CONFIG: Final = ConfigDict(strict=True, extra="ignore")
_VALIDATE_JSON: Final = TypeAdapter(EventFields, config=_CONFIG).validator.validate_json


class Event:
    """One valid event: its fields as validated, and its event time as epoch seconds.

    ``fields`` is the dict pydantic built (the engine reads it as is, never copies
    it); ``epoch`` is computed once, at parse time. ``ts`` builds the aware datetime
    with the event's own offset only when asked (logs, tests).
    """

    __slots__ = ("epoch", "fields")

    def __init__(self, fields: Fields, epoch: float) -> None:
        self.fields = fields
        self.epoch = epoch

    @property
    def type(self) -> str:
        return self.fields["type"]  # type: ignore[no-any-return]

    @property
    def event_id(self) -> str:
        return self.fields["event_id"]  # type: ignore[no-any-return]

    @property
    def contract_id(self) -> str:
        return self.fields["contract_id"]  # type: ignore[no-any-return]

    @property
    def ts(self) -> datetime:
        return parse_datetime(self.fields["ts"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Event({self.fields!r})"


#: The fast path of :func:`parse_event`: most timestamps are what fromisoformat reads.
#: Anything else goes through the one RFC 3339 parser, :mod:`monitor.domain.timestamps`.
_FROMISOFORMAT: Final = datetime.fromisoformat


# Stable reason codes: they are metric label values and dead-letter fields.
INVALID_ENCODING: Final = "invalid_encoding"
INVALID_JSON: Final = "invalid_json"
NOT_OBJECT: Final = "not_object"
MISSING_FIELD: Final = "missing_field"
UNKNOWN_TYPE: Final = "unknown_type"
WRONG_TYPE: Final = "wrong_type"
INVALID_VALUE: Final = "invalid_value"
TOO_LARGE: Final = "too_large"
REASONS: Final = (
    INVALID_ENCODING,
    INVALID_JSON,
    NOT_OBJECT,
    MISSING_FIELD,
    UNKNOWN_TYPE,
    WRONG_TYPE,
    INVALID_VALUE,
    TOO_LARGE,
)


@dataclass(frozen=True, slots=True)
class EventError:
    """Why raw input is not a valid event: a stable ``reason`` code and a message."""

    reason: str
    message: str
    field: str | None = None


_WRONG_TYPE_ERRORS: Final = frozenset(
    {"string_type", "float_type", "int_type", "bool_type", "dict_type", "none_required"}
)


def parse_event(raw: bytes | str) -> Event | EventError:
    """Decode one message value into an event, or say precisely why not."""
    if len(raw) > MAX_EVENT_BYTES:
        return EventError(TOO_LARGE, f"event is {len(raw)} bytes, the limit is {MAX_EVENT_BYTES}")
    try:
        fields: Fields = _VALIDATE_JSON(raw)  # the JSON parser rejects bytes that are not UTF-8
    except ValidationError as exc:
        return _explain(exc, raw)
    try:
        epoch = _FROMISOFORMAT(fields["ts"]).timestamp()
    except (ValueError, OverflowError):  # rare: a lower-case t or z, or a bad date or time
        return _event_or_bad_time(fields)
    if not EARLIEST_EVENT_TIME <= epoch < LATEST_EVENT_TIME:
        return _time_outside_range(fields["ts"])
    if "score" in fields and fields["score"] > fields["scale_max"]:
        return _score_above_scale(fields)
    return Event(fields, epoch)


def _event_or_bad_time(fields: Fields) -> Event | EventError:
    ts = fields["ts"]
    try:
        epoch = parse_datetime(ts).timestamp()
    except (ValueError, OverflowError) as exc:  # the syntax is checked: a bad date or time
        return EventError(INVALID_VALUE, f"ts: {_clip_message(exc)}", "ts")
    if not EARLIEST_EVENT_TIME <= epoch < LATEST_EVENT_TIME:
        return _time_outside_range(ts)
    return Event(fields, epoch)


def _time_outside_range(ts: str) -> EventError:
    return EventError(
        INVALID_VALUE,
        f"ts: must be from 1970-01-01T00:00:00Z up to (not including) 9000-01-01T00:00:00Z"
        f" (got {_clip(ts)})",
        "ts",
    )


def _score_above_scale(fields: Fields) -> EventError:
    return EventError(
        INVALID_VALUE,
        f"score: must not exceed scale_max {fields['scale_max']:g} (got {fields['score']:g})",
        "score",
    )


_TS_EXPECTED: Final = "must be an RFC 3339 timestamp with an offset, like 2026-11-20T17:00:00+01:00"


def _explain(exc: ValidationError, raw: bytes | str) -> EventError:
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    loc = error["loc"]
    field = ".".join(str(part) for part in _field_path(loc)) or None
    message = error["msg"]
    if kind == "json_invalid":
        return _not_utf8(raw) or EventError(
            INVALID_JSON, f"not JSON: {error['ctx'].get('error', message)}"
        )
    if kind == "dict_type" and not field:
        return EventError(NOT_OBJECT, "an event must be a JSON object")
    if kind == "union_tag_not_found":
        return EventError(MISSING_FIELD, "type: field required", "type")
    if kind == "union_tag_invalid":
        given = error["input"].get("type") if isinstance(error["input"], dict) else None
        if not isinstance(given, str):
            return EventError(WRONG_TYPE, f"type: must be a string (got {given!r})", "type")
        return EventError(UNKNOWN_TYPE, f"type: unknown event type {given[:60]!r}", "type")
    if kind == "missing":
        return EventError(MISSING_FIELD, f"{field}: field required", field)
    if kind == "string_pattern_mismatch" and field == "ts":
        return EventError(INVALID_VALUE, f"ts: {_TS_EXPECTED} (got {_short(error)})", field)
    if kind in _WRONG_TYPE_ERRORS:
        return EventError(WRONG_TYPE, f"{field}: {message} (got {_short(error)})", field)
    return EventError(INVALID_VALUE, f"{field}: {message} (got {_short(error)})", field)


def _not_utf8(raw: bytes | str) -> EventError | None:
    if isinstance(raw, str) or raw.isascii():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EventError(INVALID_ENCODING, f"not UTF-8: {exc.reason} at byte {exc.start}")
    return None


def _field_path(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the discriminator tag pydantic puts first in a tagged union's error path."""
    if loc and isinstance(loc[0], str) and loc[0] in EVENT_TYPES:
        return loc[1:]
    return loc


def _short(error: Any) -> str:
    return _clip(error.get("input"))


def _clip_message(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "CHANNELS",
    "EARLIEST_EVENT_TIME",
    "EVENT_TYPES",
    "LATEST_EVENT_TIME",
    "MAX_DURATION_S",
    "MAX_EVENT_BYTES",
    "MAX_SCALE",
    "PRIORITIES",
    "REASONS",
    "TICKET_STATUSES",
    "CallAbandoned",
    "CallAnswered",
    "CallEnded",
    "CallOffered",
    "ChatEvent",
    "Event",
    "EventError",
    "EventFields",
    "Fields",
    "ServiceStatus",
    "SurveyResponse",
    "TicketAgentReply",
    "TicketCreated",
    "TicketCustomerReply",
    "TicketPriorityChanged",
    "TicketReopened",
    "TicketStatusChanged",
    "parse_event",
]

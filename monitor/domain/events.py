"""Event schema v1 (DESIGN.md section 2) and the one parse function from raw bytes.

Every event type is a frozen pydantic model; ``parse_event`` turns raw bytes into
one of them or into an :class:`EventError` with a stable reason code and a message
that names the field. Unknown fields are ignored (producers may add their own);
known fields are validated strictly: timestamps must carry an offset, ids are
bounded strings, durations are finite and non-negative, booleans are booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

MAX_EVENT_BYTES: Final = 64 * 1024
MAX_ATTRIBUTES: Final = 64

Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(max_length=200)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Channel = Literal["email", "portal", "phone", "chat", "other"]
Priority = Literal["urgent", "high", "normal", "low"]
TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
ServiceState = Literal["up", "down", "degraded"]

CHANNELS: Final = ("email", "portal", "phone", "chat", "other")
PRIORITIES: Final = ("urgent", "high", "normal", "low")
TICKET_STATUSES: Final = ("new", "open", "pending", "on_hold", "solved", "closed")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    event_id: Id
    ts: AwareDatetime
    contract_id: Id
    queue: Label | None = None
    attributes: Annotated[dict[Label, Label], Field(max_length=MAX_ATTRIBUTES)] = Field(
        default_factory=dict
    )

    @property
    def epoch(self) -> float:
        """Event time as epoch seconds (UTC)."""
        return self.ts.timestamp()


class CallOffered(_Event):
    type: Literal["call.offered"]
    call_id: Id


class CallAnswered(_Event):
    type: Literal["call.answered"]
    call_id: Id
    wait_s: Seconds | None = None


class CallAbandoned(_Event):
    type: Literal["call.abandoned"]
    call_id: Id
    wait_s: Seconds | None = None


class CallEnded(_Event):
    type: Literal["call.ended"]
    call_id: Id
    handle_s: Seconds | None = None


class ChatEvent(_Event):
    type: Literal[
        "chat.started",
        "chat.agent_message",
        "chat.customer_message",
        "chat.ended",
        "chat.abandoned",
    ]
    chat_id: Id


class TicketCreated(_Event):
    type: Literal["ticket.created"]
    ticket_id: Id
    channel: Channel
    priority: Priority = "normal"
    category: Label | None = None


class TicketAgentReply(_Event):
    type: Literal["ticket.agent_reply"]
    ticket_id: Id
    public: bool = True


class TicketCustomerReply(_Event):
    type: Literal["ticket.customer_reply"]
    ticket_id: Id


class TicketReopened(_Event):
    type: Literal["ticket.reopened"]
    ticket_id: Id


class TicketStatusChanged(_Event):
    type: Literal["ticket.status_changed"]
    ticket_id: Id
    status: TicketStatus


class TicketPriorityChanged(_Event):
    type: Literal["ticket.priority_changed"]
    ticket_id: Id
    priority: Priority


class SurveyResponse(_Event):
    type: Literal["survey.response"]
    score: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    scale_max: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 5.0
    ref: Id | None = None


class ServiceStatus(_Event):
    type: Literal["service.status"]
    service: Id
    status: ServiceState


Event = Annotated[
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
"""An event as the engine reads it: the model's fields by name (``event.__dict__``)."""

_EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)
_VALIDATE_JSON: Final = _EVENT_ADAPTER.validator.validate_json  # skips the adapter's wrapper

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
    {
        "string_type",
        "float_type",
        "int_type",
        "bool_type",
        "dict_type",
        "datetime_type",
        "float_parsing",
        "int_parsing",
        "bool_parsing",
        "model_attributes_type",
        "model_type",
        "none_required",
        "is_instance_of",
    }
)


def parse_event(raw: bytes | str) -> Event | EventError:
    """Decode one message value into an event, or say precisely why not."""
    if len(raw) > MAX_EVENT_BYTES:
        return EventError(TOO_LARGE, f"event is {len(raw)} bytes, the limit is {MAX_EVENT_BYTES}")
    if isinstance(raw, bytes) and not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return EventError(INVALID_ENCODING, f"not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        return _VALIDATE_JSON(raw)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _explain(exc)


def _explain(exc: ValidationError) -> EventError:
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    loc = error["loc"]
    field = ".".join(str(part) for part in _field_path(loc)) or None
    message = error["msg"]
    if kind == "json_invalid":
        return EventError(INVALID_JSON, f"not JSON: {error['ctx'].get('error', message)}")
    if kind in ("model_attributes_type", "model_type", "dict_type") and not field:
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
    if kind in _WRONG_TYPE_ERRORS:
        return EventError(WRONG_TYPE, f"{field}: {message} (got {_short(error)})", field)
    return EventError(INVALID_VALUE, f"{field}: {message} (got {_short(error)})", field)


def _field_path(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the discriminator tag pydantic puts first in a tagged union's error path."""
    if loc and isinstance(loc[0], str) and loc[0] in EVENT_TYPES:
        return loc[1:]
    return loc


def _short(error: Any) -> str:
    text = repr(error.get("input"))
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "CHANNELS",
    "EVENT_TYPES",
    "MAX_EVENT_BYTES",
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

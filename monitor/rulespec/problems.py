"""Turn pydantic validation errors into located problems (``file:line: field: message``).

A pydantic ``loc`` such as ``("objectives", 3, "service_level", "threshold")``
holds union tags and ``[key]`` markers that are not in the file; we drop them,
then look the remaining path up in the YAML line table, falling back to the
nearest parent that is in the file (a missing field is reported at its parent).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from datetime import date
from functools import cache
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from monitor.domain.errors import Problem
from monitor.rulespec import v1
from monitor.rulespec.yamldoc import Document, YamlPath

MAX_MESSAGE_CHARS: Final = 240
"""A message quotes the value it is about; a 5,000-digit one is cut, not echoed."""
_LONG_WORD: Final = re.compile(r"\S{48,}")
_VALUE_ERROR_PREFIXES: Final = ("Value error, ", "Assertion failed, ")
_EXPECTED: Final = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
}


def format_path(path: YamlPath) -> str:
    """``("objectives", 3, "target")`` → ``objectives[3].target``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(document)"


def problems_from(error: ValidationError, document: Document, filename: str) -> list[Problem]:
    return [_problem(detail, document, filename) for detail in error.errors(include_url=False)]


def _problem(detail: ErrorDetails, document: Document, filename: str) -> Problem:
    path = _path_in_file(detail["loc"], document.data)
    if detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path = (*path, "kind")
    return Problem(filename, document.line_of(path), format_path(path), shorten(_message(detail)))


def shorten(message: str) -> str:
    """Cut long words (a quoted 5,000-digit value) in the middle, keep the rest of the message."""
    message = _LONG_WORD.sub(lambda found: f"{found[0][:24]}…{found[0][-8:]}", message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return message


def _path_in_file(loc: Iterable[str | int], data: Any) -> YamlPath:
    path: list[str | int] = []
    node = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, dict):
            if part not in node and part == node.get("kind"):
                continue
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        path.append(part)
    return tuple(path)


def _message(detail: ErrorDetails) -> str:
    kind, message, ctx = detail["type"], detail["msg"], detail.get("ctx", {})
    for prefix in _VALUE_ERROR_PREFIXES:
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(detail["loc"][-1])
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx['tag']!r}; expected one of {ctx['expected_tags']}"
    if kind == "union_tag_not_found":
        return "required field is missing; every objective names its kind"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe(detail['input'])}"
    if kind == "literal_error":
        return f"got {detail['input']!r}; expected {ctx['expected']}"
    message = message[0].lower() + message[1:]
    if isinstance(detail["input"], str | int | float | bool | date | None):
        message += f", got {detail['input']!r}"
    return message


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _unknown_field(name: str | int) -> str:
    close = difflib.get_close_matches(str(name), _all_field_names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {name!r}{hint}"


@cache
def _all_field_names() -> tuple[str, ...]:
    return tuple(sorted({name for model in _spec_models() for name in _names(model)}))


def _names(model: type[BaseModel]) -> Iterator[str]:
    for name, info in model.model_fields.items():
        yield info.alias or name


def _spec_models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(v1).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == v1.__name__
    ]

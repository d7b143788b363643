"""Reject hostile YAML before it is built: bounded time and memory, every problem located.

``YAML.load`` builds the whole tree before we can look at it, and a 400-byte
"billion laughs" file (anchors of anchors) expands to gigabytes there or in the
copy that follows. So we first walk the parser's event stream, which costs time
and memory linear in the text, and stop at the first structural limit: too many
values, aliases or nesting levels. On the way we reject what the loader would
turn into a traceback or a silent surprise: tags other than
the YAML core ones (``!!python/...``, ``!custom``), aliases inside their own
anchor (a loop), numbers too long to be meant, and unquoted dates that do not
exist (``2026-02-30``). Merge keys (``<<: *defaults``) stay allowed: their
aliases count in full like any other. Every problem
carries the line and field path of the value it is about. The limits are
documented in docs/agreements.md ("Limits").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, NamedTuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.nodes import ScalarNode

YamlPath = tuple[str | int, ...]

MAX_FILE_BYTES: Final = 1024 * 1024
"""An agreement is a few kilobytes; a megabyte leaves room for very long ones."""
MAX_VALUES: Final = 20_000
"""Keys, values and list items in the file, counting each use of an alias in full."""
MAX_ALIASES: Final = 100
MAX_DEPTH: Final = 32
MAX_NUMBER_CHARS: Final = 32
MAX_PROBLEMS: Final = 20
"""A file full of bad tags reports the first ones, not thousands of lines."""

_CORE_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_NUMBER_TAGS: Final = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_CHECKED_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null")
)
"""An explicit ``!!int abc`` would make ruamel raise while building: check it first."""
_FITS: Final = {tag: {tag} for tag in _CHECKED_TAGS} | {
    "tag:yaml.org,2002:float": set(_NUMBER_TAGS)
}
_DATE_PART: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UNKNOWN_KEY: Final = "?"


class Issue(NamedTuple):
    """One located problem: 1-based line, field path, message."""

    line: int
    path: YamlPath
    message: str


class RejectedYamlError(Exception):
    """The text breaks a limit or uses a YAML feature agreement files do not allow."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(issues[0].message)
        self.issues = issues


@dataclass
class _Frame:
    """An open mapping or sequence while walking the events."""

    path: YamlPath
    is_mapping: bool
    next_index: int = 0
    key: str | int = _UNKNOWN_KEY
    awaiting_key: bool = True
    anchor: str | None = None
    values_before: int = 0
    depth: int = 1
    deepest: int = 1


class _Walk:
    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.values = 0
        self.aliases = 0
        self.anchored: dict[str, tuple[int, int]] = {}
        """Values and levels under each anchor, so an alias counts as what it expands to."""
        self.issues: list[Issue] = []
        self._resolver: Any = YAML(typ="rt").resolver

    def position(self) -> tuple[YamlPath, bool]:
        """The path of the node about to start, and whether it is a mapping key."""
        if not self.stack:
            return (), False
        top = self.stack[-1]
        if top.is_mapping:
            return (top.path, True) if top.awaiting_key else ((*top.path, top.key), False)
        return (*top.path, top.next_index), False

    def node_done(self, key: str | int) -> None:
        if not self.stack:
            return
        top = self.stack[-1]
        if not top.is_mapping:
            top.next_index += 1
        elif top.awaiting_key:
            top.key, top.awaiting_key = key, False
        else:
            top.awaiting_key = True

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            height = frame.deepest - frame.depth + 1
            self.anchored[frame.anchor] = (self.values - frame.values_before, height)
        if self.stack:
            self.stack[-1].deepest = max(self.stack[-1].deepest, frame.deepest)
        self.node_done(_UNKNOWN_KEY)

    def add(self, line: int, path: YamlPath, message: str) -> None:
        if len(self.issues) < MAX_PROBLEMS:
            self.issues.append(Issue(line, path, message))

    def stop(self, line: int, path: YamlPath, message: str) -> RejectedYamlError:
        return RejectedYamlError([*self.issues, Issue(line, path, message)])

    def scalar_kind(self, value: str) -> str:
        return str(self._resolver.resolve(ScalarNode, value, (True, False)))


def check_text(text: str) -> None:
    """Raise :class:`RejectedYamlError` with every problem found (not syntax errors)."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise RejectedYamlError(
            [Issue(1, (), f"the file has {size} bytes; at most {MAX_FILE_BYTES} are allowed")]
        )
    walk = _Walk()
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, NodeEvent):
                _node(walk, event)
            elif isinstance(event, CollectionEndEvent):
                walk.close()
    except YAMLError:
        pass  # the loader reports it, with its line, when it parses the same text
    if walk.issues:
        raise RejectedYamlError(walk.issues)


def _node(walk: _Walk, event: NodeEvent) -> None:
    line = event.start_mark.line + 1
    path, is_key = walk.position()
    walk.values += 1
    if walk.values > MAX_VALUES:
        raise walk.stop(
            line, path, f"more than {MAX_VALUES} keys, values and items (aliases count in full)"
        )
    if isinstance(event, AliasEvent):
        walk.aliases += 1
        if walk.aliases > MAX_ALIASES:
            raise walk.stop(line, path, f"more than {MAX_ALIASES} aliases (*name)")
        _alias(walk, str(event.anchor), line, path)
        return
    _check_tag(walk, event, line, path)
    if isinstance(event, CollectionStartEvent):
        depth = len(walk.stack) + 1
        if depth > MAX_DEPTH:
            raise walk.stop(line, path, f"nested more than {MAX_DEPTH} levels deep")
        own_path = (*path, _UNKNOWN_KEY) if is_key else path
        anchor = None if event.anchor is None else str(event.anchor)
        is_mapping = isinstance(event, MappingStartEvent)
        frame = _Frame(
            own_path,
            is_mapping,
            anchor=anchor,
            values_before=walk.values,
            depth=depth,
            deepest=depth,
        )
        walk.stack.append(frame)
        return
    assert isinstance(event, ScalarEvent)
    value = str(event.value)
    tag = None if event.tag is None else str(getattr(event.tag, "value", event.tag))
    where = (*path, value) if is_key else path
    if tag in _CHECKED_TAGS and walk.scalar_kind(value) not in _FITS[tag]:
        walk.add(line, where, f"{value!r} is not a valid {_short_tag(tag)}")
    elif tag is not None or event.style is None:
        _check_scalar(walk, tag or walk.scalar_kind(value), value, line, where)
    walk.node_done(value if is_key else _UNKNOWN_KEY)


def _alias(walk: _Walk, anchor: str, line: int, path: YamlPath) -> None:
    """Count an alias as the values and levels it expands to; refuse one inside itself."""
    if any(frame.anchor == anchor for frame in walk.stack):
        raise walk.stop(line, path, f"alias *{anchor} is inside its own anchor (a loop)")
    values, height = walk.anchored.get(anchor, (0, 0))
    walk.values += values
    if walk.values > MAX_VALUES:
        raise walk.stop(
            line, path, f"more than {MAX_VALUES} keys, values and items (aliases count in full)"
        )
    reach = len(walk.stack) + height
    if reach > MAX_DEPTH:
        raise walk.stop(line, path, f"nested more than {MAX_DEPTH} levels deep (through aliases)")
    if walk.stack:
        walk.stack[-1].deepest = max(walk.stack[-1].deepest, reach)
    walk.node_done(_UNKNOWN_KEY)


def _check_tag(walk: _Walk, event: NodeEvent, line: int, path: YamlPath) -> None:
    tag = getattr(event, "tag", None)
    if tag is None or str(tag) == "!":
        return
    name = str(getattr(tag, "value", tag))
    if name not in _CORE_TAGS:
        walk.add(line, path, f"YAML tag {_short_tag(name)} is not allowed; write plain values")


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _check_scalar(walk: _Walk, kind: str, value: str, line: int, path: YamlPath) -> None:
    """Numbers (plain, or tagged ``!!int``/``!!float``) and plain dates ruamel would build."""
    if kind in _NUMBER_TAGS and len(value) > MAX_NUMBER_CHARS:
        walk.add(line, path, f"a number of {len(value)} characters; at most {MAX_NUMBER_CHARS}")
    elif kind == _TIMESTAMP_TAG and (message := _bad_date(value)) is not None:
        walk.add(line, path, message)


def _bad_date(value: str) -> str | None:
    found = _DATE_PART.match(value)
    if found is None:
        return f"{value!r} is not a valid date; write dates like 2026-12-24"
    try:
        date(*(int(part) for part in found.groups()))
    except ValueError as error:
        return f"{value!r} is not a valid date: {error}"
    if found.end() != len(value):
        return f"{value!r}: a date and time is not allowed here; write dates like 2026-12-24"
    return None

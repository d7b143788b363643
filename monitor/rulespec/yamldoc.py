"""Parse an agreement file into plain data plus the line of every key and item.

The ruamel.yaml round-trip loader keeps the position of each mapping key and
sequence item (block and flow style alike). We copy the tree into plain Python
values (so pydantic sees ordinary dicts, lists, str, int, float, bool, date) and
keep a side table from each path, such as ``("objectives", 3, "target")``, to
its 1-based line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

YamlPath = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """The text is not YAML; carries the 1-based line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Document:
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int:
        """Line of ``path``, else of its nearest ancestor that has one, else 1."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


def parse_yaml(text: str) -> Document:
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "invalid YAML"
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from None
    except YAMLError as error:
        raise YamlSyntaxError(1, f"YAML syntax error: {error}") from None
    lines: dict[YamlPath, int] = {}
    return Document(_plain(root, (), lines), lines)


def _plain(node: Any, path: YamlPath, lines: dict[YamlPath, int]) -> Any:
    if isinstance(node, CommentedMap):
        result = {}
        for key, value in node.items():
            plain_key = _plain_scalar(key)
            position = node.lc.data.get(key)  # None for keys merged in with "<<: *anchor"
            lines[(*path, plain_key)] = position[0] + 1 if position else lines.get(path, 1)
            result[plain_key] = _plain(value, (*path, plain_key), lines)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            lines[(*path, index)] = node.lc.item(index)[0] + 1
            items.append(_plain(value, (*path, index), lines))
        return items
    return _plain_scalar(node)


def _plain_scalar(value: Any) -> Any:
    """ruamel's ScalarFloat, ScalarInt, tagged and styled strings as the builtin types."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, TaggedScalar):
        return value.value
    for builtin in (str, int, float):
        if isinstance(value, builtin):
            return builtin(value)
    return value

"""Parse an agreement file into plain data plus the line of every key and item.

The ruamel.yaml round-trip loader keeps the position of each mapping key and
sequence item (block and flow style alike). We copy the tree into plain Python
values (so pydantic sees ordinary dicts, lists, str, int, float, bool, date) and
keep a side table from each path, such as ``("objectives", 3, "target")``, to
its 1-based line. Call ``yamlguard.check_text`` first: it bounds what this
module builds. The copy counts the values it makes and stops at the same limit,
so an alias used many times cannot blow up here either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitor.rulespec.yamlguard import MAX_VALUES

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
    except Exception as error:
        # A value ruamel cannot build that yamlguard did not foresee: still a located problem.
        raise YamlSyntaxError(1, f"YAML value error: {type(error).__name__}: {error}") from None
    lines: dict[YamlPath, int] = {}
    return Document(_Copy(lines).plain(root, ()), lines)


class _Copy:
    """Copies the ruamel tree into builtins, at most ``MAX_VALUES`` values in all."""

    def __init__(self, lines: dict[YamlPath, int]) -> None:
        self.lines = lines
        self.values = 0

    def plain(self, node: Any, path: YamlPath) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            line = self.lines.get(path, 1)
            message = f"more than {MAX_VALUES} keys, values and items (aliases count in full)"
            raise YamlSyntaxError(line, message)
        if isinstance(node, CommentedMap):
            result = {}
            for key, value in node.items():
                plain_key = _plain_scalar(key)
                line = _line(node.lc.data, key) or self.lines.get(path, 1)
                self.lines[(*path, plain_key)] = line
                result[plain_key] = self.plain(value, (*path, plain_key))
            return result
        if isinstance(node, CommentedSeq):
            items = []
            for index, value in enumerate(node):
                self.lines[(*path, index)] = _line(node.lc.data, index) or self.lines.get(path, 1)
                items.append(self.plain(value, (*path, index)))
            return items
        return _plain_scalar(node)


def _line(positions: Any, key: Any) -> int | None:
    """The 1-based line ruamel kept for a key or index; None for merged keys and the like."""
    try:
        position = positions[key]
    except (KeyError, IndexError, TypeError):
        return None
    return int(position[0]) + 1 if position else None


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

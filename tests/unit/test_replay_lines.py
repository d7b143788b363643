"""``replay`` over raw lines: blank lines are skipped, bad ones counted by their number."""

from __future__ import annotations

from monitor.replay import replay
from tests.support import agreement


def test_blank_lines_are_skipped_and_bad_lines_keep_their_number() -> None:
    lines = [b"", b" \t", b"{not json", b"\r", b"[]"]

    result = replay(lines, [agreement()])

    assert result.invalid_count == 2
    assert [(bad.line, bad.reason) for bad in result.invalid] == [
        (3, "invalid_json"),
        (5, "not_object"),
    ]
    assert result.engine.counters.total == 0

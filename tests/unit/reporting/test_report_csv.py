"""The report's CSV files never hand a spreadsheet a formula from event data (OWASP)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

RULES = """\
version: slamon/v1
contract: acme
title: Acme
objectives:
  - {id: email-first-response, kind: first_response, match: {channel: email}, within: 1h}
"""

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _breaches_csv(tmp_path: Path, ticket_ids: list[str], queue: str) -> list[dict[str, str]]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(RULES, encoding="utf-8")
    lines = [
        json.dumps(
            {
                "event_id": f"e{n}",
                "type": "ticket.created",
                "ts": "2026-10-10T10:00:00Z",
                "contract_id": "acme",
                "ticket_id": ticket_id,
                "channel": "email",
                "queue": queue,
            }
        )
        for n, ticket_id in enumerate(ticket_ids)
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    arguments = ["report", str(events), "--rules", str(rules), "--period", "2026-10"]
    arguments += ["--until", "2026-11-01T00:00:00Z"]

    result = CliRunner().invoke(app, [*arguments, "--out", str(out)])

    assert result.exit_code == 0, result.output
    with (out / "acme-2026-10-breaches.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_cells_that_start_like_a_formula_are_written_as_text(tmp_path: Path) -> None:
    rows = _breaches_csv(tmp_path, HOSTILE, queue="=1+2")

    assert sorted(row["item_id"] for row in rows) == sorted("'" + text for text in HOSTILE)
    assert {row["queue"] for row in rows} == {"'=1+2"}


@pytest.mark.parametrize("text", ["T-1", "1+1", "a=b", " =1", "'already"])
def test_other_cells_are_written_as_they_are(tmp_path: Path, text: str) -> None:
    rows = _breaches_csv(tmp_path, [text], queue="billing")

    assert [(row["item_id"], row["queue"]) for row in rows] == [(text, "billing")]

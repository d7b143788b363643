"""`slamon replay` end to end on a small file: alerts JSONL, report JSON, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app

RULES = """\
version: slamon/v1
contract: acme
title: Acme
objectives:
  - {id: email-first-response, kind: first_response, match: {channel: email}, within: 1h}
  - {id: asa, kind: average_speed_of_answer, target: "<= 30s", window: 30m}
"""


def _line(**fields: object) -> str:
    return json.dumps({"contract_id": "acme"} | fields)


def test_replay_writes_alerts_and_the_report_and_lists_bad_lines(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(RULES, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(
            [
                _line(
                    event_id="1",
                    type="ticket.created",
                    ts="2026-11-20T10:00:00Z",
                    ticket_id="T1",
                    channel="email",
                ),
                "{not json",
                _line(
                    event_id="2",
                    type="ticket.created",
                    ts="2026-11-20T10:00:00Z",
                    ticket_id="T2",
                    channel="email",
                ),
                _line(
                    event_id="3",
                    type="ticket.agent_reply",
                    ts="2026-11-20T10:30:00Z",
                    ticket_id="T2",
                ),
                _line(
                    event_id="3",
                    type="ticket.agent_reply",
                    ts="2026-11-20T10:30:00Z",
                    ticket_id="T2",
                ),
                _line(event_id="4", type="call.bogus", ts="2026-11-20T10:30:00Z"),
                json.dumps(
                    {
                        "event_id": "5",
                        "type": "survey.response",
                        "score": 5,
                        "ts": "2026-11-20T10:30:00Z",
                        "contract_id": "nobody",
                    }
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    alerts, report = tmp_path / "alerts.jsonl", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "replay",
            str(events),
            "--rules",
            str(rules),
            "--alerts",
            str(alerts),
            "--report",
            str(report),
            "--until",
            "2026-11-20T12:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert [
        (a["objective_id"], a["state"], a["subject"]["id"], a["event_time"]) for a in written
    ] == [
        # the default warn_at is 75 %: at risk at 10:45, breached at the 11:00 deadline
        ("email-first-response", "at_risk", "T1", "2026-11-20T10:45:00Z"),
        ("email-first-response", "breached", "T1", "2026-11-20T11:00:00Z"),
    ]
    summary = json.loads(report.read_text())
    objective = summary["contracts"]["acme"]["objectives"]["email-first-response"]
    assert objective == {
        "kind": "first_response",
        "value": 0.5,
        "target": 1.0,
        "comparator": ">=",
        "met": False,
        "samples": 2,
        "breaches": 1,
    }
    assert summary["contracts"]["acme"]["objectives"]["asa"]["value"] is None
    assert summary["events"]["total"] == 7
    assert summary["events"]["invalid"] == 2
    assert summary["events"]["duplicates"] == 1
    assert summary["events"]["unknown_contract"] == 1
    assert [(bad["line"], bad["reason"]) for bad in summary["invalid_lines"]] == [
        (2, "invalid_json"),
        (6, "unknown_type"),
    ]


def test_replay_without_until_leaves_clocks_due_after_the_last_event_open(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(RULES, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        _line(
            event_id="1",
            type="ticket.created",
            ts="2026-11-20T10:00:00Z",
            ticket_id="T1",
            channel="email",
        )
        + "\n",
        encoding="utf-8",
    )
    alerts = tmp_path / "alerts.jsonl"
    result = CliRunner().invoke(
        app, ["replay", str(events), "--rules", str(rules), "--alerts", str(alerts)]
    )
    assert result.exit_code == 0, result.output
    assert alerts.read_text() == ""


def test_replay_refuses_invalid_agreements_with_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("version: slamon/v9\ncontract: x\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(events), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "bad.yaml:1" in result.output

"""`slamon report` on a small hand-made month: breaches, outages, credits, JSON = CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app

RULES = """\
version: slamon/v1
contract: acme
title: Acme
objectives:
  - {id: email-first-response, kind: first_response, match: {channel: email}, within: 4h,
     target: ">= 90%", period: month}
  - {id: phone-sl, kind: service_level, threshold: 20s, target: ">= 80%", window: 30m}
  - {id: availability, kind: availability, service: core, target: ">= 99.5%", period: month}
credits:
  - {objective: email-first-response, percent_of_fee: 5, clause: "9.1 late replies"}
  - {objective: availability, percent_of_fee: 10, clause: "9.2 downtime"}
"""


def _event(n: int, type_: str, ts: str, **fields: object) -> str:
    body = {"event_id": f"e{n}", "type": type_, "ts": ts, "contract_id": "acme"}
    return json.dumps(body | fields)


EVENTS = [
    _event(1, "service.status", "2026-10-01T00:00:00Z", service="core", status="up"),
    # T1 met; T2 answered 2.5 h late; T4 never answered (open at the end of data)
    _event(2, "ticket.created", "2026-10-10T10:00:00Z", ticket_id="T1", channel="email"),
    _event(3, "ticket.agent_reply", "2026-10-10T11:00:00Z", ticket_id="T1"),
    _event(
        4,
        "ticket.created",
        "2026-10-10T10:00:00Z",
        ticket_id="T2",
        channel="email",
        queue="billing",
    ),
    _event(5, "ticket.agent_reply", "2026-10-10T16:30:00Z", ticket_id="T2"),
    # calls at 10:xx on 2026-10-12: 3 within 20 s of 4 offered
    *[
        line
        for n, wait in enumerate((5, 10, 15, 60))
        for line in (
            _event(10 + 2 * n, "call.offered", f"2026-10-12T10:0{n}:00Z", call_id=f"C{n}"),
            _event(
                11 + 2 * n, "call.answered", f"2026-10-12T10:0{n}:30Z", call_id=f"C{n}", wait_s=wait
            ),
        )
    ],
    # a 6 h outage: 21600 s of 2678400 s in October is 99.19 %, below 99.5 %
    _event(20, "service.status", "2026-10-20T08:00:00Z", service="core", status="down"),
    _event(21, "service.status", "2026-10-20T14:00:00Z", service="core", status="up"),
    _event(
        22,
        "ticket.created",
        "2026-10-31T12:00:00Z",
        ticket_id="T4",
        channel="email",
        queue="billing",
    ),
    _event(23, "service.status", "2026-11-01T00:02:00Z", service="core", status="up"),
]


def _report(tmp_path: Path, rules_text: str = RULES) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(rules_text, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(EVENTS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            *("report", str(events), "--rules", str(rules), "--contract", "acme"),
            *("--period", "2026-10", "--out", str(out), "--monthly-fee", "1000"),
            *("--currency", "EUR"),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_report_writes_json_csv_with_breaches_outages_and_credits(tmp_path: Path) -> None:
    out = _report(tmp_path)
    document = json.loads((out / "acme-2026-10.json").read_text("utf-8"))
    assert document["coverage"] == {
        "from": "2026-10-01T00:00:00Z",
        "to": "2026-11-01T00:00:00Z",
        "complete": True,
    }
    objectives = document["objectives"]
    first_response = objectives["email-first-response"]
    assert (first_response["value"], first_response["samples"], first_response["breaches"]) == (
        0.333333,
        3,
        2,
    )
    assert first_response["met"] is False
    assert objectives["phone-sl"]["value"] == 0.75
    assert objectives["phone-sl"]["hourly"] == [
        {"day": "2026-10-12", "hour": 10, "value": 0.75, "samples": 4}
    ]
    availability = objectives["availability"]
    assert availability["value"] == round(1 - 21600 / (31 * 86400), 6)
    assert availability["met"] is False
    assert availability["margin"] == round(1 - 21600 / (31 * 86400) - 0.995, 6)
    assert document["availability"]["availability"]["outages"] == [
        {
            "start": "2026-10-20T08:00:00Z",
            "end": "2026-10-20T14:00:00Z",
            "duration_s": 21600.0,
            "ongoing": False,
        }
    ]
    assert [
        (b["item_id"], b["deadline"], b["late_s"], b["still_open"], b["queue"])
        for b in document["breaches"]
    ] == [
        ("T2", "2026-10-10T14:00:00Z", 9000.0, False, "billing"),
        ("T4", "2026-10-31T16:00:00Z", 28800.0, True, "billing"),
    ]
    assert document["top_queues"] == [{"queue": "billing", "breaches": 2}]
    credits = document["credits"]
    assert [(line["objective"], line["status"]) for line in credits["lines"]] == [
        ("email-first-response", "owed"),
        ("availability", "owed"),
    ]
    assert (credits["percent_owed"], credits["amount_owed"], credits["currency"]) == (
        15.0,
        150.0,
        "EUR",
    )
    with (out / "acme-2026-10.csv").open(encoding="utf-8") as handle:
        rows = {row["objective"]: row for row in csv.DictReader(handle)}
    for objective_id, entry in objectives.items():
        assert float(rows[objective_id]["value"]) == entry["value"]
        assert int(rows[objective_id]["samples"]) == entry["samples"]
    assert rows["availability"]["credit_percent_owed"] == "10.0"
    with (out / "acme-2026-10-breaches.csv").open(encoding="utf-8") as handle:
        assert [row["item_id"] for row in csv.DictReader(handle)] == ["T2", "T4"]


def test_report_needs_a_month_or_a_range(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(events), "--from", "2026-10-01"])
    assert result.exit_code == 2
    assert "--period" in result.output


def test_the_html_page_is_self_contained_and_escapes_agreement_text(tmp_path: Path) -> None:
    out = _report(tmp_path, RULES.replace("title: Acme", 'title: "Acme <b>&</b> Co"'))
    page = (out / "acme-2026-10.html").read_text("utf-8")
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert "Content-Security-Policy" in page
    assert "<h1>Acme &lt;b&gt;&amp;&lt;/b&gt; Co</h1>" in page
    without_svg_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for remote in ("http://", "https://", "<script", "url(", "@import", "@font-face", "<link"):
        assert remote not in without_svg_namespace
    # a trend chart per objective with samples, one heat map, one availability timeline
    assert page.count('<svg class="chart"') == 3 + 1 + 1
    assert 'class="target"' in page
    assert "9.1 late replies" in page
    assert "15% of the monthly fee = 150.00 EUR" in page

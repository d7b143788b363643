"""The demo's board and view: alerts by fingerprint, metrics joined in, frames that fit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from rich.console import Console

from monitor.demo.board import AlertBoard, MetricsSnapshot, objective_rows
from monitor.demo.runner import next_working_day
from monitor.demo.view import Header, final_tables, plain_summary, screen
from monitor.metrics import Metrics
from monitor.rulespec.loader import load_rules
from monitor.views import Column, abbreviate, fit_columns
from monitor.views import objective_table as replay_objective_table

RULES = Path(__file__).resolve().parents[3] / "rules"


def alert(
    state: str,
    at: str,
    *,
    fp: str = "fp-1",
    kind: str = "ticket",
    contract: str = "cta-apc-nj",
    objective: str = "email-first-response",
) -> dict[str, Any]:
    return {
        "alert_id": f"{fp}-{state}-{at}",
        "fingerprint": fp,
        "contract_id": contract,
        "objective_id": objective,
        "state": state,
        "severity": "critical" if state == "breached" else "warning",
        "subject": {"kind": kind, "id": f"T-{fp}", "queue": None},
        "observed": 0.8,
        "target": 1.0,
        "event_time": f"2026-11-23T{at}:00Z",
        "annotations": {"deadline": "2026-11-23T12:00:00Z"},
    }


def test_an_item_alert_opens_at_risk_escalates_and_closes_when_resolved() -> None:
    board = AlertBoard()
    board.add(alert("at_risk", "09:00"))
    assert board.status("cta-apc-nj", "email-first-response") == "at_risk"
    assert [a["state"] for a in board.items("at_risk")] == ["at_risk"]

    board.add(alert("breached", "10:00"))
    assert board.status("cta-apc-nj", "email-first-response") == "breached"
    assert board.items("at_risk") == []

    board.add(alert("resolved", "11:00"))
    assert board.status("cta-apc-nj", "email-first-response") == "ok"
    assert board.open == {}
    assert (board.total, board.by_state["breached"]) == (3, 1)
    assert board.breaches[("cta-apc-nj", "email-first-response")] == 1


def test_a_redelivered_alert_changes_nothing() -> None:
    board = AlertBoard()
    board.add(alert("breached", "10:00"))
    board.add(alert("breached", "10:00"))
    assert (board.total, len(board.latest)) == (1, 1)


def test_an_older_change_arriving_late_does_not_reopen_a_resolved_alert() -> None:
    board = AlertBoard()
    board.add(alert("resolved", "11:00"))
    board.add(alert("breached", "10:00"))
    assert board.open == {}
    assert board.total == 2


def test_window_alerts_count_for_the_objective_but_are_not_items() -> None:
    board = AlertBoard()
    board.add(alert("at_risk", "09:00", kind="window", objective="phone-asa"))
    assert board.status("cta-apc-nj", "phone-asa") == "at_risk"
    assert board.items("at_risk") == []


def _agreements() -> list[Any]:
    agreements, problems = load_rules([RULES])
    assert not problems
    return agreements


def test_objective_rows_take_status_and_values_from_the_worker_metrics() -> None:
    metrics = Metrics()
    ids = {"contract": "cta-apc-nj", "objective": "phone-asa"}
    metrics.objective_status.labels(**ids).set(2)
    metrics.objective_sli.labels(**ids).set(42.5)
    metrics.items_open.labels(contract="cta-apc-nj", objective="complaints").set(7)
    metrics.events.labels(type="call.offered").inc(5)
    snapshot = MetricsSnapshot.parse(generate_latest(metrics.registry).decode())
    board = AlertBoard()
    board.add(alert("at_risk", "09:00", objective="complaints"))

    rows = {
        (row.contract_id, row.objective_id): row
        for row in objective_rows(_agreements(), board, snapshot)
    }

    asa = rows[("cta-apc-nj", "phone-asa")]
    assert (asa.status, asa.sli, asa.target) == ("breached", 42.5, "<= 30s")
    complaints = rows[("cta-apc-nj", "complaints")]
    assert (complaints.status, complaints.open_items) == ("at_risk", 7)
    assert rows[("cta-apc-nj", "csat")].status == "ok"
    assert snapshot.total("slamon_events_total") == 5


def _header() -> Header:
    return Header(
        brokers="127.0.0.1:9092",
        embedded=True,
        metrics_url="http://127.0.0.1:9108/metrics",
        elapsed_s=12,
        duration_s=60,
        speed=360,
        sim_time=datetime(2026, 11, 23, 3, tzinfo=UTC).timestamp(),
        sent=1234,
        processed=1200,
        worker="ready",
    )


def test_the_plain_summary_names_breached_objectives_and_counts_alerts() -> None:
    board = AlertBoard()
    board.add(alert("breached", "10:00"))
    rows = objective_rows(_agreements(), board, None)

    text = plain_summary(_header(), rows, board)

    assert "objectives: 1 breached, 0 at risk, 35 ok" in text
    assert "alerts: 1 (1 breached" in text
    assert "breached: cta-apc-nj/email-first-response" in text
    assert "Mon 2026-11-23 03:00 UTC" in text


@pytest.mark.parametrize("height", [24, 40, 80])
def test_a_frame_fits_the_terminal_height(height: int) -> None:
    board = AlertBoard()
    for n in range(30):
        board.add(alert("at_risk", f"{9 + n // 60:02d}:{n % 60:02d}", fp=f"f{n}"))
    rows = objective_rows(_agreements(), board, None)
    console = Console(width=160, height=height, record=True, force_terminal=False)

    console.print(screen(_header(), rows, board, height))

    assert len(console.export_text().splitlines()) <= height


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-22T05:44:00+00:00", "2026-11-23"),  # Sunday → Monday
        ("2026-11-23T00:00:00+00:00", "2026-11-24"),  # strictly after now
        ("2026-11-27T10:00:00+00:00", "2026-11-30"),  # Friday → Monday
        ("2026-11-25T23:30:00-05:00", "2026-11-27"),  # Thursday 04:30 UTC → Friday
    ],
)
def test_the_demo_simulates_the_next_working_day_from_01_utc(now: str, expected: str) -> None:
    start = next_working_day(datetime.fromisoformat(now))
    assert start.isoformat() == f"{expected}T01:00:00+00:00"


def _busy_board() -> AlertBoard:
    board = AlertBoard()
    for n in range(30):
        board.add(alert("at_risk", f"09:{n:02d}", fp=f"f{n}"))
    board.add(
        alert(
            "breached",
            "10:00",
            fp="b1",
            contract="cn-customer-service-terms",
            objective="hotline-60s",
        )
    )
    return board


def _lines(renderable: Any, width: int = 80, height: int = 24) -> list[str]:
    console = Console(width=width, height=height, record=True, force_terminal=False)
    console.print(renderable)
    return console.export_text().splitlines()


def test_every_objective_is_shown_whole_on_some_page_of_an_80x24_frame() -> None:
    board = _busy_board()
    rows = objective_rows(_agreements(), board, None)
    seen: set[str] = set()
    for page in range(8):
        frame = _lines(screen(_header(), rows, board, height=24, width=80, page=page))
        assert len(frame) <= 24
        assert max(len(line) for line in frame) <= 80
        assert "…" not in " ".join(line.split()[2] for line in frame if line.startswith("ok "))
        seen |= {word for line in frame for word in line.split()}
    assert {row.objective_id for row in rows} <= seen
    first = _lines(screen(_header(), rows, board, height=24, width=80, page=0))
    assert any(line.startswith("BREACH  ") and "hotline-60s" in line for line in first)
    assert any("(page 1/" in line for line in first)


def test_the_objective_table_keeps_status_objective_sli_and_target_at_80_columns() -> None:
    board = _busy_board()
    rows = objective_rows(_agreements(), board, None)
    (objectives, items, latest) = (_lines(table) for table in final_tables(rows, board))
    assert objectives[1].split() == ["status", "contract", "objective", "SLI", "target"]
    assert len(objectives) == 3 + len(rows)  # title, head, rule, then every objective
    assert max(len(line) for line in objectives + items + latest) <= 80
    assert "BREACH" in latest[3]
    wide = _lines(final_tables(rows, board)[0], width=160)
    assert wide[1].split() == [
        *("status", "contract", "objective", "SLI", "target", "breaches", "open"),
        *("at", "risk", "kind"),
    ]
    assert "call-center-service-agreement" in " ".join(wide)


def test_a_long_contract_name_is_shortened_in_the_middle_and_stays_distinct() -> None:
    names = ("call-center-service-agreement", "call-center-services-sample")
    short = {abbreviate(name, 16) for name in names}
    assert short == {"call-c…agreement", "call-c…es-sample"}
    assert abbreviate("cta-apc-nj", 16) == "cta-apc-nj"


def test_columns_join_by_priority_while_they_fit() -> None:
    columns: list[Column[str]] = [
        Column("must", lambda r: "x" * 10),
        Column("nice", lambda r: "y" * 10, priority=2),
        Column("shrinks", lambda r: "z" * 30, priority=1, shrink_to=8),
    ]
    cells = [[column.cell("row") for column in columns]]
    assert fit_columns(columns, cells, 80) == {0: 10, 1: 10, 2: 30}
    assert fit_columns(columns, cells, 40) == {0: 10, 2: 28}
    assert fit_columns(columns, cells, 20) == {0: 10, 2: 8}
    assert fit_columns(columns, cells, 12) == {0: 10}


def test_the_replay_summary_fits_80_columns_with_every_objective_whole() -> None:
    report = {
        "contracts": {
            "call-center-service-agreement": {
                "objectives": {
                    "technical-support-response": {
                        "kind": "first_response",
                        "value": 0.8248,
                        "target": 1.0,
                        "comparator": ">=",
                        "met": False,
                        "samples": 274,
                        "breaches": 48,
                    },
                    "phone-asa": {
                        "kind": "average_speed_of_answer",
                        "value": 3.4,
                        "target": 30.0,
                        "comparator": "<=",
                        "met": True,
                        "samples": 3933,
                        "breaches": 0,
                    },
                }
            }
        }
    }
    lines = _lines(replay_objective_table(report))
    assert max(len(line) for line in lines) <= 80
    assert lines[3].split()[:2] == ["missed", "call-cent…vice-agreement"]
    assert "technical-support-response  82.48%  >= 100.00%" in lines[3]
    assert "3.4s" in lines[4]

"""What ``slamon demo`` shows: a live rich screen on a TTY, plain summaries elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from monitor.demo.board import AlertBoard, ObjectiveRow, count_by_status
from monitor.domain.timestamps import parse_datetime
from monitor.views import show_value

__all__ = ["Header", "final_tables", "plain_summary", "screen"]

_STYLE: Final = {"ok": "green", "at_risk": "yellow", "breached": "bold red", "resolved": "cyan"}
_LABEL: Final = {"ok": "ok", "at_risk": "at risk", "breached": "BREACHED", "resolved": "resolved"}
_FIXED_LINES: Final = 11  # the header (2) and three tables' title, head and rule (3 each)


@dataclass(frozen=True, slots=True)
class Header:
    """The run's vital signs, refreshed with every frame."""

    brokers: str
    embedded: bool
    metrics_url: str
    elapsed_s: float
    duration_s: float | None
    speed: float
    sim_time: float | None
    sent: int
    processed: float | None
    worker: str  # "starting", "ready", "exited 1", ...

    def lines(self) -> list[str]:
        where = f"{self.brokers} (embedded, memory only)" if self.embedded else self.brokers
        until = f" of {self.duration_s:.0f}s" if self.duration_s else " (Ctrl-C stops)"
        sim = _sim_clock(self.sim_time)
        processed = "-" if self.processed is None else f"{self.processed:,.0f}"
        return [
            f"broker {where} · worker {self.worker} · metrics {self.metrics_url}",
            f"{self.elapsed_s:.0f}s{until} · simulated time {sim} ({self.speed:g}x) · "
            f"events sent {self.sent:,} · processed by the worker {processed}",
        ]


def _sim_clock(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%a %Y-%m-%d %H:%M UTC")


def _status(status: str) -> Text:
    return Text(_LABEL.get(status, status), style=_STYLE.get(status, "dim"))


def objective_table(rows: Sequence[ObjectiveRow], limit: int | None = None) -> Table:
    """Objectives, worst first; past ``limit`` rows a last row counts the rest."""
    counts = count_by_status(rows)
    title = (
        f"Objectives: {counts['breached']} breached, {counts['at_risk']} at risk, {counts['ok']} ok"
    )
    table = Table(
        title=title,
        title_justify="left",
        expand=False,
        pad_edge=False,
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("contract", "objective", "kind", "status", "SLI", "target"):
        table.add_column(column, no_wrap=True)
    for column in ("open", "at risk", "breaches"):
        table.add_column(column, justify="right")
    ordered = sorted(rows, key=lambda row: (-row.severity, row.contract_id, row.objective_id))
    shown = ordered if limit is None or len(ordered) <= limit else ordered[: max(limit - 1, 1)]
    for row in shown:
        table.add_row(
            row.contract_id,
            row.objective_id,
            row.kind,
            _status(row.status),
            show_value(row.kind, row.sli),
            row.target,
            "-" if row.open_items is None else str(row.open_items),
            "-" if row.at_risk_items is None else str(row.at_risk_items),
            str(row.breaches),
        )
    if len(shown) < len(ordered):
        rest = count_by_status(ordered[len(shown) :])
        table.add_row("…", f"{len(ordered) - len(shown)} more", "", _status(_worst_of(rest)))
    return table


def _worst_of(counts: Any) -> str:
    for status in ("breached", "at_risk"):
        if counts[status]:
            return status
    return "ok"


def items_table(board: AlertBoard, limit: int) -> Table:
    """Open items past their warning share and not yet breached, oldest deadline first."""
    items = board.items("at_risk")
    table = Table(
        title=f"Items at risk: {len(items)}",
        title_justify="left",
        pad_edge=False,
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("since", "contract", "objective", "item", "used", "deadline"):
        table.add_column(column, no_wrap=True)
    for alert in items[:limit]:
        subject = alert.get("subject", {})
        observed = alert.get("observed")
        table.add_row(
            _short_time(alert.get("event_time")),
            alert["contract_id"],
            alert["objective_id"],
            f"{subject.get('kind', '')} {subject.get('id', '')}",
            "-" if observed is None else f"{observed * 100:.0f}%",
            _short_time(alert.get("annotations", {}).get("deadline")),
        )
    return table


def alerts_table(board: AlertBoard, limit: int) -> Table:
    """The latest alert state changes, newest first."""
    latest = list(board.latest)[-limit:][::-1]
    counts = board.by_state
    title = (
        f"Latest alerts: {board.total} ({counts['breached']} breached, "
        f"{counts['at_risk']} at risk, {counts['resolved']} resolved)"
    )
    table = Table(
        title=title, title_justify="left", pad_edge=False, box=box.SIMPLE_HEAD, show_edge=False
    )
    for column in ("event time", "state", "contract", "objective", "subject"):
        table.add_column(column, no_wrap=True)
    for alert in latest:
        subject = alert.get("subject", {})
        table.add_row(
            _short_time(alert.get("event_time")),
            _status(str(alert.get("state"))),
            alert["contract_id"],
            alert["objective_id"],
            f"{subject.get('kind', '')} {subject.get('id', '')}",
        )
    return table


def _short_time(text: Any) -> str:
    if not text:
        return "-"
    try:
        moment = parse_datetime(str(text))
    except ValueError:
        return str(text)
    return moment.astimezone(UTC).strftime("%a %H:%M")


def screen(
    header: Header, rows: Sequence[ObjectiveRow], board: AlertBoard, height: int
) -> RenderableType:
    """One frame sized to the terminal: the objective table gets what the lists leave."""
    list_rows = max(1, min(8, (height - _FIXED_LINES) // 5))
    objective_rows = max(1, height - _FIXED_LINES - 2 * list_rows)
    return Group(
        *(Text(line, style="bold" if i == 0 else "") for i, line in enumerate(header.lines())),
        objective_table(rows, limit=objective_rows),
        items_table(board, list_rows),
        alerts_table(board, list_rows),
    )


def plain_summary(header: Header, rows: Sequence[ObjectiveRow], board: AlertBoard) -> str:
    """A few plain lines for logs and pipes, printed every few seconds."""
    counts = count_by_status(rows)
    bad = [f"{row.contract_id}/{row.objective_id}" for row in rows if row.status == "breached"]
    risky = [f"{row.contract_id}/{row.objective_id}" for row in rows if row.status == "at_risk"]
    states = board.by_state
    lines = [
        *header.lines(),
        f"objectives: {counts['breached']} breached, {counts['at_risk']} at risk, "
        f"{counts['ok']} ok · alerts: {board.total} ({states['breached']} breached, "
        f"{states['at_risk']} at risk, {states['resolved']} resolved) · "
        f"items at risk now: {len(board.items('at_risk'))}",
    ]
    if bad:
        lines.append("  breached: " + ", ".join(bad))
    if risky:
        lines.append("  at risk: " + ", ".join(risky))
    return "\n".join(lines)


def final_tables(rows: Sequence[ObjectiveRow], board: AlertBoard) -> list[RenderableType]:
    """What stays on screen after the run: every objective and the latest alerts."""
    return [objective_table(rows), items_table(board, 10), alerts_table(board, 15)]

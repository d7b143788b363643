"""What ``slamon demo`` shows: a live rich screen on a TTY, plain summaries elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from monitor.demo.board import ITEM_KINDS, AlertBoard, ObjectiveRow, count_by_status
from monitor.domain.timestamps import parse_datetime
from monitor.views import Column, FittedTable, fitted_table, show_value, status_text

__all__ = ["Header", "final_tables", "objective_page", "plain_summary", "screen"]

PAGE_S: Final = 4.0
"""How long the live screen shows each page of objectives before the next."""
_FIXED_LINES: Final = 9  # three tables' title, head and rule (3 each)


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

    def parts(self) -> list[str]:
        where = f"{self.brokers} (embedded)" if self.embedded else self.brokers
        until = f" of {self.duration_s:.0f}s" if self.duration_s else " (Ctrl-C stops)"
        processed = "-" if self.processed is None else f"{self.processed:,.0f}"
        metrics = self.metrics_url.removeprefix("http://").removesuffix("/metrics")
        return [
            f"broker {where}",
            f"worker {self.worker}",
            f"metrics {metrics}",
            f"{self.elapsed_s:.0f}s{until}",
            f"sim {_sim_clock(self.sim_time)} ({self.speed:g}x)",
            f"sent {self.sent:,}",
            f"processed {processed}",
        ]

    def lines(self, width: int | None = None) -> list[str]:
        """The parts joined with `` · ``, packed into lines of at most ``width``."""
        parts = self.parts()
        if width is None:
            return [" · ".join(parts[:3]), " · ".join(parts[3:])]
        lines: list[str] = []
        for part in parts:
            if lines and len(lines[-1]) + 3 + len(part) <= width:
                lines[-1] += " · " + part
            else:
                lines.append(part)
        return lines


def _sim_clock(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%a %Y-%m-%d %H:%M UTC")


def _worst_first(rows: Sequence[ObjectiveRow]) -> list[ObjectiveRow]:
    return sorted(rows, key=lambda row: (-row.severity, row.contract_id, row.objective_id))


def _counts_title(rows: Sequence[ObjectiveRow]) -> str:
    counts = count_by_status(rows)
    return f"{counts['breached']} breached, {counts['at_risk']} at risk, {counts['ok']} ok"


_OBJECTIVE_COLUMNS: Final[list[Column[ObjectiveRow]]] = [
    Column("status", lambda row: status_text(row.status)),
    Column("contract", lambda row: row.contract_id, priority=1, shrink_to=10),
    Column("objective", lambda row: row.objective_id),
    Column("SLI", lambda row: show_value(row.kind, row.sli)),
    Column("target", lambda row: row.target),
    Column("breaches", lambda row: str(row.breaches), priority=2, justify="right"),
    Column("open", lambda row: _count(row.open_items), priority=3, justify="right"),
    Column("at risk", lambda row: _count(row.at_risk_items), priority=3, justify="right"),
    Column("kind", lambda row: row.kind, priority=4),
]


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def objective_table(rows: Sequence[ObjectiveRow], width: int) -> Table:
    """Every objective, worst first (what stays on screen after the run)."""
    title = f"Objectives: {_counts_title(rows)}"
    return fitted_table(title, _OBJECTIVE_COLUMNS, _worst_first(rows), width)


def objective_page(rows: Sequence[ObjectiveRow], width: int, size: int, page: int) -> Table:
    """Page ``page`` (cycling) of the objectives, worst first, ``size`` rows per page.

    Every objective shows up on some page, so a long list on a small terminal is
    seen whole in a few pages; the title counts all of them.
    """
    ordered = _worst_first(rows)
    size = max(1, size)
    pages = max(1, -(-len(ordered) // size))
    number = page % pages
    shown = ordered[number * size : (number + 1) * size]
    where = f" (page {number + 1}/{pages})" if pages > 1 else ""
    title = f"Objectives{where}: {_counts_title(rows)}"
    return fitted_table(title, _OBJECTIVE_COLUMNS, shown, width, measure=ordered)


_ITEM_COLUMNS: Final[list[Column[dict[str, Any]]]] = [
    Column("since", lambda a: _short_time(a.get("event_time")), priority=3),
    Column("contract", lambda a: a["contract_id"], priority=2, shrink_to=10),
    Column("objective", lambda a: a["objective_id"]),
    Column("item", lambda a: _subject(a), priority=1),
    Column("used", lambda a: _percent(a.get("observed")), justify="right"),
    Column("deadline", lambda a: _short_time(a.get("annotations", {}).get("deadline"))),
]


def items_table(board: AlertBoard, limit: int, width: int) -> Table:
    """Open items past their warning share and not yet breached, oldest deadline first."""
    items = board.items("at_risk")
    return fitted_table(f"Items at risk: {len(items)}", _ITEM_COLUMNS, items[:limit], width)


_ALERT_COLUMNS: Final[list[Column[dict[str, Any]]]] = [
    Column("time", lambda a: _short_time(a.get("event_time")), priority=1),
    Column("state", lambda a: status_text(str(a.get("state")))),
    Column("contract", lambda a: a["contract_id"], priority=2, shrink_to=10),
    Column("objective", lambda a: a["objective_id"]),
    Column("subject", lambda a: _subject(a), priority=1),
]


def alerts_table(board: AlertBoard, limit: int, width: int) -> Table:
    """The latest alert state changes, newest first."""
    latest = list(board.latest)[-limit:][::-1]
    counts = board.by_state
    title = (
        f"Latest alerts: {board.total} ({counts['breached']} breached, "
        f"{counts['at_risk']} at risk, {counts['resolved']} resolved)"
    )
    return fitted_table(title, _ALERT_COLUMNS, latest, width)


def _subject(alert: dict[str, Any]) -> str:
    """An item's id (its kind goes without saying next to the objective), else the kind."""
    subject = alert.get("subject", {})
    kind = str(subject.get("kind", ""))
    return str(subject.get("id", "")) if kind in ITEM_KINDS else kind


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _short_time(text: Any) -> str:
    if not text:
        return "-"
    try:
        moment = parse_datetime(str(text))
    except ValueError:
        return str(text)
    return moment.astimezone(UTC).strftime("%a %H:%M")


def screen(
    header: Header,
    rows: Sequence[ObjectiveRow],
    board: AlertBoard,
    height: int,
    width: int = 80,
    page: int | None = None,
) -> RenderableType:
    """One frame sized to the terminal: the objectives get what the two lists leave.

    When they do not all fit, the objectives are shown a page at a time, the page
    turning every :data:`PAGE_S` seconds of the run (``page`` overrides it).
    """
    head = header.lines(width)
    spare = height - len(head) - _FIXED_LINES
    list_rows = max(1, min(8, spare // 5))
    objective_rows = max(1, spare - 2 * list_rows)
    turn = int(header.elapsed_s // PAGE_S) if page is None else page
    return Group(
        *(Text(line, style="bold" if i == 0 else "") for i, line in enumerate(head)),
        objective_page(rows, width, objective_rows, turn),
        items_table(board, list_rows, width),
        alerts_table(board, list_rows, width),
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
    return [
        FittedTable(lambda width: objective_table(rows, width)),
        FittedTable(lambda width: items_table(board, 10, width)),
        FittedTable(lambda width: alerts_table(board, 15, width)),
    ]

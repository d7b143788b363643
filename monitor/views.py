"""Rich renderings shared by the replay summary and the live demo.

Every table here fits the terminal it is drawn on, down to 80 columns: columns
are declared in display order with a priority, the most important ones are
always shown, the rest join while they fit, and long contract names are
shortened in the middle (``call-c…agreement``) rather than cut at the end.
Tables are built at render time (:class:`FittedTable`), so they take the width
of whatever console prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

_TIME_KINDS = frozenset({"average_speed_of_answer", "average_wait", "average_handle_time"})
GAP: Final = 2
"""Columns are separated by one space of padding and the (blank) column rule."""
ELLIPSIS: Final = "…"

Row = TypeVar("Row")
Justify = Literal["left", "right"]

#: Alert and objective states in a fixed width of 6, so "breached" is never cut.
STATUS_LABEL: Final = {
    "ok": "ok",
    "at_risk": "RISK",
    "breached": "BREACH",
    "resolved": "solved",
    "no data": "-",
}
STATUS_STYLE: Final = {
    "ok": "green",
    "at_risk": "yellow",
    "breached": "bold red",
    "resolved": "cyan",
}


def show_value(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    if kind in _TIME_KINDS:
        return f"{value:.1f}s"
    return f"{value * 100:.2f}%"


def status_text(status: str) -> Text:
    return Text(STATUS_LABEL.get(status, status), style=STATUS_STYLE.get(status, "dim"))


def abbreviate(text: str, width: int) -> str:
    """``text`` in ``width`` characters, cut in the middle so both ends stay readable."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1) * 2 // 5
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


@dataclass(frozen=True, slots=True)
class Column(Generic[Row]):
    """One column: ``priority`` 0 is always shown; higher numbers join while they fit.

    A column with ``shrink_to`` may be shortened (in the middle) down to that width
    rather than dropped; any other column is shown whole or not at all.
    """

    name: str
    cell: Callable[[Row], str | Text]
    priority: int = 0
    justify: Justify = "left"
    shrink_to: int | None = None


def _plain(value: str | Text) -> str:
    return value.plain if isinstance(value, Text) else value


def fit_columns(
    columns: Sequence[Column[Row]], cells: Sequence[Sequence[str | Text]], width: int
) -> dict[int, int]:
    """Which columns to show (by index) and at what width, for a table ``width`` wide."""
    natural = [
        max([len(column.name), *(len(_plain(row[i])) for row in cells)])
        for i, column in enumerate(columns)
    ]
    chosen: dict[int, int] = {}
    used = -GAP
    for index in sorted(range(len(columns)), key=lambda i: columns[i].priority):
        column, want = columns[index], natural[index]
        room = width - used - GAP
        if column.priority == 0 or want <= room:
            chosen[index] = want
        elif column.shrink_to is not None and room >= max(column.shrink_to, len(column.name)):
            chosen[index] = room
        else:
            continue
        used += GAP + chosen[index]
    return chosen


def fitted_table(
    title: str,
    columns: Sequence[Column[Row]],
    rows: Iterable[Row],
    width: int,
    *,
    measure: Iterable[Row] | None = None,
) -> Table:
    """A table of ``rows`` that fits ``width`` columns (see :func:`fit_columns`).

    ``measure`` sizes the columns from other rows (every page of a paged list), so
    the columns stay put while the pages turn.
    """
    cells = [[column.cell(row) for column in columns] for row in rows]
    sized = cells if measure is None else [[c.cell(row) for c in columns] for row in measure]
    chosen = fit_columns(columns, sized, width)
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        expand=False,
        min_width=min(width, len(title)),  # an empty table's title on one line
    )
    shown = sorted(chosen)
    for index in shown:
        column = columns[index]
        table.add_column(
            column.name, justify=column.justify, no_wrap=True, width=chosen[index], min_width=0
        )
    for row in cells:
        table.add_row(*(_shorten(row[index], chosen[index]) for index in shown))
    return table


def _shorten(value: str | Text, width: int) -> str | Text:
    if isinstance(value, Text) or len(value) <= width:
        return value
    return abbreviate(value, width)


@dataclass(frozen=True, slots=True)
class FittedTable:
    """A table built when it is printed, for the width of the console printing it."""

    build: Callable[[int], Table]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(options.max_width)


def objective_table(report: dict[str, Any]) -> FittedTable:
    """``slamon replay``'s summary: one row per objective of every contract."""
    rows = [
        (contract_id, objective_id, entry)
        for contract_id, contract in report["contracts"].items()
        for objective_id, entry in contract["objectives"].items()
    ]
    verdict = {True: Text("met", "green"), False: Text("missed", "red"), None: Text("-", "dim")}
    columns: list[Column[tuple[str, str, dict[str, Any]]]] = [
        Column("", lambda r: verdict[r[2]["met"]]),
        Column("contract", lambda r: r[0], priority=1, shrink_to=10),
        Column("objective", lambda r: r[1]),
        Column("value", lambda r: show_value(r[2]["kind"], r[2]["value"])),
        Column(
            "target",
            lambda r: f"{r[2]['comparator']} {show_value(r[2]['kind'], r[2]['target'])}",
        ),
        Column("breaches", lambda r: str(r[2]["breaches"]), priority=2, justify="right"),
        Column("samples", lambda r: str(r[2]["samples"]), priority=3, justify="right"),
        Column("kind", lambda r: r[2]["kind"], priority=4),
    ]
    return FittedTable(
        lambda width: fitted_table("Objectives over the input", columns, rows, width)
    )


def alerts_table(alerts: list[dict[str, Any]], limit: int = 15) -> FittedTable:
    """The latest breaches, newest last."""
    breaches = [a for a in alerts if a["state"] == "breached"][-limit:]
    columns: list[Column[dict[str, Any]]] = [
        Column("event time", lambda a: a["event_time"], priority=1),
        Column("contract", lambda a: a["contract_id"], priority=1, shrink_to=10),
        Column("objective", lambda a: a["objective_id"]),
        Column("subject", lambda a: f"{a['subject']['kind']} {a['subject']['id']}"),
        Column(
            "observed",
            lambda a: "-" if a["observed"] is None else f"{a['observed']:.3g}",
            priority=2,
        ),
    ]
    title = f"Latest breaches ({len(breaches)} shown)"
    return FittedTable(lambda width: fitted_table(title, columns, breaches, width))

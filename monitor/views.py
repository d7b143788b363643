"""Rich renderings shared by the replay summary and the live demo."""

from __future__ import annotations

from typing import Any

from rich.table import Table

_TIME_KINDS = frozenset({"average_speed_of_answer", "average_wait", "average_handle_time"})


def show_value(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    if kind in _TIME_KINDS:
        return f"{value:.1f}s"
    return f"{value * 100:.2f}%"


def objective_table(report: dict[str, Any]) -> Table:
    table = Table(title="Objectives over the input", show_lines=False)
    for column in ("contract", "objective", "kind", "value", "target", "samples", "breaches", ""):
        table.add_column(column, justify="right" if column in ("samples", "breaches") else "left")
    for contract_id, contract in report["contracts"].items():
        for objective_id, entry in contract["objectives"].items():
            kind = entry["kind"]
            target = f"{entry['comparator']} {show_value(kind, entry['target'])}"
            verdict = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[dim]no data"}
            table.add_row(
                contract_id,
                objective_id,
                kind,
                show_value(kind, entry["value"]),
                target,
                str(entry["samples"]),
                str(entry["breaches"]),
                verdict[entry["met"]],
            )
    return table


def alerts_table(alerts: list[dict[str, Any]], limit: int = 15) -> Table:
    """The latest breaches, newest last."""
    breaches = [a for a in alerts if a["state"] == "breached"][-limit:]
    table = Table(title=f"Latest breaches ({len(breaches)} shown)")
    for column in ("event time", "contract", "objective", "subject", "observed"):
        table.add_column(column, overflow="fold")
    for alert in breaches:
        subject = alert["subject"]
        observed = alert["observed"]
        table.add_row(
            alert["event_time"],
            alert["contract_id"],
            alert["objective_id"],
            f"{subject['kind']} {subject['id']}",
            "-" if observed is None else f"{observed:.3g}",
        )
    return table

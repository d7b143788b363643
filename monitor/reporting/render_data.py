"""The report as JSON and CSV: the same numbers the HTML page shows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Final

from monitor.domain.alerts import format_instant
from monitor.reporting.model import ContractReport

REPORT_VERSION: Final = 1
OBJECTIVE_COLUMNS: Final = (
    "contract",
    "period",
    "objective",
    "kind",
    "unit",
    "value",
    "target",
    "comparator",
    "met",
    "margin",
    "samples",
    "breaches",
    "credit_percent_owed",
)
BREACH_COLUMNS: Final = (
    "contract",
    "objective",
    "kind",
    "item_id",
    "queue",
    "channel",
    "started",
    "deadline",
    "finished",
    "late_s",
    "still_open",
)
DAILY_COLUMNS: Final = ("contract", "objective", "day", "value", "samples")


def _instant(value: float | None) -> str | None:
    return None if value is None else format_instant(value)


def to_json(report: ContractReport, source: dict[str, Any]) -> dict[str, Any]:
    period = report.period
    credits = report.credits
    return {
        "report_version": REPORT_VERSION,
        "contract_id": report.contract_id,
        "title": report.title,
        "language": report.language,
        "timezone": report.timezone,
        "period": {
            "label": period.label,
            "month": period.month,
            "start": format_instant(period.start),
            "end": format_instant(period.end),
        },
        "coverage": {
            "from": _instant(report.covered_from),
            "to": _instant(report.covered_to),
            "complete": report.complete,
        },
        "objectives": {
            o.id: {
                "kind": o.kind,
                "unit": o.unit,
                "value": o.value,
                "target": o.target,
                "comparator": o.comparator,
                "met": o.met,
                "margin": o.margin,
                "samples": o.samples,
                "breaches": o.breaches,
                "clause": o.clause,
                "daily": [{"day": p.day, "value": p.value, "samples": p.samples} for p in o.daily],
                "hourly": [
                    {"day": c.day, "hour": c.hour, "value": c.value, "samples": c.samples}
                    for c in o.hourly
                ],
            }
            for o in report.objectives
        },
        "breaches": [
            {
                "objective": b.objective_id,
                "kind": b.kind,
                "item_id": b.item_id,
                "queue": b.queue,
                "channel": b.channel,
                "started": format_instant(b.started),
                "deadline": _instant(b.deadline),
                "finished": _instant(b.finished),
                "late_s": b.late_s,
                "still_open": b.still_open,
            }
            for b in report.breaches
        ],
        "top_queues": [{"queue": q, "breaches": n} for q, n in report.top_queues],
        "availability": {
            a.objective_id: {
                "service": a.service,
                "downtime_s": a.downtime_s,
                "open_s": a.open_s,
                "outages": [
                    {
                        "start": format_instant(o.start),
                        "end": format_instant(o.end),
                        "duration_s": o.duration_s,
                        "ongoing": o.ongoing,
                    }
                    for o in a.outages
                ],
                "timeline": [
                    {
                        "start": format_instant(s.start),
                        "end": format_instant(s.end),
                        "status": s.status,
                    }
                    for s in a.segments
                ],
            }
            for a in report.availability
        },
        "credits": {
            "applicable": credits.applicable,
            "note": credits.note,
            "provisional": credits.provisional,
            "lines": [
                {
                    "objective": line.objective_id,
                    "clause": line.clause,
                    "objective_clause": line.objective_clause,
                    "percent_of_fee": line.percent_of_fee,
                    "status": line.status,
                    "percent_owed": line.percent_owed,
                }
                for line in credits.lines
            ],
            "percent_before_cap": credits.percent_before_cap,
            "cap_percent": credits.cap_percent,
            "percent_owed": credits.percent_owed,
            "monthly_fee": credits.monthly_fee,
            "currency": credits.currency,
            "amount_owed": credits.amount_owed,
        },
        "source": source,
    }


def file_stem(report: ContractReport) -> str:
    period = report.period
    label = period.month or f"{format_instant(period.start)}_{format_instant(period.end)}"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in label)
    return f"{report.contract_id}-{safe}"


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")


def write_csvs(out: Path, stem: str, document: dict[str, Any]) -> list[Path]:
    """``STEM.csv`` (objectives), ``STEM-daily.csv`` and ``STEM-breaches.csv``."""
    contract = document["contract_id"]
    owed = {
        line["objective"]: line["percent_owed"]
        for line in document["credits"]["lines"]
        if document["credits"]["applicable"]
    }
    objectives = [
        {
            "contract": contract,
            "period": document["period"]["label"],
            "objective": oid,
            **{name: entry[name] for name in OBJECTIVE_COLUMNS[3:-1]},
            "credit_percent_owed": owed.get(oid, ""),
        }
        for oid, entry in document["objectives"].items()
    ]
    daily = [
        {"contract": contract, "objective": oid, **point}
        for oid, entry in document["objectives"].items()
        for point in entry["daily"]
    ]
    breaches = [
        {"contract": contract, **{k: row[k] for k in BREACH_COLUMNS[1:]}}
        for row in document["breaches"]
    ]
    written = []
    for suffix, columns, rows in (
        ("", OBJECTIVE_COLUMNS, objectives),
        ("-daily", DAILY_COLUMNS, daily),
        ("-breaches", BREACH_COLUMNS, breaches),
    ):
        path = out / f"{stem}{suffix}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        written.append(path)
    return written


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value  # shown as text, as OWASP recommends; numbers stay numbers
    return value

"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network.

A Content-Security-Policy meta tag forbids every fetch, so the page shows the same
offline as online. Text is UTF-8 with ``lang`` from the agreement's ``language``
label; the font stack names CJK-capable system fonts (Noto Sans CJK, Source Han
Sans, PingFang, Microsoft YaHei) and nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any, Final

from monitor.reporting.model import ContractReport, ObjectiveResult
from monitor.reporting.svg import heat_map, timeline, trend_chart

MAX_BREACH_ROWS: Final = 300
FONT_STACK: Final = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", sans-serif'
)
CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

#: Headings and labels; Chinese agreements get both languages.
ZH: Final = {
    "SLA report": "服务水平报告",
    "Objectives": "目标达成情况",
    "Daily trend": "每日趋势",
    "Hour-of-day service level": "分时段服务水平",
    "Breaches": "违约明细",
    "Top queues by breaches": "违约最多的队列",
    "Missed items": "超时事项",
    "Availability": "可用性",
    "Service credits": "服务赔偿",
    "met": "达成",
    "missed": "未达成",
    "no data": "无数据",
}
CSS: Final = """
:root { color-scheme: light; }
body { font-family: %FONTS%; margin: 0; color: #1f2328; background: #f6f8fa;
  font-size: 14px; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 14px; margin: 18px 0 4px; }
h1 .en, h2 .en, h3 .en { color: #57606a; font-weight: normal; font-size: 0.8em; margin-left: 6px; }
.sub { color: #57606a; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 4px 24px; }
.tiles { display: flex; gap: 12px; margin: 16px 0 0; }
.tile { flex: 1; border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 12px; }
.tile b { display: block; font-size: 22px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; }
.met { background: #dafbe1; color: #116329; }
.missed { background: #ffebe9; color: #a40e26; }
.nodata { background: #eaeef2; color: #57606a; }
.clause { color: #57606a; font-size: 12px; }
.note { background: #fff8c5; padding: 6px 10px; border-radius: 6px; }
.tick { font: 11px %FONTS%; fill: #57606a; }
svg.chart { display: block; max-width: 100%; height: auto; }
.total td { font-weight: 600; }
table.narrow { width: auto; min-width: 320px; }
.legend { color: #57606a; font-size: 12px; margin: 2px 0 8px; }
footer { margin-top: 32px; color: #57606a; font-size: 12px; }
""".replace("%FONTS%", FONT_STACK)


def render_html(report: ContractReport, document: dict[str, Any]) -> str:
    zh = report.language.lower().startswith("zh")
    page = _Page(report, zh)
    body = [
        page.header(),
        page.objectives(),
        page.trends(),
        page.heat_maps(),
        page.breaches(),
        page.availability(),
        page.credits(),
        page.footer(document),
    ]
    lang = "zh-CN" if zh else escape(report.language or "en")
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(report.title)} — {escape(report.period.label)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


class _Page:
    def __init__(self, report: ContractReport, zh: bool) -> None:
        self.report = report
        self.zh = zh

    def t(self, text: str) -> str:
        """A label, in Chinese with the English after it for Chinese agreements."""
        if self.zh and text in ZH:
            return f'{escape(ZH[text])}<span class="en">{escape(text)}</span>'
        return escape(text)

    def h2(self, text: str, anchor: str) -> str:
        return f'<h2 id="{anchor}">{self.t(text)}</h2>'

    def local(self, instant: float | None) -> str:
        if instant is None:
            return "–"
        return self.report.period.local(instant).strftime("%Y-%m-%d %H:%M")

    # -- sections ---------------------------------------------------------------

    def header(self) -> str:
        r = self.report
        coverage = (
            f"data {self.local(r.covered_from)} – {self.local(r.covered_to)}"
            if r.covered_from is not None
            else "no data in this period"
        )
        partial = "" if r.complete else ' <span class="badge nodata">partial period</span>'
        return (
            f"<header><h1>{escape(r.title)}</h1>"
            f'<p class="sub">{self.t("SLA report")} · {escape(r.period.label)} · '
            f"{escape(r.contract_id)} · {escape(r.timezone)}</p>"
            f'<p class="sub">{escape(coverage)}{partial}</p>{self.tiles()}</header>'
        )

    def tiles(self) -> str:
        r = self.report
        verdicts = [o.met for o in r.objectives]
        credit = f"{r.credits.percent_owed:g}%" if r.credits.applicable else "–"
        if r.credits.applicable and r.credits.amount_owed is not None:
            credit += f" · {r.credits.amount_owed:,.2f} {r.credits.currency}"
        tiles = (
            ("objectives met", f"{verdicts.count(True)} / {len(verdicts)}"),
            ("objectives missed", str(verdicts.count(False))),
            ("items late", f"{len(r.breaches):,}"),
            ("credits owed", credit),
        )
        return (
            '<div class="tiles">'
            + "".join(
                f'<div class="tile"><b>{escape(value)}</b>{escape(name)}</div>'
                for name, value in tiles
            )
            + "</div>"
        )

    def objectives(self) -> str:
        rows = []
        for o in self.report.objectives:
            rows.append(
                f"<tr><td><strong>{escape(o.id)}</strong><br>"
                f'<span class="clause">{escape(o.kind)}'
                f"{' · ' + escape(o.clause) if o.clause else ''}</span></td>"
                f'<td class="num">{_value(o, o.value)}</td>'
                f'<td class="num">{escape(o.comparator)} {_value(o, o.target)}</td>'
                f'<td class="num">{_margin(o)}</td>'
                f'<td class="num">{o.samples:,}</td><td class="num">{o.breaches:,}</td>'
                f"<td>{self.verdict(o.met)}</td></tr>"
            )
        return (
            self.h2("Objectives", "objectives")
            + "<table><thead><tr><th>objective</th><th class=num>attainment</th>"
            "<th class=num>target</th><th class=num>margin</th><th class=num>samples</th>"
            "<th class=num>breaches</th><th></th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def verdict(self, met: bool | None) -> str:
        if met is None:
            return f'<span class="badge nodata">{self.t_plain("no data")}</span>'
        if met:
            return f'<span class="badge met">{self.t_plain("met")}</span>'
        return f'<span class="badge missed">{self.t_plain("missed")}</span>'

    def t_plain(self, text: str) -> str:
        return escape(f"{ZH[text]} {text}" if self.zh and text in ZH else text)

    def trends(self) -> str:
        charts = []
        for o in self.report.objectives:
            if not o.samples:
                continue
            charts.append(
                f"<h3>{escape(o.id)}</h3>"
                + trend_chart(
                    o.daily,
                    target=o.target,
                    higher_is_better=o.comparator in (">=", ">"),
                    unit=o.unit,
                    fmt=_formatter(o),
                    label=f"daily {o.id}",
                )
            )
        if not charts:
            return self.h2("Daily trend", "trend") + "<p>No samples in this period.</p>"
        return (
            self.h2("Daily trend", "trend")
            + '<div class="grid">'
            + "".join(f"<div>{chart}</div>" for chart in charts)
            + "</div>"
        )

    def heat_maps(self) -> str:
        maps = []
        for o in self.report.objectives:
            if not o.calls or not o.hourly:
                continue
            days = sorted({cell.day for cell in o.hourly})
            maps.append(
                f"<h3>{escape(o.id)}</h3>"
                + heat_map(
                    o.hourly,
                    days,
                    target=o.target,
                    higher_is_better=o.comparator in (">=", ">"),
                    fmt=_formatter(o),
                    label=f"hour of day {o.id}",
                )
            )
        if not maps:
            return ""
        legend = (
            '<p class="legend">Local hour of day across, days down: green where the hour '
            "met the target (darker: further inside), red where it missed, grey without calls."
            "</p>"
        )
        return self.h2("Hour-of-day service level", "heatmap") + legend + "".join(maps)

    def breaches(self) -> str:
        r = self.report
        if not r.breaches:
            return self.h2("Breaches", "breaches") + "<p>No item missed its deadline.</p>"
        queues = "".join(
            f'<tr><td>{escape(queue)}</td><td class="num">{count:,}</td></tr>'
            for queue, count in r.top_queues
        )
        shown = r.breaches[:MAX_BREACH_ROWS]
        rows = "".join(
            f"<tr><td>{escape(b.item_id)}</td><td>{escape(b.objective_id)}</td>"
            f"<td>{self.local(b.deadline)}</td>"
            f'<td class="num">{_duration(b.late_s)}{" (open)" if b.still_open else ""}</td>'
            f"<td>{escape(b.queue or '–')}</td><td>{escape(b.channel or '–')}</td></tr>"
            for b in shown
        )
        more = (
            f"<p>{len(r.breaches) - len(shown):,} more in the breaches CSV.</p>"
            if len(r.breaches) > len(shown)
            else ""
        )
        return (
            self.h2("Breaches", "breaches")
            + f"<h3>{self.t('Top queues by breaches')}</h3>"
            + '<table class="narrow"><thead><tr><th>queue</th><th class=num>breaches</th></tr>'
            + "</thead>"
            + f"<tbody>{queues}</tbody></table>"
            + f"<h3>{self.t('Missed items')}</h3><table><thead><tr><th>item</th><th>objective</th>"
            "<th>deadline</th><th class=num>late by</th><th>queue</th><th>channel</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>{more}"
        )

    def availability(self) -> str:
        r = self.report
        if not r.availability:
            return ""
        parts = [self.h2("Availability", "availability")]
        for a in r.availability:
            objective = next(o for o in r.objectives if o.id == a.objective_id)
            down = frozenset({"down"})
            parts.append(
                f"<h3>{escape(a.objective_id)} · {escape(a.service)} · "
                f"{_value(objective, objective.value)} ({_duration(a.downtime_s)} down)</h3>"
            )
            parts.append(
                timeline(
                    a.segments,
                    r.period.start,
                    r.period.end,
                    down_states=down,
                    local=r.period.local,
                    label=f"availability timeline {a.objective_id}",
                )
            )
            if a.outages:
                rows = "".join(
                    f"<tr><td>{self.local(o.start)}</td><td>{self.local(o.end)}"
                    f"{' (ongoing)' if o.ongoing else ''}</td>"
                    f'<td class="num">{_duration(o.duration_s)}</td></tr>'
                    for o in a.outages
                )
                parts.append(
                    "<table><thead><tr><th>outage start</th><th>end</th>"
                    f"<th class=num>duration</th></tr></thead><tbody>{rows}</tbody></table>"
                )
            else:
                parts.append("<p>No outage in this period.</p>")
        return "".join(parts)

    def credits(self) -> str:
        c = self.report.credits
        head = self.h2("Service credits", "credits")
        if not c.applicable:
            return head + f"<p>{escape(c.note)}</p>"
        rows = "".join(
            f"<tr><td><strong>{escape(line.objective_id)}</strong><br>"
            f'<span class="clause">{escape(line.clause)}</span>'
            f"{_clause_line(line.objective_clause)}"
            f'</td><td class="num">{line.percent_of_fee:g}%</td><td>{escape(line.status)}</td>'
            f'<td class="num">{line.percent_owed:g}%</td></tr>'
            for line in c.lines
        )
        amount = (
            f" = {c.amount_owed:,.2f} {escape(c.currency)}" if c.amount_owed is not None else ""
        )
        capped = (
            f" (capped from {c.percent_before_cap:g}%)"
            if c.percent_before_cap > c.percent_owed
            else ""
        )
        return (
            head + "<table><thead><tr><th>objective and clause</th><th class=num>credit</th>"
            "<th>status</th><th class=num>owed</th></tr></thead>"
            f"<tbody>{rows}<tr class=total><td>Total owed</td><td></td><td></td>"
            f'<td class="num">{c.percent_owed:g}% of the monthly fee{capped}{amount}</td></tr>'
            f'</tbody></table><p class="note">{escape(c.note)}</p>'
        )

    def footer(self, document: dict[str, Any]) -> str:
        source = document.get("source", {})
        events = source.get("events", {})
        where = source.get("path") or source.get("brokers") or source.get("kind", "")
        return (
            f"<footer>Generated by slamon from {escape(str(where))} "
            f"({events.get('total', 0):,} events, {events.get('invalid', 0):,} invalid, "
            f"{events.get('duplicates', 0):,} duplicates). Every number is the SLA engine's "
            "own count for this period; the JSON and CSV files carry the same numbers.</footer>"
        )


def _clause_line(clause: str) -> str:
    return f'<br><span class="clause">{escape(clause)}</span>' if clause else ""


def _formatter(o: ObjectiveResult) -> Callable[[float], str]:
    if o.unit == "seconds":
        return lambda v: f"{v:.1f} s"
    return lambda v: f"{v * 100:.1f}%"


def _value(o: ObjectiveResult, value: float | None) -> str:
    if value is None:
        return "–"
    if o.unit == "seconds":
        return f"{value:.1f} s"
    return f"{value * 100:.2f}%"


def _margin(o: ObjectiveResult) -> str:
    if o.margin is None:
        return "–"
    sign = "+" if o.margin >= 0 else "−"
    if o.unit == "seconds":
        return f"{sign}{abs(o.margin):.1f} s"
    return f"{sign}{abs(o.margin) * 100:.2f} pp"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"

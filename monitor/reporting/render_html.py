"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network.

A Content-Security-Policy meta tag forbids every fetch, so the page shows the same
offline as online. Text is UTF-8 with ``lang`` from the agreement's ``language``
label; the font stack names CJK-capable system fonts (Noto Sans CJK, Source Han
Sans, PingFang, Microsoft YaHei) and nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Final

from monitor import __version__
from monitor.reporting.model import ContractReport, ObjectiveResult
from monitor.reporting.svg import heat_map, timeline, trend_chart
from monitor.reporting.texts import Texts

MAX_BREACH_ROWS: Final = 300
FONT_STACK: Final = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", sans-serif'
)
CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS: Final = """
:root { color-scheme: light; }
body { font-family: %FONTS%; margin: 0; color: #1f2328; background: #f6f8fa;
  font-size: 14px; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 14px; margin: 18px 0 4px; }
h1 .en, h2 .en, h3 .en, .sub .en { color: #57606a; font-weight: normal; font-size: 0.8em;
  margin-left: 6px; }
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


def render_html(report: ContractReport, *, generated_at: datetime) -> str:
    """The customer's page; ``generated_at`` is stated in its footer."""
    zh = report.language.lower().startswith("zh")
    page = _Page(report, Texts(zh))
    body = [
        page.header(),
        page.objectives(),
        page.trends(),
        page.heat_maps(),
        page.breaches(),
        page.availability(),
        page.credits(),
        page.footer(generated_at),
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
    def __init__(self, report: ContractReport, texts: Texts) -> None:
        self.report = report
        self.t = texts

    def h2(self, text: str, anchor: str) -> str:
        return f'<h2 id="{anchor}">{self.t.heading(text)}</h2>'

    def head(self, *columns: str) -> str:
        """A table head; a column name starting with ``#`` is numeric (right-aligned)."""
        cells = "".join(
            f'<th class="num">{self.t.html(name[1:])}</th>'
            if name.startswith("#")
            else f"<th>{self.t.html(name) if name else ''}</th>"
            for name in columns
        )
        return f"<thead><tr>{cells}</tr></thead>"

    def local(self, instant: float | None) -> str:
        if instant is None:
            return "–"
        return self.report.period.local(instant).strftime("%Y-%m-%d %H:%M")

    # -- sections ---------------------------------------------------------------

    def header(self) -> str:
        r = self.report
        coverage = (
            self.t.html(
                "data {start} – {end}",
                start=self.local(r.covered_from),
                end=self.local(r.covered_to),
            )
            if r.covered_from is not None
            else self.t.html("no data in this period")
        )
        partial = (
            ""
            if r.complete
            else f' <span class="badge nodata">{self.t.html("partial period")}</span>'
        )
        return (
            f"<header><h1>{escape(r.title)}</h1>"
            f'<p class="sub">{self.t.heading("SLA report")} · {escape(r.period.label)} · '
            f"{escape(r.contract_id)} · {escape(r.timezone)}</p>"
            f'<p class="sub">{coverage}{partial}</p>{self.tiles()}</header>'
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
                f'<div class="tile"><b>{escape(value)}</b>{self.t.html(name)}</div>'
                for name, value in tiles
            )
            + "</div>"
        )

    def objectives(self) -> str:
        rows = []
        for o in self.report.objectives:
            rows.append(
                f"<tr><td><strong>{escape(o.id)}</strong><br>"
                f'<span class="clause">{escape(self.t.kind(o.kind))}'
                f"{' · ' + escape(o.clause) if o.clause else ''}</span></td>"
                f'<td class="num">{_value(o, o.value)}</td>'
                f'<td class="num">{escape(_comparator(o))} {_round_value(o, o.target)}</td>'
                f'<td class="num">{escape(self.margin(o))}</td>'
                f'<td class="num">{escape(self.samples(o, o.samples))}</td>'
                f'<td class="num">{o.breaches:,}</td>'
                f"<td>{self.verdict(o.met)}</td></tr>"
            )
        return (
            self.h2("Objectives", "objectives")
            + "<table>"
            + self.head(
                "objective", "#attainment", "#target", "#margin", "#samples", "#breaches", ""
            )
            + "<tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def samples(self, o: ObjectiveResult, count: float) -> str:
        """Availability counts seconds of service time: shown as hours, not 2,678,400."""
        if o.kind == "availability":
            return self.t("{hours} h", hours=f"{count / 3600:,.0f}" if count >= 3600 else "<1")
        return f"{count:,.0f}"

    def sample_counter(self, o: ObjectiveResult) -> Callable[[float], str]:
        """How a chart's tooltip states one day's samples of ``o``."""
        return lambda count: self.t("{samples} samples", samples=self.samples(o, count))

    def verdict(self, met: bool | None) -> str:
        if met is None:
            return f'<span class="badge nodata">{self.t.html("no data")}</span>'
        if met:
            return f'<span class="badge met">{self.t.html("met")}</span>'
        return f'<span class="badge missed">{self.t.html("missed")}</span>'

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
                    target_label=self.t(
                        "target {value}", value=f"{_comparator(o)} {_round_value(o, o.target)}"
                    ),
                    describe_samples=self.sample_counter(o),
                    label=f"daily {o.id}",
                )
            )
        if not charts:
            return (
                self.h2("Daily trend", "trend")
                + f"<p>{self.t.html('No samples in this period.')}</p>"
            )
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
                    words=self.t,
                )
            )
        if not maps:
            return ""
        legend = self.t.html(
            "Local hour of day across, days down: green where the hour met the target "
            "(darker: further inside), red where it missed, grey without calls."
        )
        return (
            self.h2("Hour-of-day service level", "heatmap")
            + f'<p class="legend">{legend}</p>'
            + "".join(maps)
        )

    def breaches(self) -> str:
        r = self.report
        if not r.breaches:
            return (
                self.h2("Breaches", "breaches")
                + f"<p>{self.t.html('No item missed its deadline.')}</p>"
            )
        queues = "".join(
            f'<tr><td>{escape(queue)}</td><td class="num">{count:,}</td></tr>'
            for queue, count in r.top_queues
        )
        shown = r.breaches[:MAX_BREACH_ROWS]
        rows = "".join(
            f"<tr><td>{escape(b.item_id)}</td><td>{escape(b.objective_id)}</td>"
            f"<td>{self.local(b.deadline)}</td>"
            f'<td class="num">{self.late_by(b.late_s, b.still_open)}</td>'
            f"<td>{escape(b.queue or '–')}</td><td>{escape(b.channel or '–')}</td></tr>"
            for b in shown
        )
        hidden = len(r.breaches) - len(shown)
        more = (
            f"<p>{self.t.html('{count} more in the breaches CSV.', count=f'{hidden:,}')}</p>"
            if hidden
            else ""
        )
        return (
            self.h2("Breaches", "breaches")
            + f"<h3>{self.t.heading('Top queues by breaches')}</h3>"
            + '<table class="narrow">'
            + self.head("queue", "#breaches")
            + f"<tbody>{queues}</tbody></table>"
            + f"<h3>{self.t.heading('Missed items')}</h3><table>"
            + self.head("item", "objective", "deadline", "#late by", "queue", "channel")
            + f"<tbody>{rows}</tbody></table>{more}"
        )

    def late_by(self, late_s: float | None, still_open: bool) -> str:
        late = self.duration(late_s)
        return self.t.html("{value} (open)", value=late) if still_open else escape(late)

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
                f"{_value(objective, objective.value)} "
                f"({self.t.html('{down} down', down=self.duration(a.downtime_s))})</h3>"
            )
            parts.append(
                timeline(
                    a.segments,
                    r.period.start,
                    r.period.end,
                    down_states=down,
                    local=r.period.local,
                    label=f"availability timeline {a.objective_id}",
                    words=self.t,
                )
            )
            if a.outages:
                rows = "".join(
                    f"<tr><td>{self.local(o.start)}</td><td>"
                    + (
                        self.t.html("{end} (ongoing)", end=self.local(o.end))
                        if o.ongoing
                        else self.local(o.end)
                    )
                    + f'</td><td class="num">{self.duration(o.duration_s)}</td></tr>'
                    for o in a.outages
                )
                parts.append(
                    "<table>"
                    + self.head("outage start", "end", "#duration")
                    + f"<tbody>{rows}</tbody></table>"
                )
            else:
                parts.append(f"<p>{self.t.html('No outage in this period.')}</p>")
        return "".join(parts)

    def credits(self) -> str:
        c = self.report.credits
        head = self.h2("Service credits", "credits")
        if c.not_applicable == "not a month":
            why = self.t.html(
                "Service credits are assessed per calendar month; report a month to see them."
            )
            return f"{head}<p>{why}</p>"
        if not c.applicable:
            return head + f"<p>{self.t.html('The agreement has no service credit section.')}</p>"
        rows = "".join(
            f"<tr><td><strong>{escape(line.objective_id)}</strong><br>"
            f'<span class="clause">{escape(line.clause)}</span>'
            f"{_clause_line(line.objective_clause)}"
            f'</td><td class="num">{line.percent_of_fee:g}%</td>'
            f"<td>{self.t.html(line.status)}</td>"
            f'<td class="num">{line.percent_owed:g}%</td></tr>'
            for line in c.lines
        )
        total = self.t.html("{percent}% of the monthly fee", percent=f"{c.percent_owed:g}")
        if c.percent_before_cap > c.percent_owed:
            total += (
                " ("
                + self.t.html("capped from {percent}%", percent=f"{c.percent_before_cap:g}")
                + ")"
            )
        if c.amount_owed is not None:
            total += f" = {c.amount_owed:,.2f} {escape(c.currency)}"
        note = self.t(
            "Missed objectives owe their percentage of the monthly fee once per month, "
            "capped at {cap}% in total.",
            cap=f"{c.cap_percent:g}",
        )
        if c.provisional:
            note += " " + self.t("Provisional: the data does not cover the whole month.")
        return (
            head
            + "<table>"
            + self.head("objective and clause", "#credit", "status", "#owed")
            + f"<tbody>{rows}<tr class=total><td>{self.t.html('Total owed')}</td><td></td><td></td>"
            f'<td class="num">{total}</td></tr>'
            f'</tbody></table><p class="note">{escape(note)}</p>'
        )

    def footer(self, generated_at: datetime) -> str:
        """What the reader needs to file the page; the event accounting stays in the JSON."""
        r = self.report
        made = self.t.html(
            "Agreement {title} ({contract}) · period {period}, {timezone} · "
            "generated {generated} by slamon {version}.",
            title=r.title,
            contract=r.contract_id,
            period=r.period.label,
            timezone=r.timezone,
            generated=generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            version=__version__,
        )
        provenance = self.t.html(
            "Every number is the SLA engine's own count for this period; the JSON and CSV "
            "files carry the same numbers and the event accounting."
        )
        return f"<footer>{made} {provenance}</footer>"

    def margin(self, o: ObjectiveResult) -> str:
        """Distance to the target, in percentage points for ratios."""
        if o.margin is None:
            return "–"
        sign = "+" if o.margin >= 0 else "−"
        if o.unit == "seconds":
            return f"{sign}{abs(o.margin):.1f} s"
        return self.t("{value} pp", value=f"{sign}{abs(o.margin) * 100:.2f}")

    def duration(self, seconds: float | None) -> str:
        """A span in its two largest units: ``1d 9h``, ``2h 05m``, ``40m 18s``."""
        if seconds is None:
            return "–"
        total = round(seconds)
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        if days:
            return self.t("{days}d {hours}h", days=days, hours=hours)
        if hours:
            return self.t("{hours}h {minutes}m", hours=hours, minutes=f"{minutes:02d}")
        if minutes:
            return self.t("{minutes}m {seconds}s", minutes=minutes, seconds=f"{secs:02d}")
        return self.t("{seconds}s", seconds=secs)


def _clause_line(clause: str) -> str:
    return f'<br><span class="clause">{escape(clause)}</span>' if clause else ""


def _formatter(o: ObjectiveResult) -> Callable[[float], str]:
    if o.unit == "seconds":
        return lambda v: f"{v:.1f} s"
    return lambda v: f"{v * 100:.1f}%"


def _comparator(o: ObjectiveResult) -> str:
    return {">=": "≥", "<=": "≤"}.get(o.comparator, o.comparator)


def _round_value(o: ObjectiveResult, value: float) -> str:
    """A target as the agreement states it: 95%, 99.5%, 30 s (no trailing zeros)."""
    if o.unit == "seconds":
        return f"{value:g} s"
    return f"{round(value * 100, 4):g}%"


def _value(o: ObjectiveResult, value: float | None) -> str:
    if value is None:
        return "–"
    if o.unit == "seconds":
        return f"{value:.1f} s"
    return f"{value * 100:.2f}%"

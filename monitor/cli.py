"""The ``slamon`` command line: builds settings once and passes them down."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from monitor.notify_cli import notify_app

app = typer.Typer(
    name="slamon",
    help="Streaming SLA breach monitor for customer-service and contact-center operations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold a webhook URL or key
)
app.add_typer(notify_app)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
out = Console()

EXIT_INVALID_RULES = 2


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Agreement files or folders (default: rules/)")
    ] = None,
) -> None:
    """Check agreement files; print file:line: field: message per problem; exit 2 on error."""
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules(paths or [Path("rules")])
    for problem in problems:
        print(problem)
    if problems:
        err.print(f"[red]{len(problems)} problem(s)[/red] in the agreement files")
        raise typer.Exit(EXIT_INVALID_RULES)
    err.print(f"[green]ok[/green]: {len(agreements)} agreement(s) valid")


def _load_or_exit(rules: Path) -> list[Any]:
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules([rules])
    if problems:
        for problem in problems:
            print(problem)
        err.print(f"[red]{len(problems)} problem(s)[/red] in {rules}; nothing was run")
        raise typer.Exit(EXIT_INVALID_RULES)
    return agreements


def _parse_instant(text: str | None) -> float | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise typer.BadParameter("needs an offset, e.g. 2026-11-20T18:00:00Z", param_hint="--until")
    return moment.timestamp()


@app.command()
def replay(
    events: Annotated[Path, typer.Argument(help="Events file, one JSON event per line")],
    rules: Annotated[Path, typer.Option(help="Agreement files folder")] = Path("rules"),
    alerts: Annotated[Path | None, typer.Option(help="Write alert state changes (JSONL)")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the objective report (JSON)")] = None,
    until: Annotated[
        str | None, typer.Option(help="Flush event time to this RFC 3339 instant at the end")
    ] = None,
    lateness: Annotated[float, typer.Option(help="Allowed lateness, seconds")] = 60.0,
) -> None:
    """Run the engine over a file in event time; write alerts and the report."""
    from monitor.replay import read_lines, write_alert
    from monitor.replay import replay as run_replay
    from monitor.views import objective_table

    agreements = _load_or_exit(rules)
    flush_at = _parse_instant(until)
    alerts_handle = alerts.open("w", encoding="utf-8") if alerts else None
    counts = {"alerts": 0}

    def on_alert(alert: Any) -> None:
        counts["alerts"] += 1
        if alerts_handle is not None:
            write_alert(alerts_handle, alert)

    try:
        with _byte_progress(events, "replaying") as advance:
            result = run_replay(
                read_lines(events, advance),
                agreements,
                lateness=lateness,
                until=flush_at,
                on_alert=on_alert,
            )
    finally:
        if alerts_handle is not None:
            alerts_handle.close()
    summary = result.report()
    if report is not None:
        report.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    err.print(objective_table(summary))
    ev = summary["events"]
    err.print(
        f"{ev['total']} events: {ev['invalid']} invalid, {ev['duplicates']} duplicate, "
        f"{ev['late']} late, {ev['unknown_contract']} for unknown contracts; "
        f"{counts['alerts']} alert state changes"
    )


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Write events here (JSONL)")] = Path("events.jsonl"),
    rules: Annotated[Path, typer.Option(help="Agreement files folder")] = Path("rules"),
    start: Annotated[
        str | None,
        typer.Option(
            help="Simulated start, RFC 3339 or 'now' [file: 2026-11-16T00:00:00Z; --kafka: now]"
        ),
    ] = None,
    hours: Annotated[float, typer.Option(help="Simulated duration in hours")] = 24.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same traffic)")] = 1,
    kafka: Annotated[
        bool, typer.Option("--kafka", help="Publish live to the event topics instead of a file")
    ] = False,
    speed: Annotated[
        float, typer.Option(help="--kafka: simulated seconds per wall second (0 = no pacing)")
    ] = 1.0,
    duration: Annotated[
        float | None, typer.Option(help="--kafka: stop after this many wall seconds")
    ] = None,
) -> None:
    """Realistic synthetic traffic for the agreements in rules/, to a file or live to Kafka."""
    from monitor.kafka_commands import parse_start, simulate_to_kafka
    from monitor.simulate import simulate as generate
    from monitor.simulate import write_jsonl

    agreements = _load_or_exit(rules)
    try:
        begin = parse_start(start or ("now" if kafka else "2026-11-16T00:00:00Z"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    if kafka:
        with _monitor_errors():
            simulate_to_kafka(
                agreements,
                _settings(),
                err,
                start=begin,
                hours=hours,
                seed=seed,
                speed=speed,
                max_wall_s=duration,
            )
        return
    count = write_jsonl(
        generate(agreements, start=begin, duration=timedelta(hours=hours), seed=seed), out
    )
    err.print(f"wrote {count} events for {len(agreements)} contract(s) to {out}")


@app.command()
def produce(
    events: Annotated[Path, typer.Argument(help="Events file, one JSON event per line")],
) -> None:
    """Publish a JSONL file to the event topics, keyed by contract_id (brokers from settings)."""
    from monitor.kafka_commands import produce as run_produce

    if not events.is_file():
        raise typer.BadParameter(f"{events}: no such file", param_hint="EVENTS")
    with _monitor_errors():
        run_produce(events, _settings(), err)


def _settings() -> Any:
    from monitor.settings import Settings

    return Settings.load()


@contextmanager
def _monitor_errors() -> Iterator[None]:
    """A MonitorError (no brokers, bad settings) ends the command with its message, exit 1."""
    from monitor.domain.errors import MonitorError

    try:
        yield
    except MonitorError as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc


@app.command()
def demo(
    rules: Annotated[Path, typer.Option(help="Agreement files folder")] = Path("rules"),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C)")
    ] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per wall second")] = 360.0,
    hours: Annotated[float, typer.Option(help="Simulated hours")] = 24.0,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    start: Annotated[
        str | None, typer.Option(help="Simulated start, RFC 3339 [next weekday 01:00 UTC]")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the demo's files")] = Path("out/demo"),
    offline: Annotated[
        bool, typer.Option("--offline", help="No Kafka: simulate a file and replay it")
    ] = False,
) -> None:
    """Live: broker (embedded unless configured), simulator, worker and a live view."""
    if offline:
        _offline_demo(rules, hours, seed, out)
        return
    from monitor.demo import DemoOptions, run_demo
    from monitor.kafka_commands import parse_start

    agreements = _load_or_exit(rules)
    try:
        begin = parse_start(start) if start else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    options = DemoOptions(
        duration_s=duration, speed=speed, hours=hours, seed=seed, start=begin, out=out
    )
    with _monitor_errors():
        result = run_demo(
            _settings().model_copy(update={"rules_dir": rules}), agreements, options, err
        )
    if result.worker_exit is not None:
        raise typer.Exit(1)


def _offline_demo(rules: Path, hours: float, seed: int, out: Path) -> None:
    """Simulate a day of traffic for the rules/ agreements and replay it through the engine."""
    out.mkdir(parents=True, exist_ok=True)
    events = out / "events.jsonl"
    simulate(out=events, rules=rules, start="2026-11-16T00:00:00Z", hours=hours, seed=seed)
    replay(
        events,
        rules=rules,
        alerts=out / "alerts.jsonl",
        report=out / "report.json",
        until=None,
        lateness=60.0,
    )
    from monitor.views import alerts_table

    with (out / "alerts.jsonl").open(encoding="utf-8") as handle:
        err.print(alerts_table([json.loads(line) for line in handle]))
    err.print(f"files in {out}/: events.jsonl, alerts.jsonl, report.json")


@app.command()
def run(
    rules: Annotated[
        Path | None, typer.Option(help="Agreement files folder (default: settings rules_dir)")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Settings file (.toml/.yaml)")] = None,
) -> None:
    """A live worker: events from Kafka in, alerts out, /metrics served; Ctrl-C stops it."""
    from monitor.settings import Settings
    from monitor.stream.worker import run_standalone

    settings = Settings.load(config)
    agreements = _load_or_exit(rules or settings.rules_dir)
    with _monitor_errors():
        run_standalone(settings, agreements, warn=lambda t: err.print(f"[yellow]{t}[/yellow]"))


@app.command()
def report(
    events: Annotated[
        Path | None, typer.Argument(help="Events file, one JSON event per line (or --kafka)")
    ] = None,
    rules: Annotated[Path, typer.Option(help="Agreement files folder")] = Path("rules"),
    contract: Annotated[
        list[str] | None, typer.Option(help="Contract id (repeatable; default: every agreement)")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Calendar month YYYY-MM in the contract's time zone")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Range start: YYYY-MM-DD (local) or RFC 3339")
    ] = None,
    to: Annotated[
        str | None, typer.Option(help="Range end: YYYY-MM-DD (inclusive) or RFC 3339 (exclusive)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the report files")] = Path("out/report"),
    monthly_fee: Annotated[
        float | None, typer.Option(help="Monthly fee, to state credits as an amount")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of the monthly fee")] = "",
    credit_cap: Annotated[
        float, typer.Option(help="Cap on the month's total credits, percent of the fee")
    ] = 100.0,
    until: Annotated[
        str | None,
        typer.Option(help="Flush event time to this RFC 3339 instant (e.g. the period's end)"),
    ] = None,
    lateness: Annotated[float, typer.Option(help="Allowed lateness, seconds")] = 60.0,
    kafka: Annotated[
        bool, typer.Option("--kafka", help="Read the event topics (brokers from settings)")
    ] = False,
    lookback_days: Annotated[
        float, typer.Option(help="--kafka: also read this many days before the period")
    ] = 31.0,
) -> None:
    """Monthly (or --from/--to) SLA report per contract: JSON, CSV and HTML with credits."""
    from monitor.replay import read_lines
    from monitor.reporting.credits import CreditTerms
    from monitor.reporting.run import build_reports, write_outputs

    if (events is None) == (not kafka):
        raise typer.BadParameter("give an events file or --kafka (not both)", param_hint="EVENTS")
    agreements = _select(_load_or_exit(rules), contract)
    period_of = _period_of(period, from_, to)
    terms = CreditTerms(monthly_fee, currency, credit_cap)
    if events is None:
        lines, source = _kafka_lines(agreements, period_of, lookback_days * 86400)
        run = build_reports(
            lines,
            agreements,
            period_of,
            terms=terms,
            lateness=lateness,
            until=_parse_instant(until),
            source=source,
        )
    else:
        with _byte_progress(events, "reporting") as advance:
            run = build_reports(
                read_lines(events, advance),
                agreements,
                period_of,
                terms=terms,
                lateness=lateness,
                until=_parse_instant(until),
                source={"kind": "file", "path": str(events)},
            )
    for path in write_outputs(run, out):
        print(path)
    for item in run.reports:
        verdicts = [o.met for o in item.objectives]
        err.print(
            f"{item.contract_id} {item.period.label}: {verdicts.count(True)} met, "
            f"{verdicts.count(False)} missed, {verdicts.count(None)} without data; "
            f"{len(item.breaches)} item breaches; credits {item.credits.percent_owed:g}%"
        )


def _kafka_lines(
    agreements: list[Any], period_of: Callable[[Any], Any], lookback_s: float
) -> tuple[list[bytes], dict[str, Any]]:
    """The events of the deployment from ``lookback`` before the periods to a day after."""
    import asyncio

    from monitor.kafka_commands import require_brokers
    from monitor.reporting.kafka_source import read_events

    periods = [period_of(a) for a in agreements]
    since = min(p.start for p in periods) - lookback_s
    until = max(p.end for p in periods) + 86400
    with _monitor_errors():
        settings = require_brokers(_settings())
        read = asyncio.run(read_events(settings, since, until))
    err.print(
        f"read {len(read.lines)} events from {settings.bootstrap_servers} "
        f"({read.skipped_before} before the start time, {read.skipped_after} past the end)"
    )
    return read.lines, {
        "kind": "kafka",
        "brokers": settings.bootstrap_servers,
        "start_offsets": read.start_offsets,
        "records": read.records,
    }


def _select(agreements: list[Any], contract_ids: list[str] | None) -> list[Any]:
    if not contract_ids:
        return agreements
    known = {a.contract_id: a for a in agreements}
    missing = [cid for cid in contract_ids if cid not in known]
    if missing:
        raise typer.BadParameter(
            f"no agreement for {', '.join(missing)} (known: {', '.join(sorted(known))})",
            param_hint="--contract",
        )
    return [known[cid] for cid in contract_ids]


def _period_of(month: str | None, start: str | None, end: str | None) -> Callable[[Any], Any]:
    from monitor.reporting.period import PeriodError, month_period, range_period

    if (month is None) == (start is None and end is None) or (start is None) != (end is None):
        raise typer.BadParameter("give either --period YYYY-MM or both --from and --to")

    def period_of(agreement: Any) -> Any:
        try:
            if month is not None:
                return month_period(agreement.timezone, month)
            assert start is not None
            assert end is not None
            return range_period(agreement.timezone, start, end)
        except PeriodError as exc:
            raise typer.BadParameter(str(exc)) from exc

    return period_of


@contextmanager
def _byte_progress(path: Path, label: str) -> Iterator[Callable[[int], None] | None]:
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        f"[bold]{label}", BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=err
    ) as progress:
        task = progress.add_task(label, total=path.stat().st_size)
        yield lambda size: progress.advance(task, size)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

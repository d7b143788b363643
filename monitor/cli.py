"""The ``slamon`` command line: builds settings once and passes them down."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from monitor.cli_errors import SlamonGroup
from monitor.cli_options import (
    at_least,
    between,
    existing_file,
    existing_path,
    greater_than,
    output_folder,
    parse_instant,
    writable_file,
)
from monitor.domain.admission import DEFAULT_MAX_FUTURE_S
from monitor.domain.errors import RuntimeFailureError, UsageError
from monitor.domain.lateness import DEFAULT_LATENESS
from monitor.notify_cli import notify_app

app = typer.Typer(
    name="slamon",
    cls=SlamonGroup,
    help="Streaming SLA breach monitor for customer-service and contact-center operations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: flags shown as flags, [brackets] kept as written
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(notify_app)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
out = Console()

SIMULATE_FILE_START = "2026-11-16T00:00:00Z"

RulesOption = Annotated[
    Path,
    typer.Option(
        metavar="PATH", help="Agreement files folder (or one file)", callback=existing_path
    ),
]
EventsArgument = Annotated[
    Path,
    typer.Argument(
        metavar="EVENTS", help="Events file, one JSON event per line", callback=existing_file
    ),
]
LatenessOption = Annotated[
    float,
    typer.Option(metavar="SECONDS", help="Allowed lateness, seconds (>= 0)", callback=at_least(0)),
]


def _optional_file(path: Path | None) -> Path | None:
    return None if path is None else existing_file(path)


SeedOption = Annotated[
    int, typer.Option(metavar="N", min=0, help="Random seed (same seed, same traffic)")
]


def _print_version(value: bool) -> None:
    if value:
        from monitor.version import slamon_version

        print(f"slamon {slamon_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Streaming SLA breach monitor for customer-service and contact-center operations."""


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PATH", help="Agreement files or folders (default: rules/)"),
    ] = None,
) -> None:
    """Check agreement files; one line per problem, exit 2 on any.

    Prints file:line: field: message per problem on stdout (or an ok line naming
    the spec version read, slamon/v1), and a one-line count on stderr.
    """
    from monitor.rulespec.loader import load_rules
    from monitor.rulespec.v1 import VERSION

    agreements, problems = load_rules(paths or [Path("rules")])
    for problem in problems:
        print(problem)
    if problems:
        raise UsageError(
            f"{len(problems)} problem(s) in the agreement files (checked against {VERSION})"
        )
    print(f"ok: {len(agreements)} agreement(s) valid ({VERSION})")


def _load_or_exit(rules: Path) -> list[Any]:
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules([rules])
    if problems:
        for problem in problems:
            print(problem)
        raise UsageError(
            f"{len(problems)} problem(s) in {rules} (listed on stdout); nothing was run"
        )
    return agreements


@app.command()
def replay(
    events: EventsArgument,
    rules: RulesOption = Path("rules"),
    alerts: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write alert state changes (JSONL)", callback=writable_file
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write the objective report (JSON)", callback=writable_file
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="RFC3339", help="Flush event time to this RFC 3339 instant at the end"
        ),
    ] = None,
    lateness: LatenessOption = DEFAULT_LATENESS,
    max_future: Annotated[
        float,
        typer.Option(
            "--max-future",
            metavar="SECONDS",
            help="Events dated further ahead of the wall clock are invalid (time_out_of_range)",
            callback=greater_than(0),
        ),
    ] = DEFAULT_MAX_FUTURE_S,
) -> None:
    """Run the engine over an events file; write alerts and the report.

    Event time only; at the end of input, event time is flushed (to --until if given).
    """
    import time

    from monitor.replay import TimeRange, read_lines, write_alert
    from monitor.replay import replay as run_replay
    from monitor.views import objective_table

    flush_at = parse_instant(until, "--until")
    time_range = TimeRange(now=time.time(), max_future_s=max_future)
    agreements = _load_or_exit(rules)
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
                time_range=time_range,
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
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="Write events here (JSONL)", callback=writable_file)
    ] = Path("events.jsonl"),
    rules: RulesOption = Path("rules"),
    start: Annotated[
        str | None,
        typer.Option(
            metavar="RFC3339|now",
            help=f"Simulated start, RFC 3339 or 'now' [default: {SIMULATE_FILE_START} "
            "to a file, now with --kafka]",
        ),
    ] = None,
    hours: Annotated[
        float,
        typer.Option(
            metavar="HOURS", help="Simulated duration in hours (> 0)", callback=greater_than(0)
        ),
    ] = 24.0,
    seed: SeedOption = 1,
    kafka: Annotated[
        bool, typer.Option("--kafka", help="Publish live to the event topics instead of a file")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(
            metavar="N",
            help="--kafka: simulated seconds per wall second (0 = no pacing)",
            callback=at_least(0),
        ),
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="--kafka: stop after this many wall seconds",
            callback=greater_than(0),
        ),
    ] = None,
) -> None:
    """Synthetic traffic for the rules/ agreements, to a file or Kafka.

    A queueing model with peaks and staffing gaps; the same seed gives the same traffic.
    """
    from monitor.simulate import simulate as generate
    from monitor.simulate import write_jsonl
    from monitor.stream.kafka_commands import parse_start, simulate_to_kafka

    agreements = _load_or_exit(rules)
    try:
        begin = parse_start(start or ("now" if kafka else SIMULATE_FILE_START))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    if kafka:
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
    events: EventsArgument,
    allow_invalid: Annotated[
        bool,
        typer.Option(
            "--allow-invalid",
            help="Exit 0 even when lines were dead-lettered (default: exit 1 and say why)",
        ),
    ] = False,
) -> None:
    """Publish an events file to the event topics, keyed by contract.

    Brokers come from settings (SLAMON_KAFKA_BROKERS or the config file).

    Lines that cannot be routed go to the dead-letter topic with their reason; the
    command then exits 1 with a count per reason, unless --allow-invalid.
    """
    from monitor.stream.kafka_commands import produce as run_produce

    stats = run_produce(events, _settings(), err)
    if stats.deadlettered and not allow_invalid:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(stats.by_reason.items()))
        raise RuntimeFailureError(
            f"{stats.deadlettered} line(s) of {events} were invalid ({reasons}) and went to the "
            "dead-letter topic; fix them and produce those lines again, or pass --allow-invalid"
        )


def _settings() -> Any:
    from monitor.settings import Settings

    return Settings.load()


@app.command()
def demo(
    rules: RulesOption = Path("rules"),
    duration: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Stop after this many seconds (default: Ctrl-C)",
            callback=greater_than(0),
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            metavar="N",
            help="Simulated seconds per wall second (0 = no pacing)",
            callback=at_least(0),
        ),
    ] = 360.0,
    hours: Annotated[
        float, typer.Option(metavar="HOURS", help="Simulated hours (> 0)", callback=greater_than(0))
    ] = 24.0,
    seed: SeedOption = 1,
    start: Annotated[
        str | None,
        typer.Option(
            metavar="RFC3339", help="Simulated start, RFC 3339 [default: next weekday 01:00 UTC]"
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(metavar="DIR", help="Folder for the demo's files", callback=output_folder),
    ] = Path("out/demo"),
    offline: Annotated[
        bool, typer.Option("--offline", help="No Kafka: simulate a file and replay it")
    ] = False,
) -> None:
    """Live demo: broker, simulator, worker and a live objective view.

    The broker is embedded unless one is configured; --offline needs no Kafka.
    """
    if offline:
        _offline_demo(rules, hours, seed, out)
        return
    from monitor.demo import DemoOptions, run_demo
    from monitor.stream.kafka_commands import parse_start

    agreements = _load_or_exit(rules)
    try:
        begin = parse_start(start) if start else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    options = DemoOptions(
        duration_s=duration, speed=speed, hours=hours, seed=seed, start=begin, out=out
    )
    result = run_demo(_settings().model_copy(update={"rules_dir": rules}), agreements, options, err)
    if result.worker_exit is not None:
        raise typer.Exit(1)


def _offline_demo(rules: Path, hours: float, seed: int, out: Path) -> None:
    """Simulate a day of traffic for the rules/ agreements and replay it through the engine."""
    out.mkdir(parents=True, exist_ok=True)
    events = out / "events.jsonl"
    simulate(out=events, rules=rules, start=SIMULATE_FILE_START, hours=hours, seed=seed)
    replay(
        events,
        rules=rules,
        alerts=out / "alerts.jsonl",
        report=out / "report.json",
        until=None,
        lateness=DEFAULT_LATENESS,
    )
    from monitor.views import alerts_table

    with (out / "alerts.jsonl").open(encoding="utf-8") as handle:
        err.print(alerts_table([json.loads(line) for line in handle]))
    err.print(f"files in {out}/: events.jsonl, alerts.jsonl, report.json")


@app.command()
def run(
    rules: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Agreement files folder (default: settings rules_dir)",
            callback=existing_path,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Settings file (.toml/.yaml)", callback=_optional_file),
    ] = None,
) -> None:
    """A live worker: events in, alerts out, /metrics; Ctrl-C stops it.

    Brokers from settings, else an embedded broker (with a warning).
    """
    from monitor.settings import Settings
    from monitor.stream.worker import run_standalone

    settings = Settings.load(config)
    agreements = _load_or_exit(rules or settings.rules_dir)
    _require_free_port(settings.metrics_port)
    run_standalone(settings, agreements, warn=lambda t: err.print(f"[yellow]{t}[/yellow]"))


def _require_free_port(port: int) -> None:
    """Fail before any broker work when the metrics port is taken (e.g. a second worker)."""
    from monitor.demo.processes import port_is_free

    if port and not port_is_free(port):
        raise RuntimeFailureError(
            f"metrics port {port} is already in use (another slamon?); "
            "choose a free one with SLAMON_METRICS_PORT=<port>"
        )


@app.command()
def report(
    events: Annotated[
        Path | None,
        typer.Argument(
            metavar="EVENTS",
            help="Events file, one JSON event per line (or --kafka)",
            callback=_optional_file,
        ),
    ] = None,
    rules: RulesOption = Path("rules"),
    contract: Annotated[
        list[str] | None,
        typer.Option(metavar="ID", help="Contract id (repeatable; default: every agreement)"),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", help="Calendar month YYYY-MM in the contract's time zone"),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="Range start: YYYY-MM-DD (local) or RFC 3339"),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            metavar="DATE", help="Range end: YYYY-MM-DD (inclusive) or RFC 3339 (exclusive)"
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(metavar="DIR", help="Folder for the report files", callback=output_folder),
    ] = Path("out/report"),
    monthly_fee: Annotated[
        float | None,
        typer.Option(
            metavar="AMOUNT",
            help="Monthly fee (> 0, with --currency), to state credits as an amount",
            callback=greater_than(0),
        ),
    ] = None,
    currency: Annotated[
        str,
        typer.Option(
            metavar="CODE", help="Currency of the monthly fee, e.g. USD (needs --monthly-fee)"
        ),
    ] = "",
    credit_cap: Annotated[
        float,
        typer.Option(
            metavar="PERCENT",
            help="Cap on the month's total credits, percent of the fee (0-100)",
            callback=between(0, 100),
        ),
    ] = 100.0,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="RFC3339",
            help="Flush event time to this RFC 3339 instant (e.g. the period's end)",
        ),
    ] = None,
    lateness: LatenessOption = DEFAULT_LATENESS,
    kafka: Annotated[
        bool, typer.Option("--kafka", help="Read the event topics (brokers from settings)")
    ] = False,
    lookback_days: Annotated[
        float,
        typer.Option(
            metavar="DAYS",
            help="--kafka: also read this many days before the period (>= 0)",
            callback=at_least(0),
        ),
    ] = 31.0,
) -> None:
    """SLA report per contract and month: JSON, CSV, HTML with credits.

    A calendar month (--period) or a range (--from/--to), from a file or --kafka.
    """
    from monitor.replay import read_lines
    from monitor.reporting.credits import CreditTerms
    from monitor.reporting.run import build_reports, write_outputs

    if (events is None) == (not kafka):
        raise typer.BadParameter("give an events file or --kafka (not both)", param_hint="EVENTS")
    flush_at = parse_instant(until, "--until")
    terms = CreditTerms(monthly_fee, _currency(monthly_fee, currency), credit_cap)
    known = _load_or_exit(rules)
    agreements = _select(known, contract)
    out_of_scope = {a.contract_id for a in known} - {a.contract_id for a in agreements}
    period_of = _period_of(period, from_, to)
    if events is None:
        lines, source = _kafka_lines(agreements, period_of, lookback_days * 86400)
        run = build_reports(
            lines,
            agreements,
            period_of,
            terms=terms,
            lateness=lateness,
            until=flush_at,
            source=source,
            out_of_scope=out_of_scope,
        )
    else:
        with _byte_progress(events, "reporting") as advance:
            run = build_reports(
                read_lines(events, advance),
                agreements,
                period_of,
                terms=terms,
                lateness=lateness,
                until=flush_at,
                source={"kind": "file", "path": str(events)},
                out_of_scope=out_of_scope,
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


def _currency(monthly_fee: float | None, currency: str) -> str:
    """A fee is only an amount with its currency; a currency alone has nothing to name."""
    currency = currency.strip()
    if monthly_fee is not None and not currency:
        raise typer.BadParameter("--monthly-fee needs --currency (e.g. --currency USD)")
    if monthly_fee is None and currency:
        raise typer.BadParameter("--currency needs --monthly-fee")
    return currency


def _kafka_lines(
    agreements: list[Any], period_of: Callable[[Any], Any], lookback_s: float
) -> tuple[list[bytes], dict[str, Any]]:
    """The events of the deployment from ``lookback`` before the periods to a day after."""
    import asyncio

    from monitor.stream.kafka_commands import kafka_failures, require_brokers
    from monitor.stream.kafka_source import read_events

    periods = [period_of(a) for a in agreements]
    since = min(p.start for p in periods) - lookback_s
    until = max(p.end for p in periods) + 86400
    settings = require_brokers(_settings())
    with kafka_failures(settings):
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

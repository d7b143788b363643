"""``slamon notify``: run the notifier alone, or send a test notification through one sink."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from monitor.domain.alerts import Alert, Subject
from monitor.domain.errors import MonitorError, UsageError
from monitor.domain.escalation import Notification

notify_app = typer.Typer(
    name="notify",
    help="Notifications: run the notifier, test a sink.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
err = Console(stderr=True)

NotifiersOption = Annotated[
    Path | None,
    typer.Option("--notifiers", help="Notifiers file (default: settings notifiers_file)"),
]


def _settings(notifiers: Path | None) -> Any:
    from monitor.settings import Settings

    settings = Settings.load()
    if notifiers is not None:
        settings = settings.model_copy(update={"notifiers_file": notifiers})
    if settings.notifiers_file is None:
        raise UsageError("no notifiers file: set SLAMON_NOTIFIERS_FILE or --notifiers")
    return settings


@notify_app.command("test")
def send_test(
    sink: Annotated[str, typer.Option("--sink", help="Name of the sink in the notifiers file")],
    notifiers: NotifiersOption = None,
    resolve: Annotated[
        bool, typer.Option(help="Resolve the test alert afterwards (--no-resolve keeps it open)")
    ] = True,
) -> None:
    """Send a test alert through the real sink and retry wrapper; exit 1 if it was not accepted."""
    from monitor.logs import configure_logging
    from monitor.sinks.config import load_notifiers

    settings = _settings(notifiers)
    configure_logging(settings.log_level, settings.log_format)
    try:
        loaded = load_notifiers(settings.notifiers_file)
    except MonitorError as exc:
        raise UsageError(str(exc)) from exc
    if sink not in loaded.sinks:
        raise UsageError(f"no sink {sink!r} in {loaded.source}: {sorted(loaded.sinks)}")
    ok = asyncio.run(_send_test(loaded, sink, resolve=resolve))
    if not ok:
        raise typer.Exit(1)


async def _send_test(loaded: Any, name: str, *, resolve: bool) -> bool:
    import httpx

    from monitor.sinks.retry import DeadLetter, Deliverer

    async def dead_letter(letter: DeadLetter) -> None:
        err.print(
            f"[red]not delivered[/red] to {letter.sink}: {letter.reason} "
            f"({letter.attempts} attempt(s))"
        )

    now = time.time()
    actions = [("breached", "trigger"), ("resolved", "resolve")][: 2 if resolve else 1]
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(client, policy=loaded.retry, dead_letter=dead_letter)
        for state, action in actions:
            note = Notification(name, action, 1, "critical", sample_alert(state, now))  # type: ignore[arg-type]
            if not await deliverer.deliver(loaded.sinks[name], note):
                return False
            err.print(f"[green]ok[/green]: {action} accepted by {name}")
    return True


def sample_alert(state: str, now: float) -> dict[str, Any]:
    """A recognisable alert for wiring checks (contract ``slamon-test``)."""
    return Alert(
        contract_id="slamon-test",
        objective_id="notify-test",
        state=state,  # type: ignore[arg-type]
        severity="critical",
        subject=Subject("window", "notify-test"),
        observed=0.5,
        target=0.8,
        event_time=now,
        summary=f"slamon test notification ({state}): the wiring works",
        description="Sent by `slamon notify test`; nothing is wrong.",
    ).to_json()


@notify_app.command("run")
def run(notifiers: NotifiersOption = None) -> None:
    """Run only the notifier agent (alerts topic → sinks)."""
    settings = _settings(notifiers)
    if settings.embedded:
        raise UsageError("`slamon notify run` needs SLAMON_KAFKA_BROKERS=host:port[,host:port]")
    try:
        asyncio.run(_run(settings))
    except MonitorError as exc:
        raise UsageError(str(exc)) from exc


async def _run(settings: Any) -> None:
    from prometheus_client import start_http_server

    from monitor.logs import configure_logging
    from monitor.metrics import Metrics
    from monitor.stream.faust_app import make_app
    from monitor.stream.notifier import attach_notifier

    configure_logging(settings.log_level, settings.log_format)
    metrics = Metrics()
    metrics.build_info.info({"role": "notifier"})
    app = make_app(settings.model_copy(update={"app_id": f"{settings.app_id}-notifier"}))
    attach_notifier(app, settings, metrics)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await app.start()
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.stop(), 30)

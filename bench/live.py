"""Live throughput and latency on the embedded broker: ``python -m bench.live``.

In one run, on one fresh embedded Tansu broker:

1. preloads the five input topics (``--partitions`` each) with about ``--events``
   simulated events for per-partition copies of the agreements in ``rules/``
   (``<contract>-p<N>``, whose events all go to partition N): every partition
   gets the same mix of contracts, so the same load, where keying five contracts
   by hash would leave some partitions idle;
2. (a) **raw**: an aiokafka consumer reads every partition from the start and
   ``json.loads`` every value (the baseline), ``--repeat`` times;
3. (b) **replay**: ``slamon replay``'s engine loop over the same events in file
   order, in this process, ``--replay-repeat`` times (the engine's own speed: the
   worker's ceiling); with ``--faust-repeat N``, also a bare Faust agent that only
   iterates the same topics, in a child process (the old agent path's ceiling);
4. (c) **worker**: ``slamon run`` as a subprocess processes the preloaded topics to
   the end (``slamon_events_total`` reaches the count, polled every 0.2 s through
   ``/metrics?name[]=...``), ``--worker-repeat`` times, with py-spy sampling the
   last run (where the time goes) and the CPU seconds of the process counted;
5. (d) **latency**: on that last worker, once caught up, new simulated traffic at
   half the measured worker rate with probe chats mixed in; a probe breaches its
   3-minute first-response clock as soon as its partition's watermark passes the
   deadline, so the time from producing the event that moves the watermark there
   to reading the breach on the alerts topic (read in a thread of its own, so the
   paced producer does not delay the reading) is one produce→alert latency;
6. (e) the worker's peak RSS (``VmHWM``) after (c) and after (d);
7. (f) **scaling**: ``--scaling-rounds`` alternated rounds of one worker process,
   then two in one group, on the same preloaded topics; the median of the pairs'
   events/s against the median of the single workers' (use ``--partitions 8``);
8. (g) **deadline delay**: a worker following the wall clock, no events flowing,
   tickets with a 10-second first-response deadline: from each deadline to
   reading its breach on the alerts topic.

Rates are measured from the first to the last record, so the consumer group's
join delay (about half the session timeout on Tansu) is not counted. Results go
to the terminal and ``bench/results/live.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from bench.live_profile import ProfileSummary, summarize_raw
from monitor.demo.processes import WorkerProcess
from monitor.domain.agreement import Agreement
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings, Topics
from monitor.simulate import simulate
from monitor.stream.embedded_broker import EmbeddedBroker, free_port
from monitor.stream.produce import PRODUCER_TUNING
from monitor.stream.simulate_live import event_route

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

ROOT: Final = Path(__file__).resolve().parent.parent
RULES: Final = ROOT / "rules"
RESULTS: Final = ROOT / "bench" / "results" / "live.json"
PRELOAD_START: Final = datetime(2026, 11, 2, tzinfo=UTC)
SEED: Final = 1
SESSION_TIMEOUT_MS: Final = 4000
PROBE_CONTRACT: Final = "call-center-service-agreement"  # chat-first-response: 3m, 24x7
PROBE_DEADLINE_S: Final = 180.0
LATENESS_S: Final = 60.0
PROBES_PER_S: Final = 20
RUN_TIMEOUT_S: Final = 600.0
POLL_S: Final = 0.2
#: The paced producer of (d) sends what came due every this many seconds.
SEND_TICK_S: Final = 0.005
#: The samples the bench follows: /metrics?name[]=... renders only these.
WATCHED: Final = (
    "slamon_events_total",
    "slamon_events_invalid_total",
    "slamon_alerts_total",
    "slamon_worker_ready",
)
COPY_SUFFIX: Final = re.compile(r"-p(\d+)$")

console = Console(soft_wrap=True)


@dataclass(frozen=True, slots=True)
class Args:
    events: int
    partitions: int
    repeat: int
    faust_repeat: int
    replay_repeat: int
    worker_repeat: int
    latency_s: float
    profile: bool
    scaling: bool = True
    scaling_rounds: int = 3


@dataclass(slots=True)
class WorkerRun:
    events_per_s: float
    seconds: float
    startup_s: float
    alerts: float
    peak_rss_mb: float
    events_processed: float
    #: CPU seconds (user + system) of the worker process over the measured window
    cpu_s: float = 0.0
    #: CPU seconds of the broker process over the same window
    broker_cpu_s: float = 0.0


@dataclass(slots=True)
class PairRun:
    events_per_s: float
    seconds: float
    #: CPU seconds of each worker process over the measured window
    cpu_s: list[float] = field(default_factory=list)
    #: CPU seconds of the broker process over the same window
    broker_cpu_s: float = 0.0


@dataclass(slots=True)
class Scaling:
    one_worker_events_per_s: list[float]
    two_workers_events_per_s: list[float]
    one_worker_cpu_s: list[float]
    two_workers_cpu_s: list[list[float]]
    one_worker_broker_cpu_s: list[float] = field(default_factory=list)
    two_workers_broker_cpu_s: list[float] = field(default_factory=list)

    @property
    def vs_one_worker(self) -> float:
        one = median(self.one_worker_events_per_s)
        return median(self.two_workers_events_per_s) / one if one else 0.0


@dataclass(slots=True)
class Latency:
    target_rate: float
    achieved_rate: float
    events: int
    probes: int
    measured: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    peak_rss_mb: float = 0.0
    samples_ms: list[float] = field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> Args:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events to preload")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic")
    parser.add_argument("--repeat", type=int, default=5, help="runs of (a) (median)")
    parser.add_argument("--replay-repeat", type=int, default=3, help="runs of (b) (median)")
    parser.add_argument(
        "--faust-repeat", type=int, default=0, help="runs of a bare Faust agent (0: none)"
    )
    parser.add_argument("--worker-repeat", type=int, default=1, help="runs of (c) (median)")
    parser.add_argument("--latency-s", type=float, default=15.0, help="length of (d) in seconds")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument("--no-scaling", action="store_true", help="skip (f)")
    parser.add_argument(
        "--scaling-rounds", type=int, default=3, help="rounds of (f): one worker, two (medians)"
    )
    ns = parser.parse_args(argv)
    counts = (
        ns.events,
        ns.partitions,
        ns.repeat,
        ns.worker_repeat,
        ns.replay_repeat,
        ns.scaling_rounds,
    )
    if min(counts) <= 0 or ns.faust_repeat < 0 or ns.latency_s <= 0:
        parser.error("counts and durations must be positive")
    return Args(
        ns.events,
        ns.partitions,
        ns.repeat,
        ns.faust_repeat,
        ns.replay_repeat,
        ns.worker_repeat,
        latency_s=ns.latency_s,
        profile=not ns.no_profile,
        scaling=not ns.no_scaling,
        scaling_rounds=ns.scaling_rounds,
    )


# -- input ----------------------------------------------------------------------------


class Record(NamedTuple):
    topic: str
    partition: int
    key: bytes
    value: bytes


def copy_rules(source: Path, target: Path, partitions: int) -> Path:
    """One copy of every agreement per partition, ``<contract>-p<N>``, in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        for number in range(partitions):
            copy = re.sub(r"(?m)^contract:\s*(\S+)", rf"contract: \g<1>-p{number}", text, count=1)
            (target / f"{path.stem}-p{number}.yaml").write_text(copy, encoding="utf-8")
    return target


def copy_partition(contract_id: str) -> int:
    """The partition of a per-partition copy's events: N of ``<contract>-p<N>``."""
    match = COPY_SUFFIX.search(contract_id)
    if match is None:
        raise ValueError(f"{contract_id!r} is not a per-partition copy")
    return int(match.group(1))


def encode(events: Iterator[dict[str, Any]], topics: Topics) -> list[Record]:
    dump = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    records = []
    for event in events:
        topic, key = event_route(event, topics)
        partition = copy_partition(str(event["contract_id"]))
        records.append(Record(topic, partition, key, dump(event).encode()))
    return records


def preload_records(agreements: Sequence[Agreement], count: int, topics: Topics) -> list[Record]:
    stream = simulate(agreements, start=PRELOAD_START, duration=timedelta(days=60), seed=SEED)
    return encode((event for _, event in zip(range(count), stream, strict=False)), topics)


async def produce(settings: Settings, records: Sequence[Record]) -> float:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), **PRODUCER_TUNING)
    await producer.start()
    began = time.perf_counter()
    try:
        pending = []
        for topic, partition, key, value in records:
            pending.append(await producer.send(topic, value=value, key=key, partition=partition))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records) / (time.perf_counter() - began)


def run_topics(tag: str, inputs: Topics) -> Topics:
    """The inputs shared by every run, outputs and internal topics of one run's own."""
    own = {name: f"bench-{tag}.{name}" for name in ("alerts", "deadletter", "rekey")}
    return inputs.model_copy(update=own)


# -- (a) raw aiokafka -----------------------------------------------------------------


async def assign_all(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Assign ``consumer`` every partition of ``topics`` (no group) and return them."""
    from aiokafka import TopicPartition

    await consumer.topics()
    partitions = [
        TopicPartition(topic, number)
        for topic in topics
        for number in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    consumer.assign(partitions)
    return partitions


async def raw_consume(settings: Settings, count: int) -> float:
    """Events/s of a group-less aiokafka consumer decoding every value with json.loads."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        partitions = await assign_all(consumer, settings.topics.inputs())
        await consumer.seek_to_beginning(*partitions)
        loads, seen = json.loads, 0
        began: float | None = None
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if began is None and batches:
                began = time.perf_counter()
            for records in batches.values():
                for record in records:
                    loads(record.value)
                seen += sum(len(records) for records in batches.values())
        assert began is not None
        return count / (time.perf_counter() - began)
    finally:
        await consumer.stop()


# -- (b) replay, and optionally a bare Faust agent (child process) --------------------


def replay_rate(agreements: Sequence[Agreement], values: Sequence[bytes]) -> float:
    """Events/s of ``slamon replay``'s engine loop over ``values`` in order."""
    from monitor.replay import replay

    began = time.perf_counter()
    replay(values, agreements, lateness=LATENESS_S)
    return len(values) / (time.perf_counter() - began)


def bare_faust(settings: Settings, count: int) -> float:
    env = {
        **os.environ,
        "SLAMON_KAFKA_BROKERS": settings.bootstrap_servers,
        "SLAMON_APP_ID": f"bench-bare-{uuid.uuid4().hex[:8]}",
        "SLAMON_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "SLAMON_PARTITIONS": str(settings.partitions),
    }
    command = [sys.executable, "-m", "bench.live_faust", str(count), *settings.topics.inputs()]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bare Faust child failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result["events_per_s"]


# -- (c), (d), (e) the worker -----------------------------------------------------------


def metrics_url(port: int, names: Sequence[str] = WATCHED) -> str:
    return f"http://127.0.0.1:{port}/metrics?" + urlencode([("name[]", n) for n in names])


def scrape(port: int) -> dict[str, float]:
    """Sums per sample name (labels summed over) of the watched samples."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(metrics_url(port), timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return {}
    totals: dict[str, float] = collections.defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] += sample.value
    return totals


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a running process so far (0 once it is gone)."""
    with contextlib.suppress(OSError, TypeError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def peak_rss_mb(pid: int | None) -> float:
    with contextlib.suppress(OSError, TypeError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def py_spy(pid: int | None, out: Path, enabled: bool) -> Iterator[None]:
    """Sample ``pid`` with py-spy (raw collapsed stacks) for the block; no-op without it."""
    binary = Path(sys.executable).with_name("py-spy")
    if not enabled or pid is None or not binary.exists():
        yield
        return
    command = [str(binary), "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
    spy = subprocess.Popen(
        [*command, "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def worker_env(
    settings: Settings, topics: Topics, port: int, state: Path, rules: Path
) -> dict[str, str]:
    env = {
        "SLAMON_KAFKA_BROKERS": settings.bootstrap_servers,
        "SLAMON_APP_ID": f"bench-worker-{uuid.uuid4().hex[:8]}",
        "SLAMON_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "SLAMON_PARTITIONS": str(settings.partitions),
        "SLAMON_METRICS_PORT": str(port),
        "SLAMON_RULES_DIR": str(rules),
        "SLAMON_STATE_DIR": str(state),
        "SLAMON_LOG_FORMAT": "json",
        # event time comes from the traffic only: no jump to the wall clock when idle
        "SLAMON_FOLLOW_WALL_CLOCK": "false",
        # the simulated weeks may run past today: measure them all, as replay does
        "SLAMON_MAX_EVENT_FUTURE_S": str(365 * 86400),
    }
    for name, topic in topics.model_dump().items():
        env[f"SLAMON_TOPICS__{name.upper()}"] = topic
    return env


def wait_for(port: int, worker: WorkerProcess, until: Any, timeout_s: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.returncode is not None:
            raise RuntimeError(f"worker exited {worker.returncode}:\n{worker.log_tail()}")
        metrics = scrape(port)
        if metrics and until(metrics):
            return metrics
        time.sleep(POLL_S)  # cheap: only the watched samples are rendered
    raise RuntimeError(f"worker did not get there in {timeout_s:.0f}s:\n{worker.log_tail()}")


def wait_idle(pid: int | None, *, below: float = 0.2, timeout_s: float = 60.0) -> None:
    """Wait until the process uses less than ``below`` of a core over half a second."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if (cpu_seconds(pid) - before) / 0.5 < below:
            return


def processed(metrics: dict[str, float]) -> float:
    return metrics.get("slamon_events_total", 0.0) + metrics.get("slamon_events_invalid_total", 0.0)


def measure_worker(
    broker: EmbeddedBroker,
    settings: Settings,
    agreements: Sequence[Agreement],
    count: int,
    scratch: Path,
    rules: Path,
    *,
    latency_s: float | None = None,
    latency_start: datetime = PRELOAD_START,
    profile: Path | None = None,
) -> tuple[WorkerRun, Latency | None]:
    tag = uuid.uuid4().hex[:8]
    topics = run_topics(tag, settings.topics)
    broker.create_topics([topics.alerts, topics.deadletter, topics.rekey], settings.partitions)
    port = free_port()
    env = worker_env(settings, topics, port, scratch / f"state-{tag}", rules)
    with WorkerProcess(env, scratch / f"worker-{tag}.log") as worker:
        began = time.monotonic()
        wait_for(port, worker, lambda m: processed(m) > 0, RUN_TIMEOUT_S)
        first = time.perf_counter()
        cpu_before = cpu_seconds(worker.pid)
        broker_before = cpu_seconds(broker.pid)
        with py_spy(worker.pid, profile or scratch / "unused", profile is not None):
            start_count = processed(scrape(port))
            metrics = wait_for(port, worker, lambda m: processed(m) >= count, RUN_TIMEOUT_S)
            seconds = time.perf_counter() - first
            cpu_s = cpu_seconds(worker.pid) - cpu_before
            broker_cpu_s = cpu_seconds(broker.pid) - broker_before
        if start_count >= count:
            raise SystemExit(
                f"bench.live: the worker took all {count:,} events before the first"
                " measurement; give more --events"
            )
        time.sleep(1.0)  # the catch-up flush: alerts held while lagging
        metrics = scrape(port) or metrics
        run = WorkerRun(
            events_per_s=(count - start_count) / seconds,
            seconds=seconds,
            startup_s=first - began,
            alerts=metrics.get("slamon_alerts_total", 0.0),
            peak_rss_mb=peak_rss_mb(worker.pid),
            events_processed=processed(metrics),
            cpu_s=cpu_s,
            broker_cpu_s=broker_cpu_s,
        )
        latency = None
        if latency_s is not None:
            settings_run = settings.model_copy(update={"topics": topics})
            wait_idle(worker.pid)
            latency = asyncio.run(
                measure_latency(
                    settings_run, agreements, latency_start, run.events_per_s / 2, latency_s
                )
            )
            latency.peak_rss_mb = peak_rss_mb(worker.pid)
    return run, latency


def measure_pair(
    broker: EmbeddedBroker, settings: Settings, count: int, scratch: Path, rules: Path
) -> PairRun:
    """Events/s of two workers in one group over the preloaded topics."""
    tag = uuid.uuid4().hex[:8]
    topics = run_topics(tag, settings.topics)
    broker.create_topics([topics.alerts, topics.deadletter, topics.rekey], settings.partitions)
    ports = [free_port(), free_port()]
    env = worker_env(settings, topics, ports[0], scratch / f"state-{tag}", rules)
    with (
        WorkerProcess(env, scratch / f"pair-a-{tag}.log") as a,
        WorkerProcess(
            {**env, "SLAMON_METRICS_PORT": str(ports[1])}, scratch / f"pair-b-{tag}.log"
        ) as b,
    ):

        def total() -> float:
            return sum(processed(scrape(port)) for port in ports)

        deadline = time.monotonic() + RUN_TIMEOUT_S
        while total() <= 0:
            if a.returncode is not None or b.returncode is not None:
                raise RuntimeError(f"a worker of the pair exited:\n{a.log_tail()}{b.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError("the pair did not start")
            time.sleep(POLL_S)
        first = time.perf_counter()
        cpu_before = [cpu_seconds(a.pid), cpu_seconds(b.pid)]
        broker_before = cpu_seconds(broker.pid)
        start_count = total()
        while (done := total()) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pair processed {done:.0f} of {count}")
            time.sleep(POLL_S)
        seconds = time.perf_counter() - first
        cpu_after = [cpu_seconds(a.pid), cpu_seconds(b.pid)]
        return PairRun(
            events_per_s=(count - start_count) / seconds,
            seconds=seconds,
            cpu_s=[after - before for before, after in zip(cpu_before, cpu_after, strict=True)],
            broker_cpu_s=cpu_seconds(broker.pid) - broker_before,
        )


def measure_scaling(
    broker: EmbeddedBroker,
    settings: Settings,
    agreements: Sequence[Agreement],
    count: int,
    scratch: Path,
    rules: Path,
    rounds: int,
) -> Scaling:
    """(f) One worker, then two, ``rounds`` times: a burst of load from elsewhere on
    the machine hits both alike."""
    scaling = Scaling([], [], [], [])
    for index in range(rounds):
        one, _ = measure_worker(broker, settings, agreements, count, scratch, rules)
        pair = measure_pair(broker, settings, count, scratch, rules)
        scaling.one_worker_events_per_s.append(one.events_per_s)
        scaling.one_worker_cpu_s.append(one.cpu_s)
        scaling.two_workers_events_per_s.append(pair.events_per_s)
        scaling.two_workers_cpu_s.append(pair.cpu_s)
        scaling.one_worker_broker_cpu_s.append(one.broker_cpu_s)
        scaling.two_workers_broker_cpu_s.append(pair.broker_cpu_s)
        console.print(
            f"(f) round {index + 1}: one worker {one.events_per_s:,.0f} events/s "
            f"({one.cpu_s / one.seconds:.2f} cores, broker {one.broker_cpu_s / one.seconds:.2f}), "
            f"two {pair.events_per_s:,.0f} events/s ({sum(pair.cpu_s) / pair.seconds:.2f} cores, "
            f"broker {pair.broker_cpu_s / pair.seconds:.2f})"
        )
    return scaling


DEADLINE_RULES: Final = """\
version: slamon/v1
contract: bench-deadline
title: A ten-second deadline, for the deadline-delay measurement
objectives:
  - {id: email-10s, kind: first_response, match: {channel: email}, within: 10s}
"""
DEADLINE_S: Final = 10.0


def measure_deadline_delay(settings: Settings, scratch: Path, tickets: int = 5) -> list[float]:
    """(g) Seconds from each unanswered ticket's deadline to reading its breach."""
    tag = uuid.uuid4().hex[:8]
    topics = Topics(**{name: f"bench-deadline-{tag}.{name}" for name in Topics.model_fields})
    rules = scratch / f"rules-{tag}"
    rules.mkdir()
    (rules / "bench-deadline.yaml").write_text(DEADLINE_RULES)
    port = free_port()
    env = worker_env(settings, topics, port, scratch / f"state-{tag}", rules)
    env.update(
        {
            "SLAMON_FOLLOW_WALL_CLOCK": "true",
            "SLAMON_LATENESS_S": "1",
        }
    )
    run_settings = settings.model_copy(update={"topics": topics})
    with WorkerProcess(env, scratch / f"deadline-{tag}.log") as worker:
        wait_for(port, worker, lambda m: m.get("slamon_worker_ready", 0) >= 1, RUN_TIMEOUT_S)
        return asyncio.run(_deadline_delays(run_settings, tickets))


async def _deadline_delays(settings: Settings, tickets: int) -> list[float]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from monitor.domain.alerts import format_instant

    producer = AIOKafkaProducer(**settings.kafka_client_kwargs())
    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await producer.start()
    await consumer.start()
    try:
        created: dict[str, float] = {}
        for index in range(tickets):
            ts = round(time.time(), 3)
            ticket = f"T{index}"
            event = {
                "event_id": f"deadline-{ticket}-{uuid.uuid4().hex[:6]}",
                "type": "ticket.created",
                "ts": format_instant(ts),
                "contract_id": "bench-deadline",
                "ticket_id": ticket,
                "channel": "email",
            }
            await producer.send_and_wait(
                settings.topics.tickets, json.dumps(event).encode(), key=b"bench-deadline"
            )
            created[ticket] = ts
            await asyncio.sleep(1.0)
        alerts = await assign_all(consumer, [settings.topics.alerts])
        await consumer.seek_to_beginning(*alerts)
        delays: dict[str, float] = {}
        deadline = time.monotonic() + 60
        while len(delays) < tickets and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.time()
                for record in records:
                    alert = json.loads(record.value)
                    ticket = alert["subject"]["id"]
                    if alert["state"] == "breached" and ticket in created:
                        delays.setdefault(ticket, now - (created[ticket] + DEADLINE_S))
        return [delays[t] for t in sorted(delays)]
    finally:
        await consumer.stop()
        await producer.stop()


# -- (d) produce → alert latency --------------------------------------------------------


def latency_records(
    agreements: Sequence[Agreement], start: datetime, rate: float, seconds: float, topics: Topics
) -> list[tuple[Record, str | None, float]]:
    """Chat traffic from ``start`` with probe chats: (record, probe chat id or None, ts).

    Only chat events: a partition's watermark is its slowest *active* source's, so
    traffic on one topic makes the event that fires a probe's breach the first one
    on the probe's partition past the deadline plus the lateness. ``start`` follows
    the preloaded events, so event time does not jump (a jump of days makes the
    engine evaluate every minute in between: seconds of work that would be measured
    as latency).
    """
    wanted = int(rate * seconds) + 1
    stream = simulate(agreements, start=start, duration=timedelta(days=60), seed=SEED + 1)
    chats = (event for event in stream if event["type"].startswith("chat."))
    events = [event for _, event in zip(range(wanted), chats, strict=False)]
    every = max(1, int(rate / PROBES_PER_S))
    out: list[tuple[Record, str | None, float]] = []
    for index, event in enumerate(events):
        ts = datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()
        out.append((encode(iter([event]), topics)[0], None, ts))
        if index % every == 0:
            probe_id = f"probe-{uuid.uuid4().hex[:12]}"
            probe = {
                "event_id": probe_id,
                "type": "chat.started",
                "ts": event["ts"],
                "contract_id": f"{PROBE_CONTRACT}-p{copy_partition(event['contract_id'])}",
                "chat_id": probe_id,
            }
            out.append((encode(iter([probe]), topics)[0], probe_id, ts))
    return out


class AlertReader:
    """Reads the alerts topic from its end in a thread of its own (its own event loop),
    noting when each probe's breach was read: on the producer's loop the reading
    would wait behind the paced sends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.breached: dict[str, float] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bench-alerts", daemon=True)

    def __enter__(self) -> AlertReader:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the alerts reader did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._read())
        except BaseException as exc:  # reported by __enter__, or as missing samples
            self._error = exc
            self._ready.set()

    async def _read(self) -> None:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            **self.settings.kafka_client_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=10
        )
        await consumer.start()
        try:
            partitions = await assign_all(consumer, [self.settings.topics.alerts])
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)  # resolve the end now, before any probe is sent
            self._ready.set()
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        self._note(json.loads(record.value), now)
        finally:
            await consumer.stop()

    def _note(self, alert: dict[str, Any], now: float) -> None:
        subject = alert.get("subject", {}).get("id", "")
        if alert.get("state") == "breached" and subject.startswith("probe-"):
            self.breached.setdefault(subject, now)


async def measure_latency(
    settings: Settings,
    agreements: Sequence[Agreement],
    start: datetime,
    rate: float,
    seconds: float,
) -> Latency:
    from aiokafka import AIOKafkaProducer

    plan = latency_records(agreements, start, rate, seconds, settings.topics)
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all", linger_ms=1)
    with AlertReader(settings) as reader:
        await producer.start()
        try:
            sent, elapsed = await send_paced(producer, plan, rate)
            await asyncio.sleep(3.0)  # the last breaches
        finally:
            await producer.stop()
    samples = probe_latencies(sent, reader.breached)
    return Latency(
        target_rate=rate,
        achieved_rate=len(plan) / elapsed,
        events=len(plan),
        probes=sum(1 for sending in sent if sending.probe),
        measured=len(samples),
        p50_ms=percentile(samples, 50),
        p99_ms=percentile(samples, 99),
        max_ms=max(samples) if samples else None,
        samples_ms=samples,
    )


class Sending(NamedTuple):
    probe: str | None
    partition: int
    ts: float  # event time
    sent_at: float  # perf_counter when its batch went to the producer


async def send_paced(
    producer: AIOKafkaProducer, plan: Sequence[tuple[Record, str | None, float]], rate: float
) -> tuple[list[Sending], float]:
    """Send ``plan`` at ``rate`` records/s; returns what was sent when, and the seconds taken.

    Every ``SEND_TICK_S`` the records that came due go out as one batch per topic and
    partition: a record sent alone costs the producer about four times the CPU, which
    on a small machine would be taken from the worker being measured.
    """
    sent: list[Sending] = []
    acks = []
    began = time.perf_counter()
    index = 0
    while index < len(plan):
        due_until = int((time.perf_counter() - began) * rate) + 1
        batches: dict[tuple[str, int], Any] = {}
        now = time.perf_counter()
        for (topic, partition, key, value), probe, ts in plan[index:due_until]:
            batch = batches.get((topic, partition))
            if batch is None or batch.append(key=key, value=value, timestamp=None) is None:
                if batch is not None:  # full: it goes now, a new one takes the record
                    acks.append(await producer.send_batch(batch, topic, partition=partition))
                batch = batches[(topic, partition)] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            sent.append(Sending(probe, partition, ts, now))
        for (topic, partition), batch in batches.items():
            acks.append(await producer.send_batch(batch, topic, partition=partition))
        index = max(index, min(due_until, len(plan)))
        await asyncio.sleep(SEND_TICK_S)
    await asyncio.gather(*acks)
    return sent, time.perf_counter() - began


def probe_latencies(sent: Sequence[Sending], breached: dict[str, float]) -> list[float]:
    """For each probe: breach read time minus the send time of the event that caused it.

    That event is the first one sent after the probe on the probe's partition whose
    event time puts the watermark (max event time - lateness) past the deadline.
    """
    samples = []
    for index, sending in enumerate(sent):
        if sending.probe is None or sending.probe not in breached:
            continue
        due = sending.ts + PROBE_DEADLINE_S + LATENESS_S
        for position in range(index + 1, len(sent)):
            later = sent[position]
            if later.partition == sending.partition and later.ts > due:
                samples.append((breached[sending.probe] - later.sent_at) * 1000)
                break
    return samples  # in probe order: a rising series means the worker fell behind


def percentile(samples: Sequence[float], q: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


# -- report -------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def report(result: dict[str, Any]) -> None:
    raw = result["raw_aiokafka"]["median_events_per_s"]
    table = Table(
        title=f"bench.live: {result['events']:,} events, {result['partitions']} partitions"
    )
    for column in ("measurement", "events/s (median)", "vs raw", "runs"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    rows = [("(a) raw aiokafka + json", "raw_aiokafka"), ("(b) slamon replay", "replay")]
    if result["bare_faust"]["runs_events_per_s"]:
        rows.append(("(b') bare Faust agent", "bare_faust"))
    rows.append(("(c) slamon worker", "worker"))
    for label, key in rows:
        entry = result[key]
        runs = ", ".join(f"{value:,.0f}" for value in entry["runs_events_per_s"])
        ratio = entry["median_events_per_s"] / raw if raw else 0.0
        table.add_row(label, f"{entry['median_events_per_s']:,.0f}", f"{ratio:.3f}", runs)
    console.print(table)
    console.print(f"(c) worker / (b) replay: {result['worker']['ratio_vs_replay']:.2f}")
    latency = result.get("latency")
    if latency:
        console.print(
            f"(d) produce→alert at {latency['achieved_rate']:,.0f} events/s "
            f"(half of (c) = {latency['target_rate']:,.0f}): p50 {_ms(latency['p50_ms'])}, "
            f"p99 {_ms(latency['p99_ms'])}, max {_ms(latency['max_ms'])} "
            f"over {latency['measured']} of {latency['probes']} probes"
        )
    worker = result["worker"]
    console.print(f"(c) worker CPU over the measured runs: {worker['cpu_s']} s")
    console.print(
        f"(e) worker peak RSS {worker['peak_rss_mb']:.0f} MB after (c)"
        + (f", {latency['peak_rss_mb']:.0f} MB after (d)" if latency else "")
        + f"; alerts produced in (c): {worker['alerts']:,.0f}"
    )
    pair = result.get("two_workers")
    if pair:
        console.print(
            f"(f) two workers: {pair['events_per_s']:,.0f} events/s (median of "
            f"{len(pair['runs_events_per_s'])}), one worker {pair['one_worker_events_per_s']:,.0f}"
            f" in the same rounds: {pair['vs_one_worker']:.2f} × one worker"
        )
    delays = result["deadline_delay_s"]
    if delays["samples"]:
        console.print(
            f"(g) breach read after its deadline, no events flowing: max {delays['max']:.2f} s "
            f"over {len(delays['samples'])} tickets"
        )
    profile = result.get("profile")
    if profile:
        console.print(
            f"where the worker's busy time goes in (c) ({profile['samples']} py-spy samples, "
            f"{profile['idle_share'] * 100:.0f} % idle waits left out):"
        )
        for name, share in profile["by_component"].items():
            console.print(f"  {name:<42} {share * 100:5.1f} %")


def scaling_result(scaling: Scaling) -> dict[str, Any]:
    return {
        "events_per_s": median(scaling.two_workers_events_per_s),
        "one_worker_events_per_s": median(scaling.one_worker_events_per_s),
        "vs_one_worker": scaling.vs_one_worker,
        "runs_events_per_s": scaling.two_workers_events_per_s,
        "one_worker_runs_events_per_s": scaling.one_worker_events_per_s,
        "cpu_s": scaling.two_workers_cpu_s,
        "one_worker_cpu_s": scaling.one_worker_cpu_s,
        "broker_cpu_s": scaling.two_workers_broker_cpu_s,
        "one_worker_broker_cpu_s": scaling.one_worker_broker_cpu_s,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    tag = uuid.uuid4().hex[:6]
    inputs = Topics(**{name: f"bench-{tag}.{name}" for name in Topics.model_fields})
    with (
        tempfile.TemporaryDirectory(prefix="slamon-bench-") as scratch_dir,
        EmbeddedBroker() as broker,
    ):
        scratch = Path(scratch_dir)
        rules = copy_rules(RULES, scratch / "rules", args.partitions)
        agreements, problems = load_rules([rules])
        if problems or not agreements:
            raise SystemExit(f"rules problems in the per-partition copies: {problems}")
        settings = Settings(
            kafka_brokers=[broker.bootstrap_servers], topics=inputs, partitions=args.partitions
        )
        broker.create_topics(inputs.inputs(), args.partitions)
        console.print(f"simulating {args.events:,} events for {len(agreements)} agreements")
        records = preload_records(agreements, args.events, inputs)
        last_ts = json.loads(records[-1].value)["ts"].replace("Z", "+00:00")
        latency_start = datetime.fromisoformat(last_ts).replace(second=0, microsecond=0)
        latency_start += timedelta(minutes=1)
        produce_rate = asyncio.run(produce(settings, records))
        console.print(f"preloaded {len(records):,} events at {produce_rate:,.0f}/s")
        count = len(records)
        values = [record.value for record in records]
        del records
        replayed = [replay_rate(agreements, values) for _ in range(args.replay_repeat)]
        console.print(f"(b) replay: {[round(r) for r in replayed]}")
        del values

        raw = [asyncio.run(raw_consume(settings, count)) for _ in range(args.repeat)]
        console.print(f"(a) raw aiokafka: {[round(r) for r in raw]}")
        bare = [bare_faust(settings, count) for _ in range(args.faust_repeat)]
        console.print(f"(b) bare Faust: {[round(r) for r in bare]}")
        runs: list[WorkerRun] = []
        latency: Latency | None = None
        profile_path = scratch / "py-spy.txt" if args.profile else None
        for index in range(args.worker_repeat):
            last = index == args.worker_repeat - 1
            run, measured = measure_worker(
                broker, settings, agreements, count, scratch, rules,
                latency_s=args.latency_s if last else None,
                latency_start=latency_start,
                profile=profile_path if last else None,
            )  # fmt: skip
            runs.append(run)
            latency = measured or latency
            console.print(f"(c) worker run {index + 1}: {run.events_per_s:,.0f} events/s")
        scaling = (
            measure_scaling(
                broker, settings, agreements, count, scratch, rules, args.scaling_rounds
            )
            if args.scaling
            else None
        )
        delays = measure_deadline_delay(settings, scratch)
        console.print(f"(g) deadline delays: {[round(d, 2) for d in delays]} s")
        profile = (
            summarize_raw(profile_path.read_text())
            if profile_path is not None and profile_path.exists()
            else None
        )
    write_results(
        args, count, produce_rate, raw, replayed, bare, runs, latency, profile, scaling, delays
    )


def write_results(
    args: Args,
    count: int,
    produce_rate: float,
    raw: list[float],
    replayed: list[float],
    bare: list[float],
    runs: list[WorkerRun],
    latency: Latency | None,
    profile: ProfileSummary | None,
    scaling: Scaling | None,
    delays: list[float],
) -> None:
    raw_median = median(raw)
    worker_median = median([run.events_per_s for run in runs])
    result: dict[str, Any] = {
        "command": "python -m bench.live " + " ".join(sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": count,
        "partitions": args.partitions,
        "produce_events_per_s": produce_rate,
        "raw_aiokafka": {"median_events_per_s": raw_median, "runs_events_per_s": raw},
        "replay": {
            "median_events_per_s": median(replayed),
            "runs_events_per_s": replayed,
            "ratio_vs_raw": median(replayed) / raw_median,
        },
        "bare_faust": {
            "median_events_per_s": median(bare),
            "runs_events_per_s": bare,
            "ratio_vs_raw": median(bare) / raw_median,
        },
        "worker": {
            "median_events_per_s": worker_median,
            "runs_events_per_s": [run.events_per_s for run in runs],
            "ratio_vs_raw": worker_median / raw_median,
            "ratio_vs_replay": worker_median / median(replayed),
            "ratio_vs_bare_faust": worker_median / median(bare) if bare else None,
            "alerts": runs[-1].alerts,
            "cpu_s": [round(run.cpu_s, 2) for run in runs],
            "peak_rss_mb": max(run.peak_rss_mb for run in runs),
            "runs": [asdict(run) for run in runs],
        },
        "latency": asdict(latency) if latency else None,
        "two_workers": scaling_result(scaling) if scaling else None,
        "deadline_delay_s": {
            "samples": delays,
            "max": max(delays) if delays else None,
            "deadline_s": DEADLINE_S,
        },
        "profile": asdict(profile) if profile else None,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    report(result)
    console.print(f"results in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

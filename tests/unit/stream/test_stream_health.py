"""/metrics, /healthz and /readyz served from one loopback port."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from monitor.metrics import Metrics
from monitor.stream.health import HealthServer


class Flags:
    ready = False
    alive = True


@pytest.fixture
def served() -> Iterator[tuple[HealthServer, Flags, Metrics]]:
    metrics, flags = Metrics(), Flags()
    server = HealthServer(
        metrics.registry, lambda: flags.ready, alive=lambda: flags.alive, host="127.0.0.1", port=0
    ).start()
    try:
        yield server, flags, metrics
    finally:
        server.stop()


def get(server: HealthServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_readiness_follows_the_worker_and_liveness_its_crash_state(
    served: tuple[HealthServer, Flags, Metrics],
) -> None:
    server, flags, _ = served
    assert get(server, "/healthz")[0] == 200
    assert get(server, "/readyz")[0] == 503
    flags.ready = True
    assert get(server, "/readyz")[0] == 200
    flags.alive = False
    assert get(server, "/healthz")[0] == 503
    assert get(server, "/nope")[0] == 404


def test_metrics_are_the_injected_registry(served: tuple[HealthServer, Flags, Metrics]) -> None:
    server, _, metrics = served
    metrics.events.labels("call.offered").inc(3)
    status, body = get(server, "/metrics")
    assert status == 200
    assert 'slamon_events_total{type="call.offered"} 3.0' in body


def test_metrics_can_be_asked_for_by_name(served: tuple[HealthServer, Flags, Metrics]) -> None:
    server, _, metrics = served
    metrics.events.labels("call.offered").inc(3)
    metrics.events_invalid.labels("bad_json").inc()
    query = "name[]=slamon_events_total&name[]=slamon_events_invalid_total"
    status, body = get(server, f"/metrics?{query}")
    assert status == 200
    samples = [line for line in body.splitlines() if not line.startswith("#")]
    assert sorted(samples) == [
        'slamon_events_invalid_total{reason="bad_json"} 1.0',
        'slamon_events_total{type="call.offered"} 3.0',
    ]


def test_a_name_no_metric_has_answers_an_empty_exposition(
    served: tuple[HealthServer, Flags, Metrics],
) -> None:
    server, _, _ = served
    assert get(server, "/metrics?name[]=no_such_metric") == (200, "")

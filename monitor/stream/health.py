"""One small HTTP server: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

``/metrics?name[]=slamon_events_total&name[]=...`` answers only the samples with
those names (as Prometheus' own ``/federate`` and client_python's exporter do), so
a scraper that needs a few figures does not make the worker render every series.

``/healthz`` answers 200 while the process serves requests and its Faust app
has not crashed (liveness);
``/readyz`` answers 200 only when the worker has its partitions assigned and
their state recovered, else 503 (readiness).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["HealthServer"]


class HealthServer:
    """Serve metrics and health on ``host:port`` from a daemon thread."""

    def __init__(
        self,
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        *,
        alive: Callable[[], bool] = lambda: True,
        host: str = "0.0.0.0",
        port: int = 9108,
    ) -> None:
        self.registry = registry
        self.ready = ready
        self.alive = alive
        self.host = host
        self.requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("health server is not running")
        return int(self._server.server_address[1])

    def metrics(self, query: str = "") -> bytes:
        """The exposition text: every metric, or only the ``name[]`` samples asked for."""
        names = parse_qs(query).get("name[]")
        registry = self.registry.restricted_registry(names) if names else self.registry
        return generate_latest(registry)

    def start(self) -> HealthServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/metrics":
                    self._reply(200, owner.metrics(query), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    alive = owner.alive()
                    self._reply(200 if alive else 503, b"ok\n" if alive else b"crashed\n")
                elif path == "/readyz":
                    ready = owner.ready()
                    self._reply(200 if ready else 503, b"ready\n" if ready else b"not ready\n")
                else:
                    self._reply(404, b"not found\n")

            def _reply(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.requested_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slamon-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

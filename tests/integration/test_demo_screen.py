"""`slamon demo` in a real 80x24 terminal (tmux): every objective's status is readable.

The demo runs in a detached tmux session of its own server (``tmux -S``) at 80
columns and 24 lines; the test reads the screen with ``capture-pane`` twice a
second until every objective of the rules/ agreements has been seen on some page
of the objective table with a whole status word, then stops the demo with Ctrl-C
and checks that it exits cleanly. Skips with the reason when tmux is absent (CI
installs the Debian package ``tmux``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.rulespec.loader import load_rules
from monitor.stream.embedded_broker import free_port

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 80, 24
STATUSES = frozenset({"ok", "RISK", "BREACH", "-"})
SEE_ALL_WITHIN_S = 120.0
EXIT_WITHIN_S = 60.0
EXIT_MARKER = "demo-exit="

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Terminal:
    """One tmux server (socket ``socket``) and session of ``WIDTH`` x ``HEIGHT``."""

    def __init__(self, tmux: str, socket: Path) -> None:
        self.tmux = tmux
        self.socket = socket
        self.name = "slamon-demo"

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=10,
            check=True,
        )
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        """A new server (with ``env``) and a detached session running ``command``."""
        size = ("-x", str(WIDTH), "-y", str(HEIGHT))
        self.run("new-session", "-d", "-s", self.name, *size, "-c", str(ROOT), command, env=env)

    def screen(self) -> list[str]:
        return self.run("capture-pane", "-p", "-t", self.name).splitlines()

    def history(self) -> str:
        return self.run("capture-pane", "-p", "-S", "-", "-t", self.name)

    def interrupt(self, marker: str, within_s: float) -> str:
        """Ctrl-C, then the whole history once ``marker`` shows (or ``within_s`` passed)."""
        history = self.history()
        if marker not in history:
            self.run("send-keys", "-t", self.name, "C-c")
        deadline = time.monotonic() + within_s
        while marker not in history and time.monotonic() < deadline:
            time.sleep(0.5)
            history = self.history()
        return history

    def stop(self) -> None:
        """Let the demo stop what it started (Ctrl-C) before the server goes."""
        with contextlib.suppress(subprocess.SubprocessError):
            self.interrupt(EXIT_MARKER, EXIT_WITHIN_S)
        with contextlib.suppress(subprocess.SubprocessError):
            self.run("kill-server")


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("the 80x24 screen test needs tmux (apt: tmux)")
    folder = Path(tempfile.mkdtemp(prefix="slamon-tmux-"))  # short: a socket path is limited
    term = Terminal(tmux, folder / "socket")
    try:
        yield term
    finally:
        term.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLAMON_", "TMUX"))}
    env["SLAMON_METRICS_PORT"] = str(free_port())
    env["SLAMON_SESSION_TIMEOUT_MS"] = "4000"
    env["TERM"] = "xterm-256color"
    return env


def _same_contract(shown: str, contract: str) -> bool:
    """``shown`` is the contract id, whole or shortened in the middle (``call-c…agreement``)."""
    if "…" not in shown:
        return shown == contract
    head, tail = shown.split("…", 1)
    return contract.startswith(head) and contract.endswith(tail) and len(shown) < len(contract)


COLUMNS = ["status", "contract", "objective", "SLI", "target"]


def objective_rows(screen: list[str]) -> list[list[str]]:
    """The rows of the objective table on one screen: ``[status, contract, objective, ...]``."""
    try:
        title = next(i for i, line in enumerate(screen) if line.startswith("Objectives"))
    except StopIteration:
        return []
    assert screen[title + 1].split()[: len(COLUMNS)] == COLUMNS, screen
    rows = []
    for line in screen[title + 3 :]:  # past the title, the column names and the rule
        if not line.strip() or line.startswith("Items at risk"):
            break
        rows.append(line.split())
    return rows


@pytest.mark.timeout(300)
def test_every_objective_status_is_readable_on_an_80x24_demo_screen(
    terminal: Terminal, tmp_path: Path
) -> None:
    agreements, problems = load_rules([ROOT / "rules"])
    assert not problems
    wanted = {(a.contract_id, o.id) for a in agreements for o in a.objectives}
    demo = [sys.executable, "-m", "monitor.cli", "demo", "--duration", "150"]
    command = (
        f"{shlex.join([*demo, '--out', str(tmp_path / 'demo')])}; echo {EXIT_MARKER}$?; sleep 60"
    )
    terminal.start(command, _env())

    seen: dict[tuple[str, str], str] = {}
    pages: set[str] = set()
    deadline = time.monotonic() + SEE_ALL_WITHIN_S
    while len(seen) < len(wanted) and time.monotonic() < deadline:
        screen = terminal.screen()
        pages.update(line.split(":")[0] for line in screen if line.startswith("Objectives"))
        for row in objective_rows(screen):
            assert row[0] in STATUSES, row  # a whole status word, never "BR…"
            for contract, objective in wanted:
                if len(row) > 2 and row[2] == objective and _same_contract(row[1], contract):
                    seen[(contract, objective)] = row[0]
        if EXIT_MARKER in "\n".join(screen):
            break
        time.sleep(0.5)

    assert sorted(wanted - seen.keys()) == [], terminal.history()[-3000:]
    assert len(pages) > 1, pages  # 34 objectives do not fit 24 lines: the pages turned

    history = terminal.interrupt(EXIT_MARKER, EXIT_WITHIN_S)
    assert f"{EXIT_MARKER}0" in history, history[-3000:]
    assert "demo ended (interrupted)" in history.replace("\n", " ")

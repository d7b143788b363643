"""Every subcommand answers an ordinary mistake with one line on stderr, never a traceback.

One table of wrong inputs: each row runs a command and expects exactly one
stderr line starting ``slamon: error:``, naming the problem (``says``), the exit
code (2 for usage: bad values, missing files, bad settings; 1 for runtime
failures) and no "Traceback" anywhere. Broker and port failures need real
sockets: tests/integration/test_kafka_commands.py and test_worker_cli.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from monitor.cli import app

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
USAGE, RUNTIME = 2, 1


class Case(NamedTuple):
    args: list[str]
    says: str
    code: int = USAGE
    env: Mapping[str, str] = {}


def _cases() -> dict[str, Case]:
    rules = ["--rules", str(RULES)]
    events = "{tmp}/events.jsonl"
    month = ["--period", "2026-11"]
    return {
        # -- the command line itself
        "unknown command": Case(["bogus"], "No such command 'bogus'"),
        "unknown option": Case(["--bogus"], "No such option: --bogus"),
        "a flag given a value": Case(["demo", "--offline", "true"], "unexpected extra argument"),
        # -- validate
        "validate a missing path": Case(["validate", "{tmp}/nope"], "1 problem(s)"),
        "validate a broken file": Case(["validate", "{tmp}/broken.yaml"], "(checked against"),
        # -- replay
        "replay a missing file": Case(["replay", "{tmp}/nope.jsonl"], "nope.jsonl: no such file"),
        "replay a folder": Case(["replay", "{tmp}"], "not a file"),
        "replay without a file": Case(["replay"], "Missing argument 'EVENTS'"),
        "replay with a missing rules folder": Case(
            ["replay", events, "--rules", "{tmp}/no-rules"], "no-rules: no such file or folder"
        ),
        "replay with invalid rules": Case(
            ["replay", events, "--rules", "{tmp}/broken.yaml"], "nothing was run"
        ),
        "replay --until tomorrow": Case(
            ["replay", events, *rules, "--until", "tomorrow"], "not an RFC 3339 instant"
        ),
        "replay --until without an offset": Case(
            ["replay", events, *rules, "--until", "2026-11-20T18:00:00"], "needs an offset"
        ),
        "replay --alerts into a missing folder": Case(
            ["replay", events, *rules, "--alerts", "{tmp}/missing/alerts.jsonl"],
            "missing/ does not exist; create it first",
        ),
        "replay --report into a missing folder": Case(
            ["replay", events, *rules, "--report", "{tmp}/missing/report.json"],
            "does not exist",
        ),
        "replay --report onto a folder": Case(
            ["replay", events, *rules, "--report", "{tmp}"], "is a folder; give a file name"
        ),
        "replay --lateness -10": Case(
            ["replay", events, "--lateness", "-10"], "give a number >= 0"
        ),
        "replay --lateness nan": Case(["replay", events, "--lateness", "nan"], "not a finite"),
        "replay --lateness abc": Case(["replay", events, "--lateness", "abc"], "'--lateness'"),
        # -- simulate
        "simulate --hours -1": Case(["simulate", "--hours", "-1"], "give a number > 0"),
        "simulate --hours 0": Case(["simulate", "--hours", "0"], "give a number > 0"),
        "simulate --hours inf": Case(["simulate", "--hours", "inf"], "not a finite number"),
        "simulate --seed -1": Case(["simulate", "--seed", "-1"], "'--seed'"),
        "simulate --speed -1": Case(["simulate", "--speed", "-1"], "give a number >= 0"),
        "simulate --duration 0": Case(["simulate", "--duration", "0"], "give a number > 0"),
        "simulate --start yesterday": Case(
            ["simulate", *rules, "--start", "yesterday", "--out", "{tmp}/out.jsonl"],
            "'yesterday' is not an RFC 3339 instant or 'now'",
        ),
        "simulate --out into a missing folder": Case(
            ["simulate", "--out", "{tmp}/missing/events.jsonl"], "create it first"
        ),
        "simulate --kafka without brokers": Case(
            ["simulate", "--kafka", *rules], "SLAMON_KAFKA_BROKERS"
        ),
        # -- produce
        "produce a missing file": Case(["produce", "{tmp}/nope.jsonl"], "no such file"),
        "produce without brokers": Case(["produce", events], "SLAMON_KAFKA_BROKERS"),
        "produce with an unparsable setting": Case(
            ["produce", events], "partitions: Input should be", env={"SLAMON_PARTITIONS": "four"}
        ),
        # -- report
        "report a missing file": Case(["report", "{tmp}/nope.jsonl", *month], "no such file"),
        "report with no input": Case(["report", *month], "give an events file or --kafka"),
        "report --credit-cap -5": Case(
            ["report", events, *month, "--credit-cap", "-5"], "give 0 to 100"
        ),
        "report --credit-cap 101": Case(
            ["report", events, *month, "--credit-cap", "101"], "give 0 to 100"
        ),
        "report --monthly-fee -100": Case(
            ["report", events, *month, "--monthly-fee", "-100", "--currency", "USD"],
            "give a number > 0",
        ),
        "report a fee without a currency": Case(
            ["report", events, *month, "--monthly-fee", "100"], "needs --currency"
        ),
        "report a currency without a fee": Case(
            ["report", events, *month, "--currency", "USD"], "needs --monthly-fee"
        ),
        "report --lateness -10": Case(
            ["report", events, *month, "--lateness", "-10"], "give a number >= 0"
        ),
        "report --until tomorrow": Case(
            ["report", events, *month, *rules, "--until", "tomorrow"], "--until"
        ),
        "report --lookback-days -1": Case(
            ["report", "--kafka", *month, "--lookback-days", "-1"], "give a number >= 0"
        ),
        "report an impossible month": Case(
            ["report", events, *rules, "--period", "2026-13"], "expected a month as YYYY-MM"
        ),
        "report neither month nor range": Case(["report", events, *rules], "--period"),
        "report an unknown contract": Case(
            ["report", events, *rules, *month, "--contract", "nobody"], "no agreement for nobody"
        ),
        "report --out onto a file": Case(
            ["report", events, *month, "--out", events], "is a file; give a folder"
        ),
        "demo --out onto a file": Case(["demo", "--out", events], "is a file; give a folder"),
        "report into a missing rules folder": Case(
            ["report", events, *month, "--rules", "{tmp}/no-rules"], "no such file or folder"
        ),
        # -- demo
        "demo --hours -1": Case(["demo", "--hours", "-1"], "give a number > 0"),
        "demo --speed -1": Case(["demo", "--speed", "-1"], "give a number >= 0"),
        "demo --duration 0": Case(["demo", "--duration", "0"], "give a number > 0"),
        "demo --seed -1": Case(["demo", "--seed", "-1"], "'--seed'"),
        "demo --start next-week": Case(
            ["demo", *rules, "--start", "next-week"], "Invalid value for --start"
        ),
        # -- run
        "run --config of a missing file": Case(
            ["run", "--config", "{tmp}/nope.toml"], "nope.toml: no such file"
        ),
        "run --config with a typo in a key": Case(
            ["run", "--config", "{tmp}/typo.toml"],
            "unknown setting 'kafka_broker' (did you mean kafka_brokers?)",
        ),
        "run --config that is not TOML": Case(["run", "--config", "{tmp}/broken.toml"], "TOML"),
        "run --config of an unknown format": Case(
            ["run", "--config", "{tmp}/settings.ini"], "must end in .toml, .yaml or .yml"
        ),
        "run with a missing rules folder": Case(
            ["run", "--rules", "{tmp}/no-rules"], "no such file or folder"
        ),
        "run with a bad port in the environment": Case(
            ["run"], "metrics_port", env={"SLAMON_METRICS_PORT": "99999"}
        ),
        # -- notify
        "notify test without a notifiers file": Case(
            ["notify", "test", "--sink", "pd"], "SLAMON_NOTIFIERS_FILE"
        ),
        "notify run without a notifiers file": Case(["notify", "run"], "no notifiers file"),
        "notify test of a missing notifiers file": Case(
            ["notify", "test", "--sink", "pd", "--notifiers", "{tmp}/nope.yaml"], "nope.yaml"
        ),
    }


CASES = _cases()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("version: slamon/v1\ncontract: x\n", encoding="utf-8")
    (tmp_path / "typo.toml").write_text('kafka_broker = ["127.0.0.1:9092"]\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text("partitions = = 4\n", encoding="utf-8")
    (tmp_path / "settings.ini").write_text("[slamon]\n", encoding="utf-8")
    return tmp_path


def _clean_env(extra: Mapping[str, str]) -> dict[str, str | None]:
    """Unset every SLAMON_* variable of the caller's shell, then apply the case's."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("SLAMON_")}
    return env | dict(extra)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_wrong_input_gets_one_line_on_stderr_and_the_right_exit_code(
    case: Case, workspace: Path
) -> None:
    args = [arg.replace("{tmp}", str(workspace)) for arg in case.args]

    result = CliRunner().invoke(app, args, env=_clean_env(case.env))

    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.endswith("\n"), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("slamon: error: "), lines[0]
    assert case.says in lines[0]
    assert result.exit_code == case.code, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_usage_errors_point_at_the_command_help(workspace: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--hours", "-1"])

    assert result.stderr.rstrip().endswith("(see 'slamon simulate --help')")


def test_an_unexpected_failure_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.rulespec.loader

    def broken(paths: object) -> object:
        raise ZeroDivisionError("something nobody anticipated")

    monkeypatch.setattr(monitor.rulespec.loader, "load_rules", broken)
    monkeypatch.delenv("SLAMON_DEBUG", raising=False)

    result = CliRunner().invoke(app, ["validate"])

    assert result.exit_code == RUNTIME
    assert result.stderr == (
        "slamon: error: unexpected ZeroDivisionError: something nobody anticipated "
        "(a bug: run again with SLAMON_DEBUG=1 for the traceback and report it)\n"
    )


def test_slamon_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.rulespec.loader

    def broken(paths: object) -> object:
        raise ZeroDivisionError("for the bug report")

    monkeypatch.setattr(monitor.rulespec.loader, "load_rules", broken)

    result = CliRunner().invoke(app, ["validate"], env={"SLAMON_DEBUG": "1"})

    assert isinstance(result.exception, ZeroDivisionError)


def test_no_command_prints_the_help_and_exits_2() -> None:
    result = CliRunner().invoke(app, [])

    assert result.exit_code == USAGE
    assert "Commands:" in result.stderr
    assert "Traceback" not in result.stderr

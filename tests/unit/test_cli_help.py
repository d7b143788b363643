"""The command line describes itself truly: --version, -h everywhere, flags shown as flags."""

from __future__ import annotations

import importlib.metadata

import pytest
from typer.testing import CliRunner

from monitor.cli import app

COMMANDS = [
    [],
    ["validate"],
    ["replay"],
    ["simulate"],
    ["produce"],
    ["demo"],
    ["run"],
    ["report"],
    ["notify"],
    ["notify", "test"],
    ["notify", "run"],
]


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout == f"slamon {importlib.metadata.version('slamon')}\n"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "slamon")
@pytest.mark.parametrize("option", ["-h", "--help"])
def test_every_command_has_short_and_long_help(command: list[str], option: str) -> None:
    result = CliRunner().invoke(app, [*command, option])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: slamon {' '.join(command)}".rstrip())
    assert "-h, --help" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "slamon")
def test_help_shows_flags_without_a_value_placeholder(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "-h"], terminal_width=80)

    assert "<bool>" not in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_boolean_options_are_flags() -> None:
    demo = CliRunner().invoke(app, ["demo", "-h"]).stdout
    notify = CliRunner().invoke(app, ["notify", "test", "-h"]).stdout

    assert "  --offline  " in demo
    assert "--resolve / --no-resolve" in notify


def test_simulate_help_shows_the_default_start() -> None:
    result = CliRunner().invoke(app, ["simulate", "-h"], terminal_width=200)

    assert "[default: 2026-11-16T00:00:00Z to a file, now with --kafka]" in result.stdout

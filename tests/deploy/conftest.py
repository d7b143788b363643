"""Fixtures for the checks of deploy/: paths and the real tools (skip when absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def tool(name: str, package: str) -> str:
    """The path of ``name`` on PATH, else skip the test saying what to install."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not on PATH: install the Debian package {package} (.ci/run does)")
    return path


@pytest.fixture
def promtool() -> str:
    return tool("promtool", "prometheus")


@pytest.fixture
def amtool() -> str:
    return tool("amtool", "prometheus-alertmanager")

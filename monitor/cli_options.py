"""Checks for command-line option values, so a wrong number never reaches a customer.

typer's ``min=``/``max=`` cannot express an open bound (``> 0``) and let ``inf``
through; these callbacks reject NaN and infinities and name the accepted range.
They are attached with ``typer.Option(callback=…)``; the error becomes typer's
own usage error (exit 2, the option named).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import typer

from monitor.domain import timestamps
from monitor.domain.errors import UsageError

__all__ = [
    "at_least",
    "between",
    "existing_file",
    "existing_path",
    "greater_than",
    "output_folder",
    "parse_instant",
    "writable_file",
]

FloatCheck = Callable[[float | None], float | None]


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")


def at_least(low: float) -> FloatCheck:
    """Accept finite numbers ``>= low`` (and an absent optional value)."""

    def check(value: float | None) -> float | None:
        if value is not None:
            _finite(value)
            if value < low:
                raise typer.BadParameter(f"{value:g} is below {low:g}; give a number >= {low:g}")
        return value

    return check


def greater_than(low: float) -> FloatCheck:
    """Accept finite numbers ``> low`` (and an absent optional value)."""

    def check(value: float | None) -> float | None:
        if value is not None:
            _finite(value)
            if value <= low:
                raise typer.BadParameter(f"{value:g} is too small; give a number > {low:g}")
        return value

    return check


def between(low: float, high: float) -> FloatCheck:
    """Accept finite numbers from ``low`` to ``high`` inclusive."""

    def check(value: float | None) -> float | None:
        if value is not None:
            _finite(value)
            if not low <= value <= high:
                raise typer.BadParameter(f"{value:g} is out of range; give {low:g} to {high:g}")
        return value

    return check


def existing_file(path: Path) -> Path:
    """An input file that must exist before the command starts reading."""
    if not path.exists():
        raise typer.BadParameter(f"{path}: no such file")
    if not path.is_file():
        raise typer.BadParameter(f"{path}: not a file")
    return path


def existing_path(path: Path | None) -> Path | None:
    """Agreement files: a file or a folder that must exist."""
    if path is not None and not path.exists():
        raise typer.BadParameter(f"{path}: no such file or folder")
    return path


def writable_file(path: Path | None) -> Path | None:
    """An output file whose folder exists (created files land where the user expects)."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise typer.BadParameter(f"the folder {folder}/ does not exist; create it first")
    return path


def output_folder(path: Path) -> Path:
    """A folder the command writes into (created if missing), so not an existing file."""
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is a file; give a folder")
    return path


def parse_instant(text: str | None, option: str) -> float | None:
    """An RFC 3339 instant with an offset as a POSIX timestamp; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        return timestamps.parse_instant(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None

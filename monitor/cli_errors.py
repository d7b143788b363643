"""One error path for the whole command line: every failure ends as one line on stderr.

A first-time user who mistypes a path, a date or a setting gets one line naming
what is wrong and how to fix it, never a traceback. Exit codes:

- 2, usage: a bad option value, a missing input file, invalid settings or
  agreement files (:class:`~monitor.domain.errors.UsageError`, typer's own
  usage errors);
- 1, runtime: the command was right but its surroundings failed it, e.g. an
  unreachable broker or a port already taken
  (:class:`~monitor.domain.errors.RuntimeFailureError`, other errors);
- 130: interrupted with Ctrl-C.

The translation happens once, in :meth:`SlamonGroup.main`, so ``slamon …``,
``python -m monitor …`` and ``CliRunner`` in tests all take the same path. An
error nobody anticipated is still one line, naming its type; ``SLAMON_DEBUG=1``
shows the traceback for a bug report.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, Final, NoReturn

import typer
from typer.core import TyperGroup

from monitor.domain.errors import AgreementError, MonitorError, RuntimeFailureError, UsageError

__all__ = ["DEBUG_ENV_VAR", "EXIT_RUNTIME", "EXIT_USAGE", "SlamonGroup", "describe", "one_line"]

EXIT_USAGE: Final = 2
EXIT_RUNTIME: Final = 1
EXIT_INTERRUPTED: Final = 130
DEBUG_ENV_VAR: Final = "SLAMON_DEBUG"
_PREFIX: Final = "slamon: error: "


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded to one space."""
    return " ".join(text.split())


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that ended a command."""
    if isinstance(exc, typer.TyperException):
        return _typer_message(exc), int(getattr(exc, "exit_code", EXIT_RUNTIME))
    if isinstance(exc, UsageError | AgreementError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, MonitorError):
        return str(exc), EXIT_RUNTIME
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    if isinstance(exc, OSError):
        return _os_message(exc)
    if type(exc).__module__.startswith("aiokafka"):
        return _kafka_message(exc), EXIT_RUNTIME
    return (
        f"unexpected {type(exc).__name__}: {exc} (a bug: run again with "
        f"{DEBUG_ENV_VAR}=1 for the traceback and report it)",
        EXIT_RUNTIME,
    )


def _typer_message(exc: typer.TyperException) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and getattr(exc, "exit_code", None) == EXIT_USAGE:
        message += f" (see '{ctx.command_path} --help')"
    return message


def _kafka_message(exc: BaseException) -> str:
    """A Kafka client error that escaped the command's own translation."""
    if type(exc).__name__ == "KafkaConnectionError":
        return (
            "cannot reach the Kafka brokers: check that they are up and that "
            "SLAMON_KAFKA_BROKERS names them"
        )
    return f"Kafka failed the request: {type(exc).__name__} {exc}"


def _os_message(exc: OSError) -> tuple[str, int]:
    what = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        return f"address already in use: {what}; choose another port", EXIT_RUNTIME
    if exc.filename is not None and exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
        return f"{exc.filename}: {what}; check the path", EXIT_USAGE
    if exc.filename is not None:
        return f"{exc.filename}: {what}", EXIT_RUNTIME
    return what, EXIT_RUNTIME


def fail(exc: BaseException) -> NoReturn:
    """Print ``exc`` as one line on stderr and exit with its code."""
    message, code = describe(exc)
    sys.stderr.write(_PREFIX + one_line(message) + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


class SlamonGroup(TyperGroup):
    """The ``slamon`` group: runs a command and turns whatever ends it into an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                raise
            fail(RuntimeFailureError(str(exc.code)))
        except typer.Abort:
            fail(KeyboardInterrupt())
        except Exception as exc:
            if os.environ.get(DEBUG_ENV_VAR) and not isinstance(exc, typer.TyperException):
                raise
            if _is_help_on_no_args(exc):
                sys.stderr.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
                raise SystemExit(EXIT_USAGE) from None
            fail(exc)
        except KeyboardInterrupt as exc:
            fail(exc)
        raise SystemExit(code if isinstance(code, int) else 0)


def _is_help_on_no_args(exc: BaseException) -> bool:
    """typer's ``no_args_is_help`` is an error whose message is the whole help text."""
    return type(exc).__name__ == "NoArgsIsHelpError"

"""The one error root of slamon and its meaningful children."""


class MonitorError(Exception):
    """Root of every error slamon raises on purpose."""


class AgreementError(MonitorError):
    """An agreement file is invalid; carries every problem found in it."""

    def __init__(self, problems: list["Problem"]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Problem:
    """One located problem in an agreement file: ``file:line: field: message``."""

    __slots__ = ("field", "file", "line", "message")

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class StateError(MonitorError):
    """Serialized engine state cannot be restored (wrong version or corrupt)."""


class UsageError(MonitorError):
    """The command was given something it cannot use: a bad option value, a missing
    input file, invalid settings. The user fixes the command line or the config; the
    command line exits 2."""


class RuntimeFailureError(MonitorError):
    """The command was right but its surroundings failed it: a broker that cannot be
    reached, a port already taken. Retrying later may work; the command line exits 1."""

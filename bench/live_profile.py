"""Where a process's CPU goes, from py-spy's raw (collapsed-stack) output.

Each line of ``py-spy record --format raw`` is ``frame;frame;...;frame COUNT``
with the leaf last and frames written ``function (path:line)``. Samples whose
leaf waits (``selectors.py``, ``threading.py``: a thread blocked in epoll or on a
lock; ``--nonblocking`` sampling cannot tell idle threads apart) count as idle.
A busy sample's *own* time goes to the component of the nearest frame, from the
leaf up, that belongs to a named component (so pydantic or stdlib work is charged
to whoever called it); *inclusive* shares count a busy sample once for every
component anywhere on its stack (so they overlap).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

#: First match wins, so specific paths come before their parents.
COMPONENTS: Final = (
    ("event parsing (monitor/domain/events.py)", ("monitor/domain/events.py",)),
    ("engine (monitor/domain)", ("monitor/domain/",)),
    ("worker adapter (monitor/stream, metrics)", ("monitor/",)),
    ("json", ("json/",)),
    ("faust + mode", ("faust/", "mode/")),
    ("aiokafka (client, protocol, fetcher)", ("aiokafka/", "kafka/")),
    ("prometheus_client", ("prometheus_client/",)),
    ("logging (structlog, logging)", ("structlog/", "logging/")),
    ("asyncio event loop", ("asyncio/", "selectors.py", "uvloop", "threading.py")),
)
OTHER: Final = "other (stdlib, pydantic, ...)"
IDLE_LEAVES: Final = ("selectors.py", "threading.py")
TOP: Final = 15


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    samples: int
    idle_share: float  # of all samples
    by_component: dict[str, float]  # own time share, sorted high to low
    inclusive: dict[str, float]  # share of samples with the component anywhere on the stack
    top_functions: list[tuple[str, float]] = field(default_factory=list)  # own time share


def component(frame: str) -> str:
    path = frame.replace("\\", "/")
    for name, needles in COMPONENTS:
        if any(needle in path for needle in needles):
            return name
    return OTHER


def summarize_raw(text: str) -> ProfileSummary:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = idle = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        if any(leaf in frames[-1] for leaf in IDLE_LEAVES):
            idle += count
            continue
        components = [component(frame) for frame in frames]
        named = [name for name in reversed(components) if name != OTHER]
        own[named[0] if named else OTHER] += count
        functions[frames[-1]] += count
        for name in set(components):
            inclusive[name] += count
    busy = total - idle
    share = 1 / busy if busy else 0.0
    return ProfileSummary(
        samples=total,
        idle_share=idle / total if total else 0.0,
        by_component={name: n * share for name, n in own.most_common()},
        inclusive={name: n * share for name, n in inclusive.most_common()},
        top_functions=[(name, n * share) for name, n in functions.most_common(TOP)],
    )

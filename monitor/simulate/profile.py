"""The knobs of the traffic simulator, with defaults that look like a mid-size contact center.

Every rate, duration and share lives here so a test can write a tiny, exact profile
(constant arrivals, fixed staff, infinite patience) and the demo can use the
defaults: two daily peaks (10-11 and 14-15 local time) and a staffing gap at the
afternoon peak, so service-level, ASA and abandonment objectives breach there.
Weighted choices are ``(value, weight)`` pairs; durations are :class:`Dist`.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from random import Random
from typing import Final, Literal

HOUR: Final = 3600.0
DAY: Final = 86400.0

Weighted = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Dist:
    """A positive random duration in seconds with the given mean.

    ``lognormal`` uses ``sigma`` as the shape of the underlying normal; an infinite
    mean (only for ``exponential``) means "never", e.g. callers who never abandon.
    """

    mean_s: float
    shape: Literal["exponential", "lognormal", "fixed"] = "exponential"
    sigma: float = 1.0
    _mu: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.mean_s > 0:
            raise ValueError(f"Dist mean must be positive, got {self.mean_s}")
        if math.isinf(self.mean_s) and self.shape != "exponential":
            raise ValueError("only an exponential Dist may have an infinite mean")
        mu = math.log(self.mean_s) - self.sigma * self.sigma / 2.0
        object.__setattr__(self, "_mu", mu)

    def sample(self, rng: Random) -> float:
        if self.shape == "exponential":
            if self.mean_s == math.inf:
                return math.inf
            return -self.mean_s * math.log(1.0 - rng.random())
        if self.shape == "lognormal":
            return math.exp(rng.gauss(self._mu, self.sigma))
        return self.mean_s


@dataclass(frozen=True, slots=True)
class Shift:
    """Agents on duty every day between two local clock hours (``end < start`` wraps midnight).

    Overlapping shifts add up. ``chat_agents`` staff the chat queue separately.
    """

    start_h: float
    end_h: float
    agents: int
    chat_agents: int = 0

    def covers(self, hour: float) -> bool:
        if self.start_h <= self.end_h:
            return self.start_h <= hour < self.end_h
        return hour >= self.start_h or hour < self.end_h


# Arrival multiplier per local hour 0..23: quiet nights, peaks at 10-11 and 14-15.
DEFAULT_CURVE: Final = (
    *(0.03,) * 6,
    0.08, 0.2, 0.5, 0.75,  # 06-10
    1.0, 0.85, 0.6, 0.75,  # 10-14
    1.0, 0.85, 0.7, 0.5,  # 14-18
    0.3, 0.2, 0.12, 0.08, 0.05, 0.04,
)  # fmt: skip

# Staffing by local time of day; 14-15 is a peak hour with too few agents.
DEFAULT_SHIFTS: Final = (
    Shift(7.0, 10.0, agents=9, chat_agents=3),
    Shift(10.0, 12.0, agents=11, chat_agents=4),
    Shift(12.0, 14.0, agents=9, chat_agents=3),
    Shift(14.0, 15.0, agents=7, chat_agents=2),
    Shift(15.0, 18.0, agents=9, chat_agents=3),
    Shift(18.0, 21.0, agents=5, chat_agents=2),
)

DEFAULT_QUEUES: Final = (("general", 0.5), ("billing", 0.3), ("technical", 0.2))


@dataclass(frozen=True, slots=True)
class CallTraffic:
    """Inbound calls: at the peak, 120 calls/h x 240 s mean handle time = 8 Erlang."""

    per_hour_peak: float = 120.0
    handle: Dist = Dist(240.0, "lognormal", 0.6)
    patience: Dist = Dist(90.0)
    queues: Weighted = DEFAULT_QUEUES
    survey_share: float = 0.1


@dataclass(frozen=True, slots=True)
class ChatTraffic:
    """Chats: each agent serves ``concurrency`` chats at once; the first message follows a delay."""

    per_hour_peak: float = 40.0
    concurrency: int = 2
    duration: Dist = Dist(480.0, "lognormal", 0.7)
    first_message: Dist = Dist(20.0)
    patience: Dist = Dist(150.0)
    max_exchanges: int = 4
    queues: Weighted = DEFAULT_QUEUES
    survey_share: float = 0.2


@dataclass(frozen=True, slots=True)
class TicketTraffic:
    """Tickets by channel; agents work them only while the center is staffed.

    First-reply delays are long-tailed so some miss the email 12 h / portal 4 h
    targets; ``speed`` scales every agent delay by priority.
    """

    per_hour_peak: Weighted = (("email", 10.0), ("portal", 6.0), ("phone", 3.0), ("chat", 2.0))
    priorities: Weighted = (("urgent", 0.05), ("high", 0.15), ("normal", 0.6), ("low", 0.2))
    categories: Weighted = (
        ("complaint", 0.1),
        ("technical", 0.3),
        ("after_sales", 0.2),
        ("repair", 0.1),
        ("billing", 0.3),
    )
    first_reply: tuple[tuple[str, Dist], ...] = (
        ("email", Dist(4 * HOUR, "lognormal", 1.0)),
        ("portal", Dist(1.5 * HOUR, "lognormal", 1.0)),
        ("phone", Dist(2 * HOUR, "lognormal", 1.0)),
        ("chat", Dist(1 * HOUR, "lognormal", 1.0)),
    )
    speed: Weighted = (("urgent", 0.25), ("high", 0.5), ("normal", 1.0), ("low", 1.5))
    next_reply: Dist = Dist(3 * HOUR, "lognormal", 1.0)
    customer_reply: Dist = Dist(8 * HOUR)
    internal_note_share: float = 0.3
    pending_share: float = 0.5
    hold_share: float = 0.1
    hold: Dist = Dist(1 * DAY)
    extra_rounds_mean: float = 1.0
    priority_change_share: float = 0.08
    reopen_share: float = 0.08
    reopen_after: Dist = Dist(1 * DAY)
    close_after_s: float = 3 * DAY
    survey_share: float = 0.3
    survey_delay: Dist = Dist(3 * HOUR)


@dataclass(frozen=True, slots=True)
class Surveys:
    """Scores 1..5: mostly 4-5 (about 91 % satisfied), worse after a long wait or a reopen."""

    weights: tuple[float, ...] = (0.02, 0.02, 0.05, 0.31, 0.60)
    unhappy_weights: tuple[float, ...] = (0.15, 0.15, 0.2, 0.3, 0.2)
    unhappy_wait_s: float = 120.0
    delay: Dist = Dist(300.0)


@dataclass(frozen=True, slots=True)
class Outages:
    """Short outages of each service an availability objective names (else ``core``)."""

    per_day: float = 0.5
    duration: Dist = Dist(300.0, "lognormal", 0.5)
    degraded_share: float = 0.25


@dataclass(frozen=True, slots=True)
class TrafficProfile:
    """All simulator knobs. Times of day are the contract's local time.

    Calls and chats arrive only while the center is open: the contract's business
    calendar if it has one and ``use_calendar`` (the staff then come from
    ``shifts``, at least ``min_agents_open``), else whenever a shift is on duty.
    """

    curve: tuple[float, ...] = DEFAULT_CURVE
    weekend_factor: float = 0.25
    shifts: tuple[Shift, ...] = DEFAULT_SHIFTS
    use_calendar: bool = True
    min_agents_open: int = 2
    min_chat_agents_open: int = 1
    calls: CallTraffic = field(default_factory=CallTraffic)
    chats: ChatTraffic = field(default_factory=ChatTraffic)
    tickets: TicketTraffic = field(default_factory=TicketTraffic)
    surveys: Surveys = field(default_factory=Surveys)
    outages: Outages = field(default_factory=Outages)

    def __post_init__(self) -> None:
        if len(self.curve) != 24 or min(self.curve) < 0:
            raise ValueError("curve needs 24 non-negative hourly multipliers")
        if len(self.surveys.weights) != 5 or len(self.surveys.unhappy_weights) != 5:
            raise ValueError("survey weights need one weight per score 1..5")
        if self.chats.concurrency < 1:
            raise ValueError("chat concurrency must be at least 1")


class Choice:
    """A fast weighted choice from ``(value, weight)`` pairs."""

    __slots__ = ("_cumulative", "_values")

    def __init__(self, options: Weighted) -> None:
        if not options or min(weight for _, weight in options) < 0:
            raise ValueError(f"need non-negative weights, got {options!r}")
        self._values = [value for value, _ in options]
        self._cumulative = list(itertools.accumulate(weight for _, weight in options))
        if self._cumulative[-1] <= 0:
            raise ValueError(f"need a positive total weight, got {options!r}")

    def pick(self, rng: Random) -> str:
        index = bisect.bisect(self._cumulative, rng.random() * self._cumulative[-1])
        return self._values[min(index, len(self._values) - 1)]

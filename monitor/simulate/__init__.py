"""Realistic synthetic contact-center traffic for demos, tests and benchmarks.

``simulate`` runs, per contract, an exact discrete-event queue simulation for
calls and chats (time-of-day arrivals, shifts with a staffing gap, impatient
callers), ticket lifecycles worked in business hours, surveys and short service
outages, and merges them into one time-ordered stream of v1 events.
"""

from monitor.simulate.profile import (
    CallTraffic,
    ChatTraffic,
    Dist,
    Outages,
    Shift,
    Surveys,
    TicketTraffic,
    TrafficProfile,
)
from monitor.simulate.simulator import simulate, write_jsonl

__all__ = [
    "CallTraffic",
    "ChatTraffic",
    "Dist",
    "Outages",
    "Shift",
    "Surveys",
    "TicketTraffic",
    "TrafficProfile",
    "simulate",
    "write_jsonl",
]

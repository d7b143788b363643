"""Service status: each service reports ``up`` at the start, then has short outages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from random import Random

from monitor.domain.agreement import Agreement, AvailabilityObjective
from monitor.simulate.emission import Emission
from monitor.simulate.profile import DAY, Outages


def monitored_services(agreement: Agreement) -> tuple[str, ...]:
    """The services availability objectives name, else ``("core",)``."""
    named = {o.service for o in agreement.objectives if isinstance(o, AvailabilityObjective)}
    return tuple(sorted(named)) or ("core",)


def outage_events(
    rng: Random,
    outages: Outages,
    services: Sequence[str],
    *,
    contract_id: str,
    start: float,
    until: float,
) -> Iterator[Emission]:
    """``service.status`` transitions: up at ``start``; down (or degraded), then up again."""
    emissions: list[Emission] = []
    for service in services:
        body = {"contract_id": contract_id, "service": service}
        emissions.append((start, "service.status", {**body, "status": "up"}))
        t = start
        while outages.per_day > 0:
            t += rng.expovariate(outages.per_day / DAY)
            if t >= until:
                break
            status = "degraded" if rng.random() < outages.degraded_share else "down"
            emissions.append((t, "service.status", {**body, "status": status}))
            t += max(1.0, outages.duration.sample(rng))
            emissions.append((t, "service.status", {**body, "status": "up"}))
    emissions.sort(key=lambda emission: emission[0])
    return (emission for emission in emissions if emission[0] < until)

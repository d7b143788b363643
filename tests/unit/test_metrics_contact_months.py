"""The worker's gauges for a monthly contact objective, from Engine.objective_status()."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from monitor.domain.agreement import Target, WindowObjective
from monitor.domain.engine import Engine
from monitor.metrics import Metrics
from monitor.stream.gauges import ObjectiveGauges
from tests.support import agreement, at, epoch, event


def test_a_monthly_service_level_exports_month_to_date_budget_and_burn_rates() -> None:
    monthly = WindowObjective(
        "sl-month", "service_level", Target(">=", 0.9), 0, threshold=20, period="month"
    )
    engine = Engine([agreement(monthly)])
    for n, wait in enumerate([5, 10, 30, 15]):
        offered = f"2026-11-10 10:{n:02d}"
        engine.apply(event("call.offered", at(offered), call_id=f"c{n}"))
        engine.apply(event("call.answered", at(offered), call_id=f"c{n}", wait_s=wait))
    engine.advance(epoch("2026-11-10 10:30"))
    metrics = Metrics(CollectorRegistry())
    ObjectiveGauges(metrics).update(engine.objective_status())
    labels = {"contract": "acme", "objective": "sl-month"}
    get = metrics.registry.get_sample_value

    assert get("slamon_objective_sli", labels) == pytest.approx(3 / 4)
    assert get("slamon_objective_target", labels) == 0.9
    remaining = get("slamon_error_budget_remaining_ratio", labels)
    assert remaining is not None
    assert remaining < 1.0
    assert get("slamon_burn_rate", labels | {"window": "1h"}) == pytest.approx(0.25 / 0.1)

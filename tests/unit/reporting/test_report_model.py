"""The report's numbers are the engine's: summed observer samples equal its report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain.agreement import Agreement
from monitor.domain.engine import Engine
from monitor.domain.observer import attach
from monitor.domain.report import build_report
from monitor.replay import read_lines, replay
from monitor.reporting.period import month_period
from monitor.reporting.run import ReportRun, build_reports
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate, write_jsonl

RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture(scope="module")
def agreements() -> list[Agreement]:
    loaded, problems = load_rules([RULES])
    assert not problems
    return loaded


def _simulated(tmp: Path, agreements: list[Agreement], start: str, hours: float) -> Path:
    path = tmp / "events.jsonl"
    begin = datetime.fromisoformat(start).replace(tzinfo=UTC)
    write_jsonl(simulate(agreements, start=begin, duration=timedelta(hours=hours), seed=7), path)
    return path


@pytest.fixture(scope="module")
def inside_october(tmp_path_factory: pytest.TempPathFactory, agreements: list[Agreement]) -> Path:
    """36 h of simulated traffic on working days, inside October in every contract's zone."""
    return _simulated(tmp_path_factory.mktemp("oct"), agreements, "2026-10-13T00:00:00", 36)


@pytest.fixture(scope="module")
def october_run(inside_october: Path, agreements: list[Agreement]) -> ReportRun:
    return build_reports(
        read_lines(inside_october), agreements, lambda a: month_period(a.timezone, "2026-10")
    )


def test_every_objective_equals_the_engine_report_when_the_input_lies_in_the_period(
    inside_october: Path, agreements: list[Agreement], october_run: ReportRun
) -> None:
    engine_report = replay(read_lines(inside_october), agreements).report()
    compared = 0
    for document in october_run.documents():
        expected = engine_report["contracts"][document["contract_id"]]["objectives"]
        assert set(document["objectives"]) == set(expected)
        for objective_id, entry in document["objectives"].items():
            for field in ("kind", "value", "target", "comparator", "met", "samples", "breaches"):
                assert entry[field] == expected[objective_id][field], (objective_id, field)
            compared += 1
            if entry["samples"]:
                assert sum(point["samples"] for point in entry["daily"]) == entry["samples"]
    assert compared == sum(len(a.objectives) for a in agreements)
    measured = [
        entry
        for document in october_run.documents()
        for entry in document["objectives"].values()
        if entry["samples"]
    ]
    assert len(measured) >= 20, "the simulation should exercise most objectives"


def test_item_breach_rows_are_the_missed_items_the_engine_counted(
    october_run: ReportRun,
) -> None:
    for report in october_run.reports:
        by_objective: dict[str, int] = defaultdict(int)
        for row in report.breaches:
            by_objective[row.objective_id] += 1
            assert row.deadline is not None
            assert row.late_s is not None
            assert row.late_s >= 0
            if not row.still_open:
                assert row.finished is not None
                assert row.finished >= row.deadline
        for objective in report.objectives:
            if objective.kind in ("first_response", "next_response", "resolution"):
                assert by_objective[objective.id] == objective.breaches
        assert sum(n for _q, n in report.top_queues) == len(report.breaches)


class Sums:
    """An observer that sums everything it hears, per contract, objective and month."""

    def __init__(self, timezones: dict[str, str]) -> None:
        self.timezones = timezones
        self.windows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.items: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.periods: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])

    def window_sample(self, contract: str, objective: str, ts: float, num: int, den: int) -> None:
        pair = self.windows[(contract, objective)]
        pair[0] += num
        pair[1] += den

    def item_decided(self, contract: str, objective: str, *args: object) -> None:
        met = args[-2]
        self.items[(contract, objective)][0 if met else 1] += 1

    def item_finished(self, *args: object) -> None:
        pass

    def period_sample(
        self, contract: str, objective: str, minute: float, bad: float, total: float
    ) -> None:
        from monitor.domain.periods import month_key, month_of

        key = month_key(*month_of(self.timezones[contract], minute))
        pair = self.periods[(contract, objective, key)]
        pair[0] += bad
        pair[1] += total

    def availability_change(self, *args: object) -> None:
        pass


def _lines(path: Path) -> Iterator[bytes]:
    return read_lines(path)


def test_observed_samples_sum_to_the_engine_totals_across_a_month_boundary(
    tmp_path: Path, agreements: list[Agreement]
) -> None:
    path = _simulated(tmp_path, agreements, "2026-10-30T12:00:00", 60)
    engine = Engine(agreements)
    sums = Sums({a.contract_id: a.timezone for a in agreements})
    attach(engine, sums)
    replay(_lines(path), agreements, engine=engine)
    months_seen: set[str] = set()
    for contract_id, contract in engine.contracts.items():
        for objective_id, tracker in contract.windows.items():
            assert sums.windows[(contract_id, objective_id)] == [
                tracker.total.num,
                tracker.total.den,
            ]
        for objective_id, stats in contract.items.stats.items():
            assert sums.items[(contract_id, objective_id)] == [stats.met, stats.missed]
        for period in contract.monthly.trackers:
            for key, totals in period.months.items():
                months_seen.add(key)
                assert sums.periods[(contract_id, period.objective_id, key)] == totals
    assert {"2026-10", "2026-11"} <= months_seen


def test_the_two_months_of_a_split_input_add_up_to_the_engine_report(
    tmp_path: Path, agreements: list[Agreement]
) -> None:
    path = _simulated(tmp_path, agreements, "2026-10-31T06:00:00", 36)
    engine_report = build_report(replay(_lines(path), agreements).engine)
    runs = [
        build_reports(_lines(path), agreements, lambda a, m=month: month_period(a.timezone, m))
        for month in ("2026-10", "2026-11")
    ]
    for index, agreement in enumerate(agreements):
        expected = engine_report["contracts"][agreement.contract_id]["objectives"]
        for objective in agreement.objectives:
            entries = [run.documents()[index]["objectives"][objective.id] for run in runs]
            assert sum(e["samples"] for e in entries) == expected[objective.id]["samples"]
            if objective.kind == "availability":
                for run, entry in zip(runs, entries, strict=True):
                    month = run.reports[index].period.month
                    months = expected[objective.id]["months"]
                    assert entry["value"] == _rounded(months.get(month, {}).get("value"))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def test_an_attached_observer_changes_no_alert(
    inside_october: Path, agreements: list[Agreement]
) -> None:
    plain = replay(_lines(inside_october), agreements)
    observed_engine = Engine(agreements)
    attach(observed_engine, Sums({a.contract_id: a.timezone for a in agreements}))
    observed = replay(_lines(inside_october), agreements, engine=observed_engine)
    assert [a.to_json() for a in observed.alerts] == [a.to_json() for a in plain.alerts]
    assert observed.engine.snapshot() == plain.engine.snapshot()

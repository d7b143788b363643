"""The worker without Faust: its wait for a stop or a crash (a stand-in app), and its
objective gauges read in turns."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from monitor.domain.status import ObjectiveStatus
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.stream.processor import Processor
from monitor.stream.worker import Worker, _until_stopped_or_crashed


class StandInApp:
    def __init__(self) -> None:
        self.crashed = False
        self.crash_reason: BaseException | None = None

    async def crash(self, reason: BaseException) -> None:
        self.crash_reason = reason
        self.crashed = True


def test_a_crashed_service_ends_the_wait_with_its_reason() -> None:
    async def main() -> BaseException | None:
        app, stop = StandInApp(), asyncio.Event()
        asyncio.get_running_loop().call_later(
            0.3, lambda: asyncio.ensure_future(app.crash(KeyError("x")))
        )
        return await _until_stopped_or_crashed(app, stop)  # type: ignore[arg-type]

    reason: Any = asyncio.run(main())
    assert isinstance(reason, KeyError)


def test_a_stop_ends_the_wait_without_a_crash() -> None:
    async def main() -> BaseException | None:
        app, stop = StandInApp(), asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        return await _until_stopped_or_crashed(app, stop)  # type: ignore[arg-type]

    assert asyncio.run(main()) is None


# -- objective gauges in turns ---------------------------------------------------------

RULES = Path(__file__).resolve().parents[3] / "rules"


def _worker_with_partitions(partitions: int) -> tuple[Worker, Processor]:
    agreements, problems = load_rules([RULES])
    assert not problems
    assert len(agreements) >= 3
    settings = Settings(kafka_brokers=["k:9092"])
    worker = Worker(settings, agreements, serve_http=False)
    worker.partitions = partitions
    processor = Processor(settings, agreements, worker.metrics, end_offset=lambda t, p: None)
    for partition in range(partitions):
        processor.state_for(partition)
    worker.processor = processor
    return worker, processor


def test_objective_gauges_are_read_one_contract_per_turn_of_the_loop() -> None:
    worker, processor = _worker_with_partitions(2)
    turns = 0

    async def main() -> list[ObjectiveStatus]:
        nonlocal turns
        stop = False

        async def engine_loop() -> None:
            nonlocal turns
            while not stop:
                turns += 1
                await asyncio.sleep(0)

        loop = asyncio.create_task(engine_loop())
        await asyncio.sleep(0)
        started = turns
        statuses = await worker._objective_status_in_turns(processor)
        stop = True
        await loop
        turns -= started
        return statuses

    statuses = asyncio.run(main())

    contracts = {s.contract_id for s in statuses}
    assert contracts == {a.contract_id for a in worker.agreements}
    assert statuses == worker.objective_status()
    assert turns >= len(contracts) - 1  # the loop ran between every two contracts


def test_a_partition_revoked_during_the_walk_exports_nothing() -> None:
    worker, processor = _worker_with_partitions(2)
    owned_by = {p: worker._contracts_of(p) for p in (0, 1)}
    assert owned_by[0]
    assert owned_by[1]

    async def main() -> list[ObjectiveStatus]:
        walk = asyncio.create_task(worker._objective_status_in_turns(processor))
        await asyncio.sleep(0)  # the walk is in partition 0's contracts now
        processor.drop([0])
        return await walk

    statuses = asyncio.run(main())

    assert {s.contract_id for s in statuses} == set(owned_by[1])

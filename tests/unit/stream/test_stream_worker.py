"""The worker's wait for a stop or a crash, without Faust: a stand-in app."""

from __future__ import annotations

import asyncio
from typing import Any

from monitor.stream.worker import _until_stopped_or_crashed


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

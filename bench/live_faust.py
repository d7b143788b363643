"""Child of ``bench.live`` (b): a bare Faust agent that only iterates the input topics.

``python -m bench.live_faust COUNT TOPIC...`` with ``SLAMON_*`` settings in the
environment. It uses the worker's app factory (``make_app``: same fetch wait,
session timeout, auto offset reset) and prints one JSON line: events/s from the
first to the COUNT-th record, and the seconds until the first record.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from monitor.settings import Settings
from monitor.stream.faust_app import make_app

TIMEOUT_S = 600.0


def main(argv: list[str]) -> None:
    count, topics = int(argv[0]), argv[1:]
    settings = Settings(state_dir=Path(tempfile.mkdtemp(prefix="slamon-bare-")) / "state")
    app = make_app(settings)
    seen = 0
    first = last = 0.0
    done = asyncio.Event()

    @app.agent(app.topic(*topics, key_serializer="raw", value_serializer="raw"))
    async def iterate(stream: Any) -> None:
        nonlocal seen, first, last
        async for _value in stream:
            seen += 1
            if seen == 1:
                first = time.perf_counter()
            if seen == count:
                last = time.perf_counter()
                done.set()

    async def run() -> dict[str, float]:
        began = time.perf_counter()
        await app.start()
        await asyncio.wait_for(done.wait(), TIMEOUT_S)
        result = {"events_per_s": (count - 1) / (last - first), "startup_s": first - began}
        print(json.dumps(result), flush=True)
        os._exit(0)  # Faust's shutdown adds seconds and nothing to measure

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])

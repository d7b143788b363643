"""A producer for unit tests: real aiokafka batch builders, acknowledgements by hand."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.producer.message_accumulator import BatchBuilder


class RecordingProducer:
    """``create_batch``/``send_batch`` over real batch builders; nothing is acknowledged
    until the test says so."""

    def __init__(self, batch_size: int = 1024 * 1024) -> None:
        self.batch_size = batch_size
        self.sent: list[tuple[list[bytes], asyncio.Future[Any]]] = []
        self.targets: list[tuple[str, int]] = []

    def create_batch(self) -> Any:
        return RecordingBatch(self.batch_size)

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self.targets.append((topic, partition))
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sent.append((batch.keys, ack))
        return ack

    def sent_keys(self) -> list[bytes]:
        return [key for keys, _ in self.sent for key in keys]

    def acknowledge(self) -> None:
        for _, ack in self.sent:
            if not ack.done():
                ack.set_result(None)


class RecordingBatch(BatchBuilder):  # type: ignore[misc]
    def __init__(self, batch_size: int) -> None:
        super().__init__(batch_size, 0)
        self.keys: list[bytes] = []

    def append(self, *, timestamp: Any, key: bytes, value: Any, headers: Any = ()) -> Any:
        metadata = super().append(timestamp=timestamp, key=key, value=value, headers=headers)
        if metadata is not None:
            self.keys.append(key)
        return metadata

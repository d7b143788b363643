"""Servers that answer badly cannot hold a sender or fill its memory.

A 200 with a 256 MiB body is read only up to ``max_response_bytes``; a body
trickling a byte every 50 ms (each read well inside httpx's per-read timeout)
is cut off by the attempt's total deadline and retried; a port no URL can have
is a dead letter, not a crash. Each test is bounded by its receiver's limits
and the pytest timeout.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from monitor.sinks.retry import DeadLetter, RetryPolicy
from monitor.sinks.slack import SlackSink
from monitor.sinks.webhook import WebhookSink
from tests.integration.test_sinks import item_alert, send_all, trigger
from tests.receivers import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FAST = {"initial_backoff": 0.01, "max_backoff": 0.02}


async def wait_for_hang_up(receiver: Receiver, count: int) -> None:
    while len(receiver.streamed) < count:
        await asyncio.sleep(0.01)


def test_a_huge_answer_is_read_only_up_to_the_cap() -> None:
    async def main() -> tuple[list[bool], Receiver]:
        async with Receiver(["huge"]) as receiver:
            sink = WebhookSink("hook", f"{receiver.url}/hook", SecretStr("s"))
            policy = RetryPolicy(max_attempts=1, timeout=20.0, max_response_bytes=64 * 1024)
            results, _ = await send_all(sink, [trigger(item_alert("breached"))], policy=policy)
            await wait_for_hang_up(receiver, 1)
        return results, receiver

    results, receiver = asyncio.run(main())
    assert results == [True]
    (sent,) = receiver.streamed
    assert sent < receiver.huge_bytes // 4  # the rest never left: the client hung up


def test_a_trickling_answer_is_cut_by_the_attempt_deadline_and_retried() -> None:
    async def main() -> tuple[list[bool], list[DeadLetter], Receiver]:
        async with Receiver(["trickle"], trickle_s=0.05, trickle_for_s=20.0) as receiver:
            sink = WebhookSink("hook", f"{receiver.url}/hook", SecretStr("s"))
            policy = RetryPolicy(max_attempts=2, timeout=0.5, **FAST)
            results, dead = await send_all(sink, [trigger(item_alert("breached"))], policy=policy)
            await wait_for_hang_up(receiver, 1)
        return results, dead, receiver

    results, dead, receiver = asyncio.run(main())
    assert (results, dead) == ([True], [])
    assert [seen.status for seen in receiver.requests] == [200, 200]
    (sent,) = receiver.streamed
    assert sent < 20.0 / 0.05  # cut off long before the server was done


def test_a_server_that_always_trickles_ends_in_a_dead_letter() -> None:
    async def main() -> tuple[list[bool], list[DeadLetter]]:
        script = ["trickle", "trickle"]
        async with Receiver(script, trickle_s=0.05, trickle_for_s=20.0) as receiver:
            sink = WebhookSink("hook", f"{receiver.url}/hook", SecretStr("s"))
            policy = RetryPolicy(max_attempts=2, timeout=0.3, **FAST)
            outcome = await send_all(sink, [trigger(item_alert("breached"))], policy=policy)
            await wait_for_hang_up(receiver, 2)
        return outcome

    results, dead = asyncio.run(main())
    assert results == [False]
    assert [(letter.attempts, letter.reason) for letter in dead] == [
        (2, "gave up after TimeoutError")
    ]


def test_a_url_with_an_impossible_port_is_a_dead_letter_not_a_crash() -> None:
    sink = SlackSink("slack", SecretStr("http://127.0.0.1:99999/services/T000/B000/X"))

    results, dead = asyncio.run(
        send_all(sink, [trigger(item_alert("breached"))], policy=RetryPolicy(max_attempts=2))
    )

    assert results == [False]
    (letter,) = dead
    assert letter.reason.startswith("permanent: ")
    assert "T000" not in letter.reason

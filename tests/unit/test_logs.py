"""Log redaction: what is masked, what is left alone, and the loggers kept quiet."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from monitor import logs
from monitor.logs import MASK, configure_logging, redact, register_secrets
from monitor.settings import Settings
from tests.logging_support import restored_logging

CASES = [
    (
        'HTTP Request: POST https://hooks.slack.com/services/T0/B0/XyZ "HTTP/1.1 200 OK"',
        f'HTTP Request: POST https://hooks.slack.com/{MASK} "HTTP/1.1 200 OK"',
    ),
    ("GET http://user:pa55@127.0.0.1:9093/api/v2/alerts", f"GET http://127.0.0.1:9093/{MASK}"),
    ("hook at https://example.com/hook?token=abc", f"hook at https://example.com/{MASK}"),
    ("serving http://127.0.0.1:9108 and http://h/", "serving http://127.0.0.1:9108 and http://h"),
    ("Authorization: GenieKey 0123-4567-89ab", f"Authorization: {MASK} {MASK}"),
    ("header Bearer abcdef123456", f"header Bearer {MASK}"),
    ('{"routing_key": "R0UT1NGKEY"}', f'{{"routing_key": "{MASK}"}}'),
    ("api_key=k1&x=1 password: p2", f"api_key={MASK}&x=1 password: {MASK}"),
    ("tokens, secretary and passwords stay words", "tokens, secretary and passwords stay words"),
    ('{"secret_env": "HOOK_SECRET"}', '{"secret_env": "HOOK_SECRET"}'),
    ("partitions_resumed partitions=[0, 1]", "partitions_resumed partitions=[0, 1]"),
]


@pytest.fixture
def registered() -> Iterator[None]:
    saved = set(logs._secrets)
    yield
    logs._secrets.clear()
    logs._secrets.update(saved)


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text[:30] for text, _ in CASES])
def test_redact_masks_credentials_and_url_paths_only(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.usefixtures("registered")
def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    register_secrets(["PD0ROUTING0KEY", "abc"])

    assert redact("key PD0ROUTING0KEY in a message") == f"key {MASK} in a message"
    assert redact("abc stays: too short to be a key") == "abc stays: too short to be a key"


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_the_http_client_loggers_stay_at_warning_whatever_the_level(level: str) -> None:
    with restored_logging():
        configure_logging(level, "json", force=True)

        for name in ("httpx", "httpcore"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("faust").getEffectiveLevel() == (
            logging.DEBUG if level == "DEBUG" else logging.WARNING
        )


@pytest.mark.usefixtures("registered")
def test_the_kafka_sasl_password_is_masked_once_a_client_uses_it() -> None:
    settings = Settings(
        kafka_brokers=["k1:9092"],
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="monitor",
        sasl_password=SecretStr("KAFKA0SASL0PASSWORD"),
    )

    settings.kafka_client_kwargs()

    assert redact("auth failed with KAFKA0SASL0PASSWORD") == f"auth failed with {MASK}"

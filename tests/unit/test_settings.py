"""Settings: env parsing, config files, precedence and secrets that never leak."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import ValidationError
from structlog.testing import capture_logs

from monitor.domain.errors import MonitorError
from monitor.settings import CONFIG_ENV_VAR, ConfigFileError, Settings, SettingsError, Topics

SECRET = "s3cr3t-hunter2"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SLAMON_* variable from the developer's shell reaches these tests."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("SLAMON_"):
            monkeypatch.delenv(name)


def sasl_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLAMON_KAFKA_BROKERS", "k1:9093")
    monkeypatch.setenv("SLAMON_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("SLAMON_SASL_MECHANISM", "scram-sha-512")
    monkeypatch.setenv("SLAMON_SASL_USERNAME", "monitor")
    monkeypatch.setenv("SLAMON_SASL_PASSWORD", SECRET)


# -- defaults and env ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kafka_brokers", []),
        ("partitions", 4),
        ("replication_factor", 1),
        ("rules_dir", Path("rules")),
        ("metrics_port", 9108),
        ("lateness_s", 60.0),
        ("tick_interval_s", 1.0),
        ("fetch_max_wait_ms", 50),
        ("session_timeout_ms", 10_000),
        ("app_id", "slamon"),
        ("log_level", "INFO"),
        ("log_format", "auto"),
        ("security_protocol", "PLAINTEXT"),
        ("sasl_password", None),
        ("table_store", "memory://"),
    ],
)
def test_defaults_need_no_configuration(name: str, expected: Any) -> None:
    assert getattr(Settings(), name) == expected


def test_default_topic_names_are_the_public_contract() -> None:
    topics = Settings().topics
    assert topics.inputs() == (
        "slamon.calls",
        "slamon.chats",
        "slamon.tickets",
        "slamon.surveys",
        "slamon.services",
    )
    assert (topics.alerts, topics.deadletter, topics.ticks, topics.rekey) == (
        "slamon.alerts",
        "slamon.deadletter",
        "slamon.ticks",
        "slamon.rekey",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("k1:9092", ["k1:9092"]),
        ("k1:9092,k2:9092", ["k1:9092", "k2:9092"]),
        (" k1:9092 , k2:9092 ,", ["k1:9092", "k2:9092"]),
    ],
)
def test_brokers_are_a_comma_separated_list_in_env(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("SLAMON_KAFKA_BROKERS", raw)
    settings = Settings()
    assert settings.kafka_brokers == expected
    assert settings.embedded is (not expected)
    assert settings.bootstrap_servers == ",".join(expected)


def test_nested_topic_names_use_a_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLAMON_TOPICS__CALLS", "acme.calls")
    topics = Settings().topics
    assert topics.calls == "acme.calls"
    assert topics.chats == "slamon.chats"


@pytest.mark.parametrize(
    ("var", "raw", "name", "expected"),
    [
        ("SLAMON_PARTITIONS", "12", "partitions", 12),
        ("SLAMON_LATENESS_S", "2.5", "lateness_s", 2.5),
        ("SLAMON_FETCH_MAX_WAIT_MS", "500", "fetch_max_wait_ms", 500),
        ("SLAMON_RULES_DIR", "/etc/slamon/rules", "rules_dir", Path("/etc/slamon/rules")),
        ("SLAMON_LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("SLAMON_LOG_FORMAT", "JSON", "log_format", "json"),
        ("SLAMON_SECURITY_PROTOCOL", "ssl", "security_protocol", "SSL"),
        ("slamon_app_id", "slamon-eu", "app_id", "slamon-eu"),
    ],
)
def test_env_values_are_parsed_and_normalised(
    monkeypatch: pytest.MonkeyPatch, var: str, raw: str, name: str, expected: Any
) -> None:
    monkeypatch.setenv(var, raw)
    assert getattr(Settings(), name) == expected


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("SLAMON_PARTITIONS", "0"),
        ("SLAMON_METRICS_PORT", "70000"),
        ("SLAMON_LOG_FORMAT", "xml"),
        ("SLAMON_SECURITY_PROTOCOL", "TLS"),
        ("SLAMON_SASL_MECHANISM", "GSSAPI"),
        ("SLAMON_TICK_INTERVAL_S", "0"),
    ],
)
def test_invalid_env_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, var: str, raw: str
) -> None:
    monkeypatch.setenv(var, raw)
    with pytest.raises(ValidationError):
        Settings()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.partitions = 8  # type: ignore[misc]


def test_sasl_without_credentials_is_rejected() -> None:
    with pytest.raises(SettingsError, match="needs sasl_username and sasl_password"):
        Settings(security_protocol="SASL_SSL", sasl_username="monitor")


def test_with_brokers_returns_a_copy_pointing_elsewhere() -> None:
    settings = Settings()
    moved = settings.with_brokers("127.0.0.1:40001")
    assert moved.kafka_brokers == ["127.0.0.1:40001"]
    assert settings.kafka_brokers == []


# -- config files --------------------------------------------------------------

TOML = """
kafka_brokers = "file1:9092,file2:9092"
partitions = 8
log_level = "warning"

[topics]
calls = "file.calls"
"""

YAML = """
kafka_brokers: [file1:9092, file2:9092]
partitions: 8
log_level: warning
topics:
  calls: file.calls
"""


@pytest.mark.parametrize(("suffix", "text"), [(".toml", TOML), (".yaml", YAML), (".yml", YAML)])
def test_a_config_file_is_read_as_toml_or_yaml(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"slamon{suffix}"
    path.write_text(text)
    settings = Settings.load(path)
    assert settings.kafka_brokers == ["file1:9092", "file2:9092"]
    assert settings.partitions == 8
    assert settings.log_level == "WARNING"
    assert settings.topics == Topics(calls="file.calls")


def test_the_config_file_can_come_from_slamon_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slamon.toml"
    path.write_text(TOML)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
    assert Settings().partitions == 8
    assert Settings.load().partitions == 8


def test_env_beats_the_file_and_overrides_beat_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slamon.toml"
    path.write_text(TOML)
    monkeypatch.setenv("SLAMON_PARTITIONS", "16")
    monkeypatch.setenv("SLAMON_TOPICS__CHATS", "env.chats")
    settings = Settings.load(path, log_level="ERROR")
    assert settings.partitions == 16
    assert settings.log_level == "ERROR"
    assert (settings.topics.calls, settings.topics.chats) == ("file.calls", "env.chats")


def test_an_explicit_file_does_not_stick_to_later_loads(tmp_path: Path) -> None:
    path = tmp_path / "slamon.toml"
    path.write_text(TOML)
    assert Settings.load(path).partitions == 8
    assert Settings.load().partitions == 4


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("slamon.ini", "partitions = 8", "must end in .toml, .yaml or .yml"),
        ("slamon.toml", "partitions = = 8", "invalid TOML"),
        ("slamon.yaml", "partitions: [8", "invalid YAML"),
        ("slamon.yaml", "- 8\n- 9\n", "mapping at the top level"),
    ],
)
def test_a_bad_config_file_is_reported_with_its_name(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=message) as caught:
        Settings.load(path)
    assert str(path) in str(caught.value)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read config file"):
        Settings.load(tmp_path / "absent.toml")


def test_an_unknown_key_in_the_config_file_is_named_with_the_closest_known_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slamon.toml"
    path.write_text("partitons = 8\n[topics]\ncalss = 'x'\n")
    with pytest.raises(SettingsError) as caught:
        Settings.load(path)
    message = str(caught.value)
    assert "unknown setting 'partitons' (did you mean partitions?)" in message
    assert "unknown setting 'topics.calss' (did you mean topics.calls?)" in message
    assert str(path) in message
    assert "\n" not in message


def test_a_wrong_value_from_the_environment_is_named_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLAMON_METRICS_PORT", "nine-one-oh-eight")
    with pytest.raises(SettingsError, match="metrics_port: Input should be a valid integer") as e:
        Settings.load()
    assert "nine-one-oh-eight" not in str(e.value)
    assert "SLAMON_* environment" in str(e.value)


# -- Kafka client kwargs ---------------------------------------------------------


def test_plaintext_client_kwargs_are_minimal() -> None:
    kwargs = Settings(kafka_brokers=["k1:9092", "k2:9092"]).kafka_client_kwargs()
    assert kwargs == {"bootstrap_servers": "k1:9092,k2:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_client_kwargs_unwrap_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    sasl_env(monkeypatch)
    kwargs = Settings().kafka_client_kwargs()
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "monitor"
    assert kwargs["sasl_plain_password"] == SECRET
    assert "ssl_context" not in kwargs


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
def test_tls_client_kwargs_carry_an_ssl_context(protocol: str) -> None:
    settings = Settings(
        kafka_brokers=["k1:9093"],
        security_protocol=protocol,
        sasl_username="monitor",
        sasl_password=SECRET,
    )
    assert isinstance(settings.kafka_client_kwargs()["ssl_context"], ssl.SSLContext)


def test_client_kwargs_need_brokers() -> None:
    with pytest.raises(MonitorError, match="embedded broker"):
        Settings().kafka_client_kwargs()


# -- secrets never leak ------------------------------------------------------------


def test_the_password_is_not_in_repr_str_or_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    sasl_env(monkeypatch)
    settings = Settings()
    redacted = settings.redacted()
    assert redacted["sasl_password"] == "**********"
    assert redacted["sasl_username"] == "monitor"
    for text in (repr(settings), str(settings), str(redacted), settings.model_dump_json()):
        assert SECRET not in text


def test_redacted_is_json_safe_and_complete() -> None:
    import json

    redacted = Settings().redacted()
    assert json.loads(json.dumps(redacted)) == redacted
    assert set(redacted) == set(Settings.model_fields)


def test_the_password_is_not_in_log_output(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sasl_env(monkeypatch)
    settings = Settings()
    with capture_logs() as captured:
        structlog.get_logger().info("settings_loaded", settings=settings.redacted())
        structlog.get_logger().info("settings_object", settings=settings)
    with caplog.at_level(logging.INFO):
        logging.getLogger("slamon.test").info("settings %s %r", settings, settings)
    assert SECRET not in repr(captured)
    assert SECRET not in caplog.text


def test_a_cross_field_error_does_not_echo_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    sasl_env(monkeypatch)
    monkeypatch.delenv("SLAMON_SASL_USERNAME")
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.args)


def test_a_field_error_does_not_echo_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    sasl_env(monkeypatch)
    monkeypatch.setenv("SLAMON_PARTITIONS", "zero")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.errors())

"""Runtime settings: environment (``SLAMON_*``), an optional TOML/YAML file, defaults.

Precedence, highest first: explicit keyword arguments, environment variables,
the config file (``Settings.load(path)`` or ``$SLAMON_CONFIG``), defaults.
Nested values use ``__`` in the environment (``SLAMON_TOPICS__CALLS=…``) and
tables/mappings in the file (``[topics]`` / ``topics:``).

Secrets are ``SecretStr``: they are unwrapped only in ``kafka_client_kwargs()``;
``repr()``, ``redacted()`` and log output show ``**********``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from monitor.domain.errors import MonitorError, UsageError
from monitor.domain.lateness import DEFAULT_LATENESS

__all__ = [
    "CONFIG_ENV_VAR",
    "ConfigFileError",
    "Settings",
    "SettingsError",
    "Topics",
    "describe_invalid",
]

CONFIG_ENV_VAR = "SLAMON_CONFIG"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["auto", "json", "console"]

_config_file: ContextVar[Path | None] = ContextVar("slamon_config_file", default=None)


class SettingsError(UsageError):
    """Settings that are invalid or do not fit together (never echoing inputs)."""


class ConfigFileError(SettingsError):
    """The config file is missing, unreadable or not a TOML/YAML mapping."""


class Topics(BaseModel):
    """Kafka topic names; the input topics are a public contract (docs/design.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: str = "slamon.calls"
    chats: str = "slamon.chats"
    tickets: str = "slamon.tickets"
    surveys: str = "slamon.surveys"
    services: str = "slamon.services"
    alerts: str = "slamon.alerts"
    deadletter: str = "slamon.deadletter"
    ticks: str = "slamon.ticks"
    rekey: str = "slamon.rekey"
    notifier_ticks: str = "slamon.notifier-ticks"
    notifications_deadletter: str = "slamon.notifications.deadletter"

    def inputs(self) -> tuple[str, ...]:
        """The event topics producers write to."""
        return (self.calls, self.chats, self.tickets, self.surveys, self.services)

    def all(self) -> tuple[str, ...]:
        return (
            *self.inputs(),
            self.alerts,
            self.deadletter,
            self.ticks,
            self.rekey,
            self.notifier_ticks,
            self.notifications_deadletter,
        )


class Settings(BaseSettings):
    """Everything a worker, the CLI and the tests need to know, validated once."""

    model_config = SettingsConfigDict(
        env_prefix="SLAMON_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        case_sensitive=False,
        hide_input_in_errors=True,  # else a failing validator echoes every input, secrets too
    )

    kafka_brokers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="host:port list (comma-separated in env); empty = embedded broker",
    )
    topics: Topics = Field(default_factory=Topics)
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1, description="for topics slamon creates")
    rules_dir: Path = Path("rules")
    notifiers_file: Path | None = Field(
        default=None, description="notifiers file (YAML/TOML); unset = no notifier agent"
    )
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    lateness_s: float = Field(default=DEFAULT_LATENESS, ge=0, allow_inf_nan=False)
    max_event_future_s: float = Field(
        default=86400.0,
        gt=0,
        allow_inf_nan=False,
        description="events dated further ahead of the wall clock are dead-lettered",
    )
    tick_interval_s: float = Field(
        default=1.0, gt=0, description="seconds between watermark checks of idle partitions"
    )
    max_batch_records: int = Field(
        default=5000, ge=1, description="records the engine takes from Kafka at a time"
    )
    follow_wall_clock: bool = Field(
        default=True,
        description="caught-up idle partitions advance event time with the wall clock",
    )
    checkpoint_events: int = Field(
        default=100_000, ge=1, description="at most this many events between checkpoints"
    )
    checkpoint_interval_s: float = Field(default=5.0, gt=0, description="seconds between them")
    fetch_max_wait_ms: int = Field(
        default=50, ge=0, description="consumer fetch max wait; low = low latency on Tansu"
    )
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    state_dir: Path = Path(".slamon/state")
    table_store: str = Field(
        default="memory://", description="Faust table store URL, e.g. rocksdb:// (needs rocksdict)"
    )
    app_id: str = Field(default="slamon", min_length=1)
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "auto"

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @field_validator("kafka_brokers", mode="before")
    @classmethod
    def _split_brokers(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        return value

    @field_validator("log_level", "security_protocol", "sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Settings:
        # Not a ValueError: pydantic would wrap it and keep every raw input,
        # the plain-text password included, in ValidationError.errors().
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_username and self.sasl_password
        ):
            raise SettingsError(
                f"security_protocol={self.security_protocol} needs sasl_username and sasl_password"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from ``config_file`` (else ``$SLAMON_CONFIG``), env and overrides.

        Raises :class:`SettingsError` naming every wrong key, and for an unknown
        key the closest known one, so a typo in a config file reads as such.
        """
        with _reading(config_file):
            try:
                return cls(**overrides)
            except ValidationError as exc:
                source = config_file or os.environ.get(CONFIG_ENV_VAR)
                raise SettingsError(describe_invalid(exc, source)) from exc

    # -- derived views -------------------------------------------------------

    @property
    def embedded(self) -> bool:
        """True when no brokers are configured and the embedded broker must be used."""
        return not self.kafka_brokers

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(self.kafka_brokers)

    def with_brokers(self, bootstrap_servers: str) -> Settings:
        """A copy pointing at ``bootstrap_servers`` (e.g. the embedded broker's address)."""
        return self.model_copy(update={"kafka_brokers": self._split_brokers(bootstrap_servers)})

    def kafka_client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by every aiokafka client; the only place secrets are read."""
        if not self.kafka_brokers:
            raise MonitorError("no Kafka brokers configured: start the embedded broker first")
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context(
                cafile=_str_or_none(self.ssl_cafile),
                certfile=_str_or_none(self.ssl_certfile),
                keyfile=_str_or_none(self.ssl_keyfile),
            )
        if self.security_protocol.startswith("SASL_"):
            from monitor.logs import register_secrets

            password = self.sasl_password.get_secret_value() if self.sasl_password else None
            register_secrets([password] if password else [])  # masked in every log line
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = password
        return kwargs

    def redacted(self) -> dict[str, Any]:
        """A JSON-safe dict for logs and ``--show-config``: every secret is masked."""
        data: dict[str, Any] = self.model_dump(mode="json")
        for name, value in data.items():
            if isinstance(getattr(self, name), SecretStr) and value is not None:
                data[name] = "**********"
        return data


def describe_invalid(error: ValidationError, source: Path | str | None = None) -> str:
    """One line naming each wrong setting; inputs are never echoed (they may be secrets)."""
    where = f"in {source} or the SLAMON_* environment" if source else "in the SLAMON_* environment"
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc) or "(settings)"
        if item["type"] == "extra_forbidden":
            nested = len(loc) == 2 and loc[0] == "topics"
            known = list(Topics.model_fields if nested else Settings.model_fields)
            close = difflib.get_close_matches(loc[-1] if loc else key, known, n=1)
            if close and nested:
                close = [f"topics.{close[0]}"]
            hint = f" (did you mean {close[0]}?)" if close else ""
            parts.append(f"unknown setting {key!r}{hint}")
        else:
            parts.append(f"{key}: {item['msg']}")
    return f"invalid settings {where}: " + "; ".join(parts)


def _str_or_none(path: Path | None) -> str | None:
    return str(path) if path is not None else None


@contextmanager
def _reading(config_file: Path | None) -> Iterator[None]:
    token = _config_file.set(config_file)
    try:
        yield
    finally:
        _config_file.reset(token)


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads the TOML (``.toml``) or YAML (``.yaml``/``.yml``) config file, if any."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        path = _config_file.get()
        if path is None and os.environ.get(CONFIG_ENV_VAR):
            path = Path(os.environ[CONFIG_ENV_VAR])
        return read_config_file(path) if path is not None else {}


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML config file into a mapping; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read config file: {exc.strerror}") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            from ruamel.yaml import YAML

            data = YAML(typ="safe", pure=True).load(text)
        else:
            raise ConfigFileError(f"{path}: config file must end in .toml, .yaml or .yml")
    except ConfigFileError:
        raise
    except Exception as exc:
        raise ConfigFileError(f"{path}: invalid {suffix[1:].upper()}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: config file must hold a mapping at the top level")
    return data

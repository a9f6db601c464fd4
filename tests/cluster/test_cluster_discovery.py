"""Discovery: which resource serves a kind, from the recorded discovery documents over HTTP."""

from __future__ import annotations

from driftwatch.cluster import Discovery, ReadOnlyClient, collection_path
from driftwatch.model import GroupKind, ResourceType
from tests.kubeapi import KubeApiServer


def test_core_grouped_and_custom_kinds_resolve_to_their_resources(client: ReadOnlyClient) -> None:
    discovery = Discovery(client)
    assert discovery.resolve(GroupKind("", "ConfigMap"), "v1") == ResourceType(
        "", "v1", "ConfigMap", "configmaps", True
    )
    assert discovery.resolve(GroupKind("", "Namespace")) == ResourceType(
        "", "v1", "Namespace", "namespaces", False
    )
    assert discovery.resolve(GroupKind("apps", "Deployment"), "apps/v1") == ResourceType(
        "apps", "v1", "Deployment", "deployments", True
    )
    assert discovery.resolve(GroupKind("rbac.authorization.k8s.io", "ClusterRole")) == ResourceType(
        "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False
    )
    assert discovery.resolve(GroupKind("example.com", "Widget"), "example.com/v1") == ResourceType(
        "example.com", "v1", "Widget", "widgets", True
    )


def test_the_declared_version_is_used_when_served(client: ReadOnlyClient) -> None:
    hpa = GroupKind("autoscaling", "HorizontalPodAutoscaler")
    resolved = Discovery(client).resolve(hpa, "autoscaling/v1")
    assert resolved is not None and resolved.version == "v1"


def test_an_unserved_declared_version_falls_back_to_the_preferred_one(
    client: ReadOnlyClient,
) -> None:
    discovery = Discovery(client)
    hpa = discovery.resolve(
        GroupKind("autoscaling", "HorizontalPodAutoscaler"), "autoscaling/v2beta2"
    )
    assert hpa is not None and hpa.version == "v2"  # the server's preferred version
    deploy = discovery.resolve(GroupKind("apps", "Deployment"), "apps/v1beta1")
    assert deploy is not None and deploy.api_version == "apps/v1"
    assert discovery.resolve(GroupKind("autoscaling", "HorizontalPodAutoscaler")) == hpa


def test_kinds_the_server_does_not_serve_resolve_to_none(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    discovery = Discovery(client)
    assert discovery.resolve(GroupKind("example.org", "Gadget")) is None
    assert discovery.resolve(GroupKind("apps", "Gadget")) is None
    # subresources are not kinds: Scale appears only as deployments/scale
    assert discovery.resolve(GroupKind("autoscaling", "Scale")) is None
    kube_api.hide_group("example.com")
    assert Discovery(client).resolve(GroupKind("example.com", "Widget")) is None


def test_each_discovery_document_is_read_once(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    discovery = Discovery(client)
    for _ in range(3):
        discovery.resolve(GroupKind("apps", "Deployment"))
        discovery.resolve(GroupKind("apps", "StatefulSet"))
    paths = [r.path for r in kube_api.requests]
    assert sorted(paths) == ["/api", "/apis", "/apis/apps/v1"]


def test_collection_paths() -> None:
    cm = ResourceType("", "v1", "ConfigMap", "configmaps", True)
    role = ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False)
    assert collection_path(cm) == "/api/v1/configmaps"
    assert collection_path(cm, "shop") == "/api/v1/namespaces/shop/configmaps"
    assert collection_path(role, "shop") == "/apis/rbac.authorization.k8s.io/v1/clusterroles"

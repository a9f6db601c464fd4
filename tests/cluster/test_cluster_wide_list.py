"""A type spread over many namespaces is read with one cluster-wide list, unless RBAC says no."""

from __future__ import annotations

from driftwatch.cluster import (
    ReadOnlyClient,
    RetryPolicy,
    SnapshotRequest,
    TypeRequest,
    take_snapshot,
)
from driftwatch.model import GroupKind, ReadState
from tests.kubeapi import KubeApiServer

CM = GroupKind("", "ConfigMap")
NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system", "shop")
WITHOUT_DEFAULT = ("empty", *NAMESPACES[1:])


def _configmap_lists(server: KubeApiServer) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith("/configmaps")]


def test_many_namespaces_are_listed_once_and_kept_to_the_targets(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.clear_requests()
    snap = take_snapshot(
        client,
        SnapshotRequest(types=(TypeRequest(CM, None, WITHOUT_DEFAULT),), openapi=False),
        retry=retry,
    )
    assert _configmap_lists(kube_api) == ["/api/v1/configmaps"]
    read = snap.types[CM]
    assert read.state is ReadState.COMPLETE and read.namespaces == WITHOUT_DEFAULT
    assert {k.namespace for k in snap.objects} <= set(WITHOUT_DEFAULT)
    assert "default" not in {k.namespace for k in snap.objects}
    assert any(k.namespace == "shop" for k in snap.objects)


def test_namespaced_rbac_falls_back_to_one_list_per_namespace(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.fail(r"^/api/v1/configmaps$", status=403, times=None)
    kube_api.clear_requests()
    snap = take_snapshot(
        client,
        SnapshotRequest(types=(TypeRequest(CM, None, NAMESPACES),), openapi=False),
        retry=retry,
    )
    assert snap.types[CM].state is ReadState.COMPLETE
    lists = _configmap_lists(kube_api)
    assert lists[0] == "/api/v1/configmaps"
    assert sorted(lists[1:]) == [f"/api/v1/namespaces/{ns}/configmaps" for ns in NAMESPACES]
    assert any(k.namespace == "shop" for k in snap.objects)

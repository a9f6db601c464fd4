"""take_snapshot over real HTTP with the real kubernetes client against the API test server."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from driftwatch.cluster import (
    ReadOnlyClient,
    RetryPolicy,
    SnapshotRequest,
    TypeRequest,
    connect,
    take_snapshot,
)
from driftwatch.errors import ClusterError
from driftwatch.model import GroupKind, ReadState, ResourceKey
from tests.kubeapi import KubeApiServer, load_scenario

CM = GroupKind("", "ConfigMap")
DEPLOY = GroupKind("apps", "Deployment")
ROLE = GroupKind("rbac.authorization.k8s.io", "Role")
CLUSTER_ROLE = GroupKind("rbac.authorization.k8s.io", "ClusterRole")
WIDGET = GroupKind("example.com", "Widget")


def recorded(kind: str, namespace: str | None = None) -> set[ResourceKey]:
    from driftwatch.model import key_of

    return {
        key_of(i)
        for i in load_scenario("shop/untouched-csa")
        if i["kind"] == kind and (namespace is None or i["metadata"].get("namespace") == namespace)
    }


def request(*types: TypeRequest, page_size: int = 500, openapi: bool = False) -> SnapshotRequest:
    return SnapshotRequest(types=types, page_size=page_size, openapi=openapi)


def test_snapshot_reads_core_grouped_and_custom_types_completely(
    client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    snap = take_snapshot(
        client,
        request(
            TypeRequest(CM),
            TypeRequest(DEPLOY, "apps/v1"),
            TypeRequest(CLUSTER_ROLE),
            TypeRequest(WIDGET),
        ),
        retry=retry,
    )
    assert {gk: r.state for gk, r in snap.types.items()} == dict.fromkeys(
        (CM, DEPLOY, CLUSTER_ROLE, WIDGET), ReadState.COMPLETE
    )
    assert {k for k in snap.objects if k.kind == "ConfigMap"} == recorded("ConfigMap")
    assert {k for k in snap.objects if k.kind == "ClusterRole"} == recorded("ClusterRole")
    assert len(recorded("ClusterRole")) == 73
    widget = snap.objects[ResourceKey("example.com", "Widget", "shop", "shop-widget")]
    assert widget["spec"]["size"] == 1
    deploy = snap.objects[ResourceKey("apps", "Deployment", "shop", "shop-api")]
    # list items come without apiVersion/kind from the server; the snapshot restores them
    assert (deploy["apiVersion"], deploy["kind"]) == ("apps/v1", "Deployment")
    assert deploy["metadata"]["managedFields"]
    assert snap.types[CM].resource_version == "2242"
    assert snap.server_version == "v1.36.2"
    assert snap.taken_at.endswith("Z")


def test_pagination_reads_every_page_with_a_small_page_size(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    snap = take_snapshot(client, request(TypeRequest(CLUSTER_ROLE), page_size=7), retry=retry)
    assert snap.types[CLUSTER_ROLE].state is ReadState.COMPLETE
    assert {k for k in snap.objects} == recorded("ClusterRole")
    pages = [r for r in kube_api.requests if r.path.endswith("/clusterroles")]
    assert len(pages) == 11  # 73 objects, 7 per page
    assert all(r.query["limit"] == "7" for r in pages)
    assert sum("continue" in r.query for r in pages) == 10


def test_namespace_scoping_keeps_only_the_requested_namespaces(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    snap = take_snapshot(
        client,
        request(
            TypeRequest(CM, namespaces=("shop", "kube-system")),
            TypeRequest(CLUSTER_ROLE, namespaces=("shop",)),
        ),
        retry=retry,
    )
    assert {k for k in snap.objects if k.kind == "ConfigMap"} == (
        recorded("ConfigMap", "shop") | recorded("ConfigMap", "kube-system")
    )
    assert snap.types[CM].namespaces == ("shop", "kube-system")
    assert snap.types[CM].covers("shop") and not snap.types[CM].covers("default")
    # a cluster-scoped kind is listed whole, whatever the namespaces asked
    assert snap.types[CLUSTER_ROLE].namespaces is None
    assert len([k for k in snap.objects if k.kind == "ClusterRole"]) == 73
    # two namespaces: one cluster-wide list (RBAC allows it), kept to the two
    paths = [r.path for r in kube_api.requests if "configmaps" in r.path]
    assert paths == ["/api/v1/configmaps"]


def test_a_single_namespace_is_listed_alone(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    snap = take_snapshot(client, request(TypeRequest(CM, namespaces=("shop",))), retry=retry)
    assert {k for k in snap.objects if k.kind == "ConfigMap"} == recorded("ConfigMap", "shop")
    paths = [r.path for r in kube_api.requests if "configmaps" in r.path]
    assert paths == ["/api/v1/namespaces/shop/configmaps"]


def test_label_selector_limits_an_unmanaged_only_kind_to_the_marker(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    marker = "app.kubernetes.io/part-of=shop"
    snap = take_snapshot(client, request(TypeRequest(CM, label_selector=marker)), retry=retry)
    names = {k.name for k in snap.objects}
    assert names == {"shop-config"}
    assert snap.types[CM].state is ReadState.COMPLETE
    assert all(
        r.query.get("labelSelector") == marker
        for r in kube_api.requests
        if r.path == "/api/v1/configmaps"
    )


def test_wanted_filters_objects_while_pages_stream(
    client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    seen: list[ResourceKey] = []

    def wanted(key: ResourceKey, metadata: Mapping[str, object]) -> bool:
        seen.append(key)
        return key.namespace == "shop"

    snap = take_snapshot(client, request(TypeRequest(CM), page_size=2), wanted=wanted, retry=retry)
    assert set(seen) == recorded("ConfigMap")
    assert set(snap.objects) == recorded("ConfigMap", "shop")
    assert snap.types[CM].state is ReadState.COMPLETE


def test_a_kind_the_cluster_does_not_serve_is_not_served(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.hide_group("example.com")  # the CRD is not installed
    snap = take_snapshot(
        client,
        request(
            TypeRequest(WIDGET, "example.com/v1"),
            TypeRequest(GroupKind("example.org", "Gadget")),
            TypeRequest(GroupKind("apps", "Gizmo")),
            TypeRequest(CM),
        ),
        retry=retry,
    )
    assert snap.types[WIDGET].state is ReadState.NOT_SERVED
    assert "Widget.example.com" in (snap.types[WIDGET].error or "")
    assert snap.types[GroupKind("example.org", "Gadget")].state is ReadState.NOT_SERVED
    assert snap.types[GroupKind("apps", "Gizmo")].state is ReadState.NOT_SERVED
    assert snap.types[CM].state is ReadState.COMPLETE
    assert not [r for r in kube_api.requests if "widgets" in r.path]


def test_a_type_failing_after_retries_is_failed_while_others_complete(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy, sleep: object
) -> None:
    fault = kube_api.fail(r"/deployments$", status=500, times=None)
    snap = take_snapshot(client, request(TypeRequest(DEPLOY), TypeRequest(CM)), retry=retry)
    failed = snap.types[DEPLOY]
    assert failed.state is ReadState.FAILED
    assert fault.hits == retry.attempts
    assert failed.error is not None
    assert "Deployment.apps" in failed.error and "HTTP 500" in failed.error
    assert "after 4 attempts" in failed.error and "Traceback" not in failed.error
    assert not [k for k in snap.objects if k.kind == "Deployment"]
    assert snap.types[CM].state is ReadState.COMPLETE
    assert client.request_counts()[("list", "500")] == 4


def test_forbidden_type_fails_at_once_with_a_clear_reason(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    fault = kube_api.fail(r"/roles$", status=403, times=None)
    snap = take_snapshot(client, request(TypeRequest(ROLE)), retry=retry)
    assert snap.types[ROLE].state is ReadState.FAILED
    assert fault.hits == 1
    assert "get/list/watch" in (snap.types[ROLE].error or "")


def test_429_is_retried_after_the_retry_after_the_server_asked_for(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy, sleep: object
) -> None:
    kube_api.throttle(r"/api/v1/configmaps$", retry_after=2, times=1)
    snap = take_snapshot(client, request(TypeRequest(CM)), retry=retry)
    assert snap.types[CM].state is ReadState.COMPLETE
    assert sleep.waits == [2.0]  # type: ignore[attr-defined]
    statuses = [r.status for r in kube_api.requests if r.path == "/api/v1/configmaps"]
    assert statuses == [429, 200]


def test_retry_after_is_capped(
    kube_api: KubeApiServer, client: ReadOnlyClient, sleep: object
) -> None:
    kube_api.throttle(r"/api/v1/configmaps$", retry_after=3600, times=1)
    policy = RetryPolicy(attempts=3, max_retry_after=0.05, sleep=sleep)  # type: ignore[arg-type]
    take_snapshot(client, request(TypeRequest(CM)), retry=policy)
    assert sleep.waits == [0.05]  # type: ignore[attr-defined]


def test_expired_continue_token_restarts_the_list_and_completes(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    fault = kube_api.expire_continue(r"/clusterroles$", times=1)
    snap = take_snapshot(client, request(TypeRequest(CLUSTER_ROLE), page_size=20), retry=retry)
    assert fault.hits == 1
    assert snap.types[CLUSTER_ROLE].state is ReadState.COMPLETE
    assert set(snap.objects) == recorded("ClusterRole")
    pages = [
        (r.status, "continue" in r.query)
        for r in kube_api.requests
        if r.path.endswith("/clusterroles")
    ]
    assert pages[:3] == [(200, False), (410, True), (200, False)]  # restarted from scratch


def test_a_compaction_mid_list_restarts_the_list(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    def compact_after_first_page(key: ResourceKey, metadata: Mapping[str, object]) -> bool:
        if not kube_api.store.compacted:  # writes happen, then etcd compacts
            cm = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
            kube_api.store.put(cm)  # type: ignore[arg-type]
            kube_api.store.compact()
        return True

    snap = take_snapshot(
        client,
        request(TypeRequest(CLUSTER_ROLE), page_size=30),
        wanted=compact_after_first_page,
        retry=retry,
    )
    assert snap.types[CLUSTER_ROLE].state is ReadState.COMPLETE
    assert set(snap.objects) == recorded("ClusterRole")
    assert 410 in [r.status for r in kube_api.requests]


def test_a_list_that_keeps_expiring_fails_after_bounded_restarts(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.expire_continue(r"/clusterroles$", times=None)
    snap = take_snapshot(
        client,
        SnapshotRequest(
            types=(TypeRequest(CLUSTER_ROLE),), page_size=20, openapi=False, max_list_restarts=2
        ),
        retry=retry,
    )
    assert snap.types[CLUSTER_ROLE].state is ReadState.FAILED
    assert "410" in (snap.types[CLUSTER_ROLE].error or "")
    assert not snap.objects


def test_connection_reset_mid_list_is_retried(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    fault = kube_api.reset(r"/clusterroles$", mid_body=True, skip=2)  # the third page
    snap = take_snapshot(client, request(TypeRequest(CLUSTER_ROLE), page_size=10), retry=retry)
    assert fault.hits == 1
    assert snap.types[CLUSTER_ROLE].state is ReadState.COMPLETE
    assert set(snap.objects) == recorded("ClusterRole")


def test_connection_closed_without_answer_is_retried(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    fault = kube_api.reset(r"/api/v1/configmaps$", mid_body=False, times=2)
    snap = take_snapshot(client, request(TypeRequest(CM)), retry=retry)
    assert fault.hits == 2
    assert snap.types[CM].state is ReadState.COMPLETE
    assert client.request_counts()[("list", "error")] == 2


def test_a_slow_answer_times_out_and_is_retried(
    kube_api: KubeApiServer, cluster_for: object, retry: RetryPolicy
) -> None:
    kube_api.delay(r"/api/v1/configmaps$", seconds=1.5, times=1)
    with connect(cluster_for(kube_api, timeout=0.3)) as ro:  # type: ignore[operator]
        snap = take_snapshot(ro, request(TypeRequest(CM)), retry=retry)
        assert ro.request_counts()[("list", "error")] == 1
    assert snap.types[CM].state is ReadState.COMPLETE


def test_server_down_then_back_completes(
    kube_api: KubeApiServer, client: ReadOnlyClient, sleep: object
) -> None:
    client.get("/version")  # a pooled keep-alive connection exists
    kube_api.go_down()
    sleep.hooks[3] = [kube_api.come_up]  # type: ignore[attr-defined]
    policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.02, sleep=sleep)  # type: ignore[arg-type]
    snap = take_snapshot(client, request(TypeRequest(CM)), retry=policy)
    assert snap.types[CM].state is ReadState.COMPLETE
    assert len(sleep.waits) == 3  # type: ignore[attr-defined]


def test_an_unreachable_cluster_is_a_cluster_error_without_traceback(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.go_down()
    with pytest.raises(ClusterError) as info:
        take_snapshot(client, request(TypeRequest(CM)), retry=retry)
    message = str(info.value)
    assert "cannot reach the cluster" in message and kube_api.url in message
    assert "Traceback" not in message and "driftwatch-test-token" not in message


def test_openapi_documents_of_the_group_versions_read_are_fetched(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    snap = take_snapshot(
        client, request(TypeRequest(DEPLOY), TypeRequest(WIDGET), openapi=True), retry=retry
    )
    assert set(snap.openapi) == {"apis/apps/v1", "apis/example.com/v1"}
    schemas = snap.openapi["apis/apps/v1"]["components"]["schemas"]
    assert "io.k8s.api.apps.v1.Deployment" in schemas
    assert any(r.query.get("hash") for r in kube_api.requests if r.path.startswith("/openapi/v3/"))


def test_openapi_failure_leaves_the_snapshot_complete(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    kube_api.fail(r"^/openapi/v3", status=503, times=None)
    snap = take_snapshot(client, request(TypeRequest(DEPLOY), openapi=True), retry=retry)
    assert snap.openapi == {}
    assert snap.types[DEPLOY].state is ReadState.COMPLETE


def test_request_counts_by_verb_and_code(client: ReadOnlyClient, retry: RetryPolicy) -> None:
    take_snapshot(client, request(TypeRequest(CM), TypeRequest(DEPLOY)), retry=retry)
    counts = client.request_counts()
    assert counts[("list", "200")] == 2
    assert counts[("get", "200")] >= 3  # version + discovery
    assert {verb for verb, _code in counts} <= {"get", "list", "watch"}


def test_served_object_changes_show_in_the_next_snapshot(
    kube_api: KubeApiServer, client: ReadOnlyClient, retry: RetryPolicy
) -> None:
    body = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    assert body is not None
    body["data"] = {"changed": "yes"}
    kube_api.store.put(body)
    kube_api.store.delete("apps", "Deployment", "shop", "shop-api")
    snap = take_snapshot(client, request(TypeRequest(CM), TypeRequest(DEPLOY)), retry=retry)
    assert snap.objects[ResourceKey("", "ConfigMap", "shop", "shop-config")]["data"] == {
        "changed": "yes"
    }
    assert ResourceKey("apps", "Deployment", "shop", "shop-api") not in snap.objects
    assert int(snap.types[CM].resource_version or 0) == 2244

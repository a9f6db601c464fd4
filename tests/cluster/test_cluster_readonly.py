"""driftwatch can only read: writes are refused before a request leaves the process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client as k8s

from driftwatch.cluster import ReadOnlyClient, api_client_for, connect
from driftwatch.config.model import Cluster
from driftwatch.errors import ClusterError, ReadOnlyViolation
from tests.kubeapi import KubeApiServer


def test_the_wrapper_has_no_write_verbs(kube_api: KubeApiServer, client: ReadOnlyClient) -> None:
    for name in (
        "delete",
        "patch",
        "create",
        "update",
        "replace",
        "apply",
        "delete_namespaced_config_map",
    ):
        with pytest.raises(ReadOnlyViolation):
            getattr(client, name)
    assert kube_api.writes() == []


def test_library_calls_past_the_wrapper_are_refused_before_sending(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    core = k8s.CoreV1Api(client.api_client)
    with pytest.raises(ReadOnlyViolation, match="DELETE"):
        core.delete_namespaced_config_map("shop-config", "shop")
    with pytest.raises(ReadOnlyViolation, match="PATCH"):
        core.patch_namespaced_config_map("shop-config", "shop", {"data": {"x": "y"}})
    with pytest.raises(ReadOnlyViolation, match="POST"):
        core.create_namespaced_config_map(
            "shop", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="x"))
        )
    with pytest.raises(ReadOnlyViolation):
        client.api_client.rest_client.request("PUT", kube_api.url + "/api/v1/namespaces/shop")
    with pytest.raises(ReadOnlyViolation):
        client.api_client.rest_client.pool_manager.request("DELETE", kube_api.url + "/api")
    # reads through the same library objects still work
    assert core.read_namespaced_config_map("shop-config", "shop").metadata.name == "shop-config"
    assert [r.method for r in kube_api.requests] == ["GET"]
    assert kube_api.writes() == []


def test_the_server_answers_writes_403_and_never_changes_objects(kube_api: KubeApiServer) -> None:
    kube_api.allow_writes = True  # this test writes on purpose, with a raw HTTP client
    before = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    req = urllib.request.Request(
        kube_api.url + "/api/v1/namespaces/shop/configmaps/shop-config",
        method="DELETE",
        headers={"Authorization": f"Bearer {kube_api.token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 403
    assert json.loads(info.value.read())["reason"] == "Forbidden"
    info.value.close()
    assert kube_api.store.get("", "ConfigMap", "shop", "shop-config") == before
    assert [(r.method, r.status) for r in kube_api.writes()] == [("DELETE", 403)]


def test_the_bearer_token_from_the_kubeconfig_is_sent(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    client.get("/version")
    assert kube_api.requests[-1].headers["authorization"] == f"Bearer {kube_api.token}"


def test_a_wrong_token_is_a_clear_401(kube_api: KubeApiServer, tmp_path: Path) -> None:
    from tests.kubeapi.fixtures import kubeconfig_for

    path = kubeconfig_for(kube_api, tmp_path / "kc", token="wrong-token-value")
    with (
        connect(Cluster(name="x", kubeconfig=str(path))) as ro,
        pytest.raises(ClusterError) as info,
    ):
        ro.get("/api/v1/namespaces/kube-system/secrets")
    assert "401" in str(info.value) and "wrong-token-value" not in str(info.value)


def test_a_missing_kubeconfig_is_a_cluster_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope"
    with pytest.raises(ClusterError, match=str(path)):
        api_client_for(Cluster(name="x", kubeconfig=str(path)))


def test_a_broken_kubeconfig_never_echoes_its_credentials(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    path.write_text("users:\n- name: u\n  user: {token: sup3r-s3cret-t0ken\n")
    with pytest.raises(ClusterError) as info:
        api_client_for(Cluster(name="x", kubeconfig=str(path)))
    assert str(path) in str(info.value) and "sup3r-s3cret-t0ken" not in str(info.value)


def test_an_unknown_context_is_a_cluster_error(kubeconfig: Path) -> None:
    with pytest.raises(ClusterError, match="no-such-context"):
        api_client_for(Cluster(name="x", kubeconfig=str(kubeconfig), context="no-such-context"))


def test_in_cluster_without_a_service_account_is_a_cluster_error() -> None:
    with pytest.raises(ClusterError, match="in-cluster"):
        api_client_for(Cluster(name="x", in_cluster=True))


def test_the_no_write_check_fails_a_test_whose_server_saw_a_write(kube_api: KubeApiServer) -> None:
    from tests.kubeapi.fixtures import assert_no_writes

    req = urllib.request.Request(
        kube_api.url + "/api/v1/namespaces/shop",
        method="PATCH",
        data=b"{}",
        headers={"Authorization": f"Bearer {kube_api.token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    info.value.close()
    with pytest.raises(pytest.fail.Exception, match="PATCH /api/v1/namespaces/shop"):
        assert_no_writes(kube_api)
    kube_api.allow_writes = True  # let the fixture's own teardown check pass

"""The API test server answers like the recorded kube-apiserver (raw HTTP, no driftwatch code)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer, Store, synthetic_config_maps
from tests.kubeapi.recordings import read_json


def get(server: KubeApiServer, path: str, token: str | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        server.url + path, headers={"Authorization": f"Bearer {token or server.token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            status, data, ctype = resp.status, resp.read(), resp.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        status, data, ctype = e.code, e.read(), e.headers["Content-Type"]
        e.close()
    return status, json.loads(data) if ctype == "application/json" else data.decode()


def recorded(name: str) -> tuple[int, Any]:
    doc = read_json(f"protocol/{name}.json")
    return doc["status"], doc["body"]


def test_error_answers_match_the_recordings(kube_api: KubeApiServer) -> None:
    status, body = get(kube_api, "/api/v1/namespaces/shop/configmaps/does-not-exist")
    rec_status, rec_body = recorded("get-404")
    assert status == rec_status and body == rec_body
    assert get(kube_api, "/apis/example.invalid/v1/widgets") == recorded("list-unknown-group-404")
    status, body = get(
        kube_api, "/api/v1/namespaces/shop/configmaps?limit=1&continue=not-a-valid-token"
    )
    rec_status, rec_body = recorded("list-bad-continue-400")
    assert status == rec_status and body["reason"] == rec_body["reason"]
    assert body["message"].startswith("invalid continue token")
    assert get(kube_api, "/api/v1/namespaces/kube-system/secrets", token="bad") == recorded(
        "unauthorized-401"
    )


def test_pages_carry_continue_remaining_count_and_resource_version(kube_api: KubeApiServer) -> None:
    store = kube_api.store
    store.seed(synthetic_config_maps(6, ("proto",)))
    status, page1 = get(kube_api, "/api/v1/namespaces/proto/configmaps?limit=2")
    _, recorded_page = recorded("list-page-1")
    assert status == 200 and page1["kind"] == recorded_page["kind"] == "ConfigMapList"
    assert set(page1["metadata"]) == set(recorded_page["metadata"])
    assert page1["metadata"]["remainingItemCount"] == 4
    assert set(page1["items"][0]) == set(recorded_page["items"][0])  # no apiVersion/kind in items
    _, page2 = get(
        kube_api,
        f"/api/v1/namespaces/proto/configmaps?limit=2&continue={page1['metadata']['continue']}",
    )
    assert page2["metadata"]["remainingItemCount"] == 2
    assert page2["metadata"]["resourceVersion"] == page1["metadata"]["resourceVersion"]
    names = [i["metadata"]["name"] for i in page1["items"] + page2["items"]]
    assert names == sorted(names) and len(set(names)) == 4


def test_an_expired_continue_token_is_410_with_a_fresh_token(kube_api: KubeApiServer) -> None:
    _, page1 = get(kube_api, "/api/v1/configmaps?limit=2")
    cm = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    kube_api.store.put(cm)  # type: ignore[arg-type]
    kube_api.store.compact()
    status, body = get(
        kube_api, f"/api/v1/configmaps?limit=2&continue={page1['metadata']['continue']}"
    )
    rec_status, rec_body = recorded("list-continue-expired-410")
    assert status == rec_status == 410
    assert {k: body[k] for k in ("reason", "message", "code")} == {
        k: rec_body[k] for k in ("reason", "message", "code")
    }
    assert body["metadata"]["continue"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app.kubernetes.io/part-of=shop", {"shop-config"}),
        ("app.kubernetes.io/part-of==shop", {"shop-config"}),
        ("app.kubernetes.io/part-of!=shop", {"kube-root-ca.crt"}),
        ("app.kubernetes.io/part-of in (shop,other)", {"shop-config"}),
        ("app.kubernetes.io/part-of notin (shop)", {"kube-root-ca.crt"}),
        ("app.kubernetes.io/part-of", {"shop-config"}),
        ("!app.kubernetes.io/part-of", {"kube-root-ca.crt"}),
        ("app.kubernetes.io/part-of,nope=nope", set()),
    ],
)
def test_label_selectors(kube_api: KubeApiServer, selector: str, expected: set[str]) -> None:
    from urllib.parse import quote

    status, body = get(
        kube_api, f"/api/v1/namespaces/shop/configmaps?labelSelector={quote(selector)}"
    )
    assert status == 200
    assert {i["metadata"]["name"] for i in body["items"]} == expected
    assert "remainingItemCount" not in body["metadata"]


def test_field_selectors_and_bad_selectors(kube_api: KubeApiServer) -> None:
    _, body = get(
        kube_api,
        "/api/v1/configmaps?fieldSelector=metadata.namespace%3Dshop,metadata.name!%3Dkube-root-ca.crt",
    )
    assert [i["metadata"]["name"] for i in body["items"]] == ["shop-config"]
    status, body = get(kube_api, "/api/v1/configmaps?fieldSelector=spec.x%3D1")
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = get(kube_api, "/api/v1/configmaps?labelSelector=%3D%3Dbad")
    assert status == 400


def test_discovery_version_and_openapi_are_the_recordings(kube_api: KubeApiServer) -> None:
    assert get(kube_api, "/version")[1] == read_json("version.json")
    assert get(kube_api, "/apis/apps/v1")[1] == read_json("discovery/apis/apps/v1.json")
    index = get(kube_api, "/openapi/v3")[1]
    assert "apis/example.com/v1" in index["paths"]
    kube_api.hide_group("example.com")
    assert "apis/example.com/v1" not in get(kube_api, "/openapi/v3")[1]["paths"]
    assert "example.com" not in {g["name"] for g in get(kube_api, "/apis")[1]["groups"]}
    assert get(kube_api, "/apis/example.com/v1/widgets")[0] == 404


def test_an_object_is_served_at_another_version_of_its_group(kube_api: KubeApiServer) -> None:
    status, hpa = get(
        kube_api, "/apis/autoscaling/v1/namespaces/shop/horizontalpodautoscalers/shop-api"
    )
    assert status == 200 and hpa["apiVersion"] == "autoscaling/v1"


def test_every_request_is_recorded(kube_api: KubeApiServer) -> None:
    get(kube_api, "/api/v1/configmaps?limit=1")
    assert [(r.method, r.path, r.query, r.status) for r in kube_api.requests] == [
        ("GET", "/api/v1/configmaps", {"limit": "1"}, 200)
    ]


@pytest.mark.slow
def test_fifty_thousand_objects_are_snapshotted_through_the_real_client(
    kube_api_factory: Any, tmp_path: Any
) -> None:
    from driftwatch.cluster import SnapshotRequest, TypeRequest, connect, take_snapshot
    from driftwatch.config.model import Cluster
    from driftwatch.model import GroupKind, ReadState
    from tests.kubeapi.fixtures import kubeconfig_for

    store = Store()
    store.seed(synthetic_config_maps(50_000, ("a", "b", "c")))
    server = kube_api_factory(store=store)
    cluster = Cluster(name="bench", kubeconfig=str(kubeconfig_for(server, tmp_path / "kc")))
    cm = GroupKind("", "ConfigMap")
    with connect(cluster) as client:
        snap = take_snapshot(client, SnapshotRequest(types=(TypeRequest(cm),), openapi=False))
        assert client.request_counts()[("list", "200")] == 100  # 500 per page
    assert snap.types[cm].state is ReadState.COMPLETE
    assert len(snap.objects) == 50_000

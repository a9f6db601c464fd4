"""Watch streams over HTTP: changes in order, bookmarks, and the 410 ERROR event."""

from __future__ import annotations

import threading

from driftwatch.cluster import ReadOnlyClient
from tests.kubeapi import KubeApiServer
from tests.kubeapi.recordings import read_json

CMS = "/api/v1/namespaces/shop/configmaps"


def test_watch_delivers_added_modified_deleted_in_order(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    listed = client.list(CMS)
    rv = listed["metadata"]["resourceVersion"]
    base = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    assert base is not None
    new = {**base, "metadata": {**base["metadata"], "name": "cm-new", "uid": "u-new"}}

    def change() -> None:
        kube_api.store.put(new)
        kube_api.store.put({**new, "data": {"a": "b"}})
        kube_api.store.delete("", "ConfigMap", "shop", "cm-new")

    events = client.watch(CMS, {"resourceVersion": rv}, timeout_seconds=10)
    threading.Timer(0.05, change).start()
    seen = []
    for event in events:
        seen.append(event)
        if event["type"] == "DELETED":
            events.close()  # type: ignore[attr-defined]
            break
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in seen] == [
        ("ADDED", "cm-new"),
        ("MODIFIED", "cm-new"),
        ("DELETED", "cm-new"),
    ]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in seen]
    assert versions == sorted(versions) and versions[0] > int(rv)
    assert seen[1]["object"]["data"] == {"a": "b"}
    assert all(e["object"]["kind"] == "ConfigMap" for e in seen)
    assert client.request_counts()[("watch", "200")] == 1


def test_watch_without_resource_version_starts_with_the_current_objects(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    events = list(
        client.watch(CMS, {"labelSelector": "app.kubernetes.io/part-of=shop"}, timeout_seconds=1)
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "shop-config")
    ]


def test_watch_sends_bookmarks_when_allowed(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    kube_api.bookmark_interval = 0.05
    rv = client.list(CMS)["metadata"]["resourceVersion"]
    stream = client.watch(
        CMS, {"resourceVersion": rv, "allowWatchBookmarks": True}, timeout_seconds=5
    )
    event = next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert event["type"] == "BOOKMARK"
    assert event["object"]["metadata"]["resourceVersion"] == rv
    recorded = read_json("protocol/watch-changes.json")["lines"][-1]
    assert recorded["type"] == "BOOKMARK"
    assert event["object"]["kind"] == recorded["object"]["kind"]
    assert set(event["object"]) == set(recorded["object"])


def test_watch_from_a_compacted_version_answers_200_and_one_410_error_event(
    kube_api: KubeApiServer, client: ReadOnlyClient
) -> None:
    rv = client.list(CMS)["metadata"]["resourceVersion"]
    body = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    kube_api.store.put(body)  # type: ignore[arg-type]
    kube_api.store.compact()
    events = list(client.watch(CMS, {"resourceVersion": rv}, timeout_seconds=3))
    recorded = read_json("protocol/watch-too-old-410.json")
    assert len(events) == len(recorded["lines"]) == 1
    assert events[0]["type"] == "ERROR"
    status, expected = events[0]["object"], recorded["lines"][0]["object"]
    assert {k: status[k] for k in ("kind", "code", "reason", "status")} == {
        k: expected[k] for k in ("kind", "code", "reason", "status")
    }
    assert status["message"].startswith(f"too old resource version: {rv} (")
    assert [r.status for r in kube_api.requests if r.query.get("watch")] == [200]

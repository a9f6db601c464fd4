"""Watch mode finds drift between scheduled runs: changes, deletions, strays, Secrets.

The schedule is an hour, so after the start-up run only the watch can notice
anything; the test server's request log proves no list (a full run or a
re-list) happened meanwhile.
"""

from __future__ import annotations

import base64

from tests.cli.test_incomplete_inputs import corrupt_config_file
from tests.kubeapi import KubeApiServer
from tests.watch.conftest import StartWatched
from tests.watch.helpers import case_only, eventually, metric, put_case


def lists(server: KubeApiServer) -> int:
    """GETs that were not watches (lists, gets, discovery: a full run or a re-list)."""
    return sum(1 for r in server.requests if "watch" not in r.query)


def test_a_changed_object_is_reported_and_recorded_without_a_scheduled_run(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()
    assert svc.state_of("Deployment", "shop-api") == "in_sync"
    before = lists(kube_api)

    put_case(kube_api, "scale", "Deployment", "shop-api")

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")
    assert ("drift.detected", "shop/apps/Deployment/shop/shop-api") in svc.events()
    assert lists(kube_api) == before  # no full run, no re-list: the watch alone
    text = svc.metrics()
    assert metric(text, "driftwatch_watch_events_total", target="shop", type="MODIFIED") >= 1
    assert metric(text, "driftwatch_resource_drift", name="shop-api") == 1
    # decided for the watched change too: a hand edit, not a pending deploy
    assert metric(text, "driftwatch_resource_drift", name="shop-api", direction="cluster") == 1
    assert metric(text, "driftwatch_kubernetes_api_requests_total", verb="watch") >= 1
    watches = [r for r in kube_api.requests if "watch" in r.query]
    assert watches and all(
        r.method == "GET"
        and r.query["allowWatchBookmarks"] == "true"
        and int(r.query["timeoutSeconds"]) > 0
        and r.query["resourceVersion"]
        for r in watches
    )
    assert kube_api.writes() == []

    # the next full run agrees with what the watch kept: no mismatch, no new event
    events = svc.events()
    assert svc.service.run_target("shop")
    assert metric(svc.metrics(), "driftwatch_watch_mismatches_total") == 0
    assert svc.events() == events


def test_a_deleted_object_is_reported_missing_through_the_watch(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()
    before = lists(kube_api)

    kube_api.store.delete("", "ConfigMap", "shop", "shop-config")

    eventually(lambda: svc.state_of("ConfigMap", "shop-config") == "missing", "the deletion")
    assert ("resource.missing", "shop//ConfigMap/shop/shop-config") in svc.events()
    assert lists(kube_api) == before


def test_a_stray_object_with_the_marker_is_reported_unmanaged_through_the_watch(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()
    (stray,) = case_only("stray")
    before = lists(kube_api)

    kube_api.store.put(stray)

    name = stray["metadata"]["name"]
    eventually(lambda: svc.state_of("ConfigMap", name) == "unmanaged", "the stray object")
    assert ("resource.unmanaged", f"shop//ConfigMap/shop/{name}") in svc.events()
    assert lists(kube_api) == before


def test_an_unchanged_verdict_writes_no_event(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()
    runs = svc.runs()
    events = svc.events()
    body = kube_api.store.get("", "ConfigMap", "shop", "shop-config")
    assert body is not None

    kube_api.store.put(body)  # a new resourceVersion, the same content

    eventually(
        lambda: metric(svc.metrics(), "driftwatch_watch_events_total", type="MODIFIED") >= 1,
        "the watch event",
    )
    eventually(lambda: svc.service.watch.target_watch("shop").pending == 0, "the update")  # type: ignore[union-attr]
    assert svc.events() == events
    assert svc.runs() == runs


def test_a_secret_change_is_detected_and_its_values_never_leave_the_watch(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()

    put_case(kube_api, "secret-change", "Secret", "shop-db")

    eventually(lambda: svc.state_of("Secret", "shop-db") == "modified", "the Secret drift")
    shown = svc.get("/api/v1/drift?all=1")[1].decode() + str(svc.events())
    for secret in ("s3cr3t-Shop-Pa55", "n3w-Leaked-Pa55"):
        assert secret not in shown
        assert base64.b64encode(secret.encode()).decode() not in shown
    assert "hmac-sha256:" in shown
    watch = svc.service.watch.target_watch("shop")
    assert watch is not None
    assert watch.updates >= 1


def test_while_a_git_file_is_unreadable_a_watched_stray_object_is_unknown_not_unmanaged(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api, unmanagedKinds=["ConfigMap", "Secret"])
    corrupt_config_file(svc.repo)
    assert svc.service.run_target("shop")  # a full run: partial, 10-config.yaml unreadable
    svc.wait_watching()
    (stray,) = case_only("stray")
    name = stray["metadata"]["name"]

    kube_api.store.put(stray)

    eventually(lambda: svc.state_of("ConfigMap", name) == "unknown", "the stray object")
    (entry,) = svc.json("/api/v1/drift?all=1")["targets"]
    [seen] = [o for o in entry["report"]["objects"] if o["name"] == name]
    assert "10-config.yaml" in seen["reason"]
    assert not [e for e in svc.events() if e[0] == "resource.unmanaged"]

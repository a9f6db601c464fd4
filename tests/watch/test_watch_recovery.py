"""Watch mode rides out what real watches meet: 410 Gone, dropped connections, server
timeouts, bookmarks, and a watch that misses changes (counted at the next full run).
"""

from __future__ import annotations

from tests.kubeapi import KubeApiServer
from tests.watch.conftest import StartWatched
from tests.watch.helpers import WatchedService, eventually, metric, put_case

DEPLOYMENTS = "/apis/apps/v1/deployments"  # one shared watch per type, across namespaces


def watch_requests(server: KubeApiServer, path: str = DEPLOYMENTS) -> int:
    return sum(1 for r in server.requests if r.path == path and "watch" in r.query)


def relists(server: KubeApiServer, path: str = DEPLOYMENTS) -> int:
    return sum(1 for r in server.requests if r.path == path and "watch" not in r.query)


def broken(svc: WatchedService) -> bool:
    watch = svc.service.watch.target_watch("shop")
    return watch is not None and not watch.healthy


def test_a_too_old_resource_version_is_listed_again_and_the_change_found(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    kube_api.max_watch_seconds = 0.5  # streams end often, so the watch must resume
    svc = watched(kube_api)
    svc.wait_watching()
    kube_api.go_down()
    eventually(lambda: broken(svc), "the watches to lose the server")
    put_case(kube_api, "scale", "Deployment", "shop-api")
    kube_api.store.compact()  # the version the watch holds is now too old
    lists_before = relists(kube_api)

    kube_api.come_up()

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")
    assert relists(kube_api) > lists_before  # found by listing that type again
    assert metric(svc.metrics(), "driftwatch_watch_events_total", type="ERROR") >= 1
    assert ("drift.detected", "shop/apps/Deployment/shop/shop-api") in svc.events()


def test_a_dropped_connection_resumes_from_the_last_version_and_misses_nothing(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    kube_api.max_watch_seconds = 0.5
    svc = watched(kube_api)
    svc.wait_watching()
    kube_api.go_down()
    eventually(lambda: broken(svc), "the watches to lose the server")
    put_case(kube_api, "scale", "Deployment", "shop-api")
    lists_before = relists(kube_api)

    kube_api.come_up()

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")
    assert relists(kube_api) == lists_before  # resumed, not listed again
    svc.wait_watching()


def test_watches_reset_at_connect_are_retried_until_they_open(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    fault = kube_api.reset(DEPLOYMENTS + "$", mid_body=False, times=3, query={"watch": None})
    svc = watched(kube_api)
    svc.wait_watching()
    assert fault.hits == 3

    put_case(kube_api, "scale", "Deployment", "shop-api")

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")


def test_a_watch_ended_by_the_server_timeout_is_resumed(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    kube_api.max_watch_seconds = 0.2
    svc = watched(kube_api)
    svc.wait_watching()
    eventually(lambda: watch_requests(kube_api) >= 3, "the watch to be resumed")

    put_case(kube_api, "scale", "Deployment", "shop-api")

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")
    assert relists(kube_api) == 1  # only the full run listed: every resume went on watching


def test_bookmarks_keep_the_resume_point_fresh_so_a_compaction_needs_no_re_list(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    kube_api.bookmark_interval = 0.05
    kube_api.max_watch_seconds = 0.3  # every watch resumes often, also after the compaction
    svc = watched(kube_api)
    svc.wait_watching()
    # an unrelated change moves the cluster's version past every watch's start
    kube_api.store.put(kube_api.store.get("", "Namespace", "", "shop"))  # type: ignore[arg-type]
    current = str(kube_api.store.resource_version)
    watch = svc.service.watch.target_watch("shop")
    assert watch is not None
    eventually(
        lambda: set(watch.resource_versions()) == {current}, "bookmarks to reach every watch"
    )
    assert metric(svc.metrics(), "driftwatch_watch_events_total", type="BOOKMARK") >= 1

    kube_api.store.compact()
    requests = watch_requests(kube_api)
    eventually(lambda: watch_requests(kube_api) >= requests + 2, "the watches to resume")
    put_case(kube_api, "scale", "Deployment", "shop-api")

    eventually(lambda: svc.state_of("Deployment", "shop-api") == "modified", "the drift")
    assert metric(svc.metrics(), "driftwatch_watch_events_total", type="ERROR") == 0
    assert relists(kube_api) == 1


def test_a_change_the_watch_missed_is_counted_as_a_mismatch_at_the_next_full_run(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    kube_api.reset(DEPLOYMENTS + "$", mid_body=False, times=None, query={"watch": None})
    svc = watched(kube_api)
    put_case(kube_api, "scale", "Deployment", "shop-api")  # the deployments watch never opens
    assert svc.state_of("Deployment", "shop-api") == "in_sync"

    assert svc.service.run_target("shop")  # the full run: the safety net

    assert svc.state_of("Deployment", "shop-api") == "modified"
    assert metric(svc.metrics(), "driftwatch_watch_mismatches_total", target="shop") == 1
    assert ("drift.detected", "shop/apps/Deployment/shop/shop-api") in svc.events()

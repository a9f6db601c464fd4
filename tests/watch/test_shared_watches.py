"""Shared watches: one per (cluster, type) whatever the number of targets, health per watch.

A service with several watching targets on one cluster (slices of the recorded shop
manifests) against the Kubernetes API test server: the server's request log counts
the watch connections, the metrics and ``/readyz`` show each watch's health.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from driftwatch.config.model import Config
from driftwatch.model import GroupKind
from driftwatch.service import Service, ServiceOptions, pipeline_factory
from driftwatch.service.shared_watch import SharedWatch
from driftwatch.sinks.tracing import NOOP_TRACER
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.service.helpers import http_get, wait_for
from tests.watch.helpers import (
    FAST,
    SLICES,
    eventually,
    metric,
    put_case,
    sliced_config,
    sliced_repo,
)

DEPLOYMENTS = GroupKind("apps", "Deployment")


class SlicedService:
    """``serve`` in-process with one watching target per shop slice."""

    def __init__(self, server: KubeApiServer, tmp: Path, names: list[str]) -> None:
        repo = sliced_repo(tmp / "gitops")
        kubeconfig = kubeconfig_for(server, tmp / "kubeconfig")
        config = Config.model_validate(sliced_config(repo, kubeconfig, names, watch=True))
        self.names = names
        self.service = Service(
            config,
            runner_factory=pipeline_factory(
                state_dir=tmp / "state", cache_dir=tmp / "cache", tracer=NOOP_TRACER
            ),
            options=ServiceOptions(listen="127.0.0.1:0", grace_period=30, watch_mode=FAST),
        )
        self.service.start()
        host, port = self.service.http.address
        self.base = f"http://{host}:{port}"
        wait_for(self.watching, timeout=90, what="every target to watch")

    def watching(self) -> bool:
        for name in self.names:
            watch = self.service.watch.target_watch(name)
            if watch is None or not watch.healthy:
                return False
        return True

    def metrics(self) -> str:
        return http_get(self.base, "/metrics")[2].decode()

    def readyz(self) -> dict[str, Any]:
        status, _, body = http_get(self.base, "/readyz")
        assert status == 200
        return dict(json.loads(body))

    def state_of(self, target: str, kind: str, name: str) -> str | None:
        st = self.service.state.get(target)
        report = st.report_run.report if st.report_run is not None else None
        assert report is not None
        for obj in report.objects:
            if obj.key.kind == kind and obj.key.name == name:
                return obj.state.value
        return None

    def shared(self, group_kind: GroupKind) -> SharedWatch:
        (watch,) = [
            w for w in self.service.watch.shared.watches() if w.key.group_kind == group_kind
        ]
        return watch

    def stop(self) -> None:
        self.service.stop(grace_period=30)


def _open_watches(server: KubeApiServer) -> set[str]:
    return {r.path for r in server.requests if "watch" in r.query}


def _watch_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("driftwatch-watch-test-")]


def test_watch_connections_are_the_watched_types_whatever_the_number_of_targets(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    kube_api.max_watch_seconds = 600  # one request per watch for the whole test
    svc = SlicedService(kube_api, tmp_path, list(SLICES))
    try:
        watched = {w.key.group_kind for w in svc.service.watch.shared.watches()}
        subscriptions = sum(
            svc.service.watch.target_watch(name).watching  # type: ignore[union-attr]
            for name in svc.names
        )
        assert subscriptions > len(watched)  # several targets share each watch
        paths = _open_watches(kube_api)
        assert len(paths) == len(watched)  # one connection per type ...
        assert all("/namespaces/" not in p for p in paths)  # ... across namespaces
        assert len(_watch_threads()) == len(watched)

        put_case(kube_api, "scale", "Deployment", "shop-api")

        for name in ("all", "api"):  # every target declaring it sees it, from one event
            eventually(
                lambda n=name: svc.state_of(n, "Deployment", "shop-api") == "modified",
                f"the drift in {name}",
            )
        assert _open_watches(kube_api) == paths
        assert metric(svc.metrics(), "driftwatch_watch_up", kind="Deployment") == 1
        rows = svc.readyz()["watches"]
        assert {(r["group"], r["kind"]) for r in rows} == {(g.group, g.kind) for g in watched}
        assert all(r["up"] for r in rows)
    finally:
        svc.stop()
    assert _watch_threads() == []


def test_a_watch_thread_that_dies_is_restarted_and_its_health_goes_0_then_1(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    svc = SlicedService(kube_api, tmp_path, ["all", "api"])
    try:
        shared = svc.service.watch.shared
        shared._interval = 2.0  # the supervisor looks every 2 s: time to see it down
        watch = svc.shared(DEPLOYMENTS)
        original = SharedWatch.changed
        died = threading.Event()

        def dies_once(self: SharedWatch, *args: Any) -> None:
            if self is watch and not died.is_set():
                died.set()
                raise RuntimeError("injected: a bug nobody foresaw ends the watch thread")
            original(self, *args)

        SharedWatch.changed = dies_once  # type: ignore[method-assign]
        try:
            put_case(kube_api, "scale", "Deployment", "shop-api")
            eventually(died.is_set, "the watch thread to die")
            eventually(
                lambda: metric(svc.metrics(), "driftwatch_watch_up", kind="Deployment") == 0,
                "the watch to show down",
            )
            ready = svc.readyz()
            assert ready["watches_down"] == 1
            assert not svc.service.watch.target_watch("api").healthy  # type: ignore[union-attr]
        finally:
            SharedWatch.changed = original  # type: ignore[method-assign]

        eventually(
            lambda: metric(svc.metrics(), "driftwatch_watch_up", kind="Deployment") == 1,
            "the watch to be restarted",
        )
        text = svc.metrics()
        assert metric(text, "driftwatch_watch_restarts_total", kind="Deployment") == 1
        # the event the dead thread dropped is delivered again from the last version
        for name in ("all", "api"):
            eventually(
                lambda n=name: svc.state_of(n, "Deployment", "shop-api") == "modified",
                f"the drift in {name}",
            )
    finally:
        svc.stop()


def test_watch_updates_are_not_runs_and_do_not_move_the_git_fetch_time(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    svc = SlicedService(kube_api, tmp_path, ["api"])
    try:
        before = svc.metrics()
        runs = metric(before, "driftwatch_runs_total", target="api")
        fetched = metric(before, "driftwatch_git_last_fetch_success_timestamp_seconds")
        observed = metric(before, "driftwatch_run_duration_seconds_count", stage="compare")
        time.sleep(1.1)  # a moved timestamp would show

        put_case(kube_api, "scale", "Deployment", "shop-api")
        eventually(lambda: svc.state_of("api", "Deployment", "shop-api") == "modified", "drift")
        eventually(
            lambda: metric(svc.metrics(), "driftwatch_resource_drift", name="shop-api") == 1,
            "the drift in the metrics",
        )

        after = svc.metrics()
        assert runs == 1
        assert metric(after, "driftwatch_runs_total", target="api") == runs
        assert metric(after, "driftwatch_run_duration_seconds_count", stage="compare") == observed
        assert metric(after, "driftwatch_git_last_fetch_success_timestamp_seconds") == fetched
    finally:
        svc.stop()

"""``serve`` under cluster faults: retried when a retry helps, unknown (never missing) when not.

Each case runs the in-process service (real pipeline, real audit log, real HTTP)
against the Kubernetes API test server seeded with the recorded ``shop/scale``
case (the Deployment ``shop-api`` is drifted: a known drift episode is open).
A good run, then a run with the fault, then a good run again — and after each,
what a user sees: /api/v1/targets, /api/v1/drift, /metrics, /readyz and the
audit events.  No drift may be raised or resolved while a type is unknown, and
the service recovers on the next run without a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kubeapi import Fault, KubeApiServer
from tests.reliability.conftest import LiveFactory
from tests.reliability.helpers import metric, object_events
from tests.reliability.live_service import LiveService

pytestmark = pytest.mark.usefixtures("fast_retries")

Install = Callable[[KubeApiServer], Fault]


@dataclass(frozen=True)
class Case:
    """A fault, what it becomes, and the request code it leaves in the metrics."""

    install: Install
    unknown_kind: str | None
    """The kind left unknown by the fault (None: the retries absorb it)."""
    code: str | None
    """A ``code`` label of driftwatch_kubernetes_api_requests_total the fault must show."""


DEPLOYMENTS = r"/apis/apps/v1/namespaces/shop/deployments$"
CONFIGMAPS = r"/api/v1/namespaces/shop/configmaps$"

CASES = {
    "500-once": Case(lambda s: s.fail(DEPLOYMENTS, 500, times=2), None, "500"),
    "500-always": Case(lambda s: s.fail(DEPLOYMENTS, 500, times=None), "Deployment", "500"),
    "503-always": Case(lambda s: s.fail(DEPLOYMENTS, 503, times=None), "Deployment", "503"),
    "429-retry-after": Case(lambda s: s.throttle(DEPLOYMENTS, retry_after=1), None, "429"),
    "429-always": Case(
        lambda s: s.add_fault("status", DEPLOYMENTS, status=429, retry_after=0, times=None),
        "Deployment",
        "429",
    ),
    "slow-once": Case(lambda s: s.delay(DEPLOYMENTS, 3.0, times=1), None, "error"),
    "slow-always": Case(lambda s: s.delay(DEPLOYMENTS, 3.0, times=None), "Deployment", "error"),
    "reset-between-pages": Case(
        lambda s: s.reset(CONFIGMAPS, mid_body=False, query={"continue": None}), None, "error"
    ),
    "reset-mid-page": Case(lambda s: s.reset(CONFIGMAPS, query={"continue": None}), None, None),
    "reset-always": Case(
        lambda s: s.reset(CONFIGMAPS, mid_body=False, times=None, query={"continue": None}),
        "ConfigMap",
        "error",
    ),
    "410-continue-once": Case(lambda s: s.expire_continue(CONFIGMAPS), None, "410"),
    "410-continue-always": Case(
        lambda s: s.expire_continue(CONFIGMAPS, times=None), "ConfigMap", "410"
    ),
}


def _shop_api(service: LiveService) -> dict[str, object]:
    report = service.drift_report()["report"]
    return next(
        o for o in report["objects"] if (o["kind"], o["name"]) == ("Deployment", "shop-api")
    )


@pytest.fixture
def shop(
    kube_api_factory: Callable[..., KubeApiServer], live_service: LiveFactory, shop_git: Path
) -> tuple[KubeApiServer, LiveService]:
    server = kube_api_factory("shop/scale")
    # page size 1: every list is paginated; a 1 s timeout makes a 3 s answer a timeout
    service = live_service(server, shop_git, timeout="1s", page_size=1)
    first = service.target_json()["last_run"]
    assert first["status"] == "success", first
    assert _shop_api(service)["state"] == "modified"
    return server, service


@pytest.mark.parametrize("name", sorted(CASES))
def test_cluster_fault_is_retried_or_left_unknown_and_the_next_run_recovers(
    shop: tuple[KubeApiServer, LiveService], name: str
) -> None:
    server, service = shop
    case = CASES[name]
    before_events = service.events()
    assert ("drift.detected", "shop/apps/Deployment/shop/shop-api") in object_events(before_events)
    before = service.metrics()
    codes_before = metric(before, "driftwatch_kubernetes_api_requests_total", code=case.code or "")

    fault = case.install(server)
    run = service.run()
    assert fault.hits >= 1, "the fault never fired"
    server.faults.clear()
    metrics = service.metrics()
    report = service.drift_report()["report"]
    states = {(o["kind"], o["name"]): o["state"] for o in report["objects"]}

    assert "missing" not in states.values(), states  # unknown is never missing
    if case.code is not None:
        assert (
            metric(metrics, "driftwatch_kubernetes_api_requests_total", code=case.code)
            > codes_before
        )
    if case.unknown_kind is None:
        assert run["status"] == "success", run
        assert report["complete"] and report["read_errors"] == []
        assert metric(metrics, "driftwatch_unknown_types", target="shop") == 0
    else:
        assert run["status"] == "partial", run
        assert run["failed_stage"] == "snapshot"
        assert case.unknown_kind in run["error"], run["error"]
        assert "Traceback" not in run["error"]
        assert [e["kind"] for e in report["read_errors"]] == [case.unknown_kind]
        unknown = {k for k, state in states.items() if state == "unknown"}
        assert unknown and {kind for kind, _ in unknown} == {case.unknown_kind}
        assert metric(metrics, "driftwatch_unknown_types", target="shop") == 1
        assert metric(metrics, "driftwatch_runs_total", status="partial") == 1
        assert metric(metrics, "driftwatch_run_errors_total", stage="snapshot") == 1
        assert service.target_json()["stale"] == {"git": False, "cluster": False, "report": False}
    # no drift raised or resolved on data nobody saw; the open episode stays open
    assert object_events(service.events()) == object_events(before_events)
    assert service.ready() == 200

    recovered = service.run()
    assert recovered["status"] == "success", recovered
    metrics = service.metrics()
    assert metric(metrics, "driftwatch_unknown_types", target="shop") == 0
    assert _shop_api(service)["state"] == "modified"
    assert object_events(service.events()) == object_events(before_events)
    assert service.ready() == 200


def test_cluster_down_fails_the_run_clearly_keeps_ready_and_recovers_without_restart(
    shop: tuple[KubeApiServer, LiveService],
) -> None:
    server, service = shop
    before = service.events()
    server.go_down()
    run = service.run()
    assert run["status"] == "failed" and run["failed_stage"] == "snapshot"
    assert "cannot reach the cluster" in run["error"] and "Traceback" not in run["error"]
    assert run["totals"] is None
    target = service.target_json()
    assert target["stale"] == {"git": False, "cluster": True, "report": True}
    metrics = service.metrics()
    assert metric(metrics, "driftwatch_runs_total", status="failed") == 1
    assert metric(metrics, "driftwatch_run_errors_total", stage="snapshot") == 1
    assert metric(metrics, "driftwatch_kubernetes_api_requests_total", code="error") >= 1
    # the last report is still served, marked stale; readiness stays up for scrapes
    drift = service.drift_report()
    assert drift["stale"] and drift["last_run_status"] == "failed"
    assert _shop_api(service)["state"] == "modified"
    assert service.ready() == 200
    service.run()  # still down: no second announcement
    events = service.events()
    new = [e["shorttype"] for e in events[len(before) :]]
    assert new == ["cluster.unreachable", "run.failed"], new
    assert object_events(events) == object_events(before)

    server.come_up()
    recovered = service.run()
    assert recovered["status"] == "success"
    events = service.events()
    assert [e["shorttype"] for e in events[len(before) + 2 :]] == [
        "run.recovered",
        "cluster.reachable",
    ]
    assert object_events(events) == object_events(before)
    assert service.target_json()["stale"] == {"git": False, "cluster": False, "report": False}
    assert metric(service.metrics(), "driftwatch_runs_total", status="success") == 2


def test_a_type_whose_discovery_fails_is_unknown_not_missing(
    shop: tuple[KubeApiServer, LiveService],
) -> None:
    server, service = shop
    before = service.events()
    server.fail(r"^/apis/apps/v1$", 500, times=None)
    run = service.run()
    server.faults.clear()
    assert run["status"] == "partial", run
    report = service.drift_report()["report"]
    states = {o["state"] for o in report["objects"] if o["group"] == "apps"}
    assert states == {"unknown"}
    assert object_events(service.events()) == object_events(before)
    assert service.run()["status"] == "success"

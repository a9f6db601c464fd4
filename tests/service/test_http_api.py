"""The HTTP endpoints of serve: health, readiness, the JSON API, auth and hostile requests."""

from __future__ import annotations

import http.client
import socket
import threading
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from driftwatch.model import DriftState
from driftwatch.run import RunStatus
from driftwatch.service import ServiceOptions
from tests.service.conftest import StartService
from tests.service.helpers import FakeRunner, config, drift, http_get, http_json, wait_for

OBJECTS = {
    "shop": [
        drift("api"),
        drift("db", kind="StatefulSet", namespace="data", state=DriftState.MISSING),
        drift("cfg", kind="ConfigMap", group="", state=DriftState.IN_SYNC),
    ]
}


def started(start_service: StartService, **kw: object) -> str:
    runner = FakeRunner(OBJECTS)
    service, base = start_service(config("shop", "other"), runner, **kw)  # type: ignore[arg-type]
    wait_for(lambda: service.state.get("shop").report_run is not None, what="first run")
    wait_for(lambda: service.state.get("other").last_run is not None, what="second target")
    return base


def test_healthz_answers_while_ready_waits_for_a_first_report(start_service: StartService) -> None:
    gate = threading.Event()
    _, base = start_service(config("shop"), FakeRunner(OBJECTS, gate=gate))
    assert http_json(base, "/healthz") == (200, {"status": "ok"})
    status, body = http_json(base, "/readyz")
    assert status == 503 and "error" in body
    gate.set()
    wait_for(lambda: http_get(base, "/readyz")[0] == 200, what="ready")


def test_ready_stays_after_the_cluster_goes_down(start_service: StartService) -> None:
    runner = FakeRunner(OBJECTS)
    service, base = start_service(config("shop"), runner)
    wait_for(lambda: http_get(base, "/readyz")[0] == 200, what="ready")
    runner.status = RunStatus.FAILED
    service.run_target("shop")
    assert service.state.get("shop").last_run.status is RunStatus.FAILED  # type: ignore[union-attr]
    assert http_get(base, "/readyz")[0] == 200


def test_drift_lists_drifted_objects_with_fields_and_age(start_service: StartService) -> None:
    base = started(start_service)
    status, body = http_json(base, "/api/v1/drift?target=shop")
    assert status == 200
    (entry,) = body["targets"]
    report = entry["report"]
    assert report["schema"] == "driftwatch.report/v1"
    assert report["totals"] == {
        "in_sync": 1,
        "modified": 1,
        "missing": 1,
        "unmanaged": 0,
        "unknown": 0,
        "ignored": 0,
    }
    by_name = {o["name"]: o for o in report["objects"]}
    assert set(by_name) == {"api", "db"}
    api = by_name["api"]
    assert api["fields"] == [
        {
            "path": "spec.replicas",
            "change": "changed",
            "desired": 3,
            "live": 5,
            "attribution": {
                "manager": "kubectl-edit",
                "operation": "Update",
                "subresource": None,
                "time": "2026-01-02T03:04:05Z",
            },
            "direction": "unknown",
            "git_commit": None,
        }
    ]
    assert (api["direction"], api["git_commit"]) == ("unknown", None)
    assert api["first_seen"] is not None and api["drift_age_seconds"] >= 0
    assert report["revision"]["sha"].startswith("0123")


def test_drift_filters_by_namespace_kind_and_all(start_service: StartService) -> None:
    base = started(start_service)

    def names(query: str) -> set[str]:
        status, body = http_json(base, "/api/v1/drift" + query)
        assert status == 200, body
        return {o["name"] for t in body["targets"] if t["report"] for o in t["report"]["objects"]}

    assert names("?namespace=data") == {"db"}
    assert names("?kind=statefulset.apps") == {"db"}
    assert names("?kind=Deployment") == {"api"}
    assert names("?all=1") == {"api", "db", "cfg"}
    assert names("?target=other") == set()
    assert http_json(base, "/api/v1/drift?target=nope")[0] == 404
    assert http_json(base, "/api/v1/drift?all=maybe")[0] == 400
    assert http_json(base, "/api/v1/drift?colour=red")[0] == 400
    # which side moved: these fakes carry no applier record, so every drift is unknown
    assert names("?direction=unknown") == {"api", "db"}
    assert names("?direction=unknown&all=1") == {"api", "db"}  # in sync has no direction
    assert names("?direction=cluster") == set()
    assert http_json(base, "/api/v1/drift?direction=sideways")[0] == 400


def test_targets_shows_last_run_stages_and_revision(start_service: StartService) -> None:
    base = started(start_service)
    status, body = http_json(base, "/api/v1/targets")
    assert status == 200
    shop = next(t for t in body["targets"] if t["name"] == "shop")
    assert shop["last_run"]["status"] == "success"
    assert set(shop["last_run"]["stages"]) >= {"git", "render", "snapshot", "compare", "emit"}
    assert shop["last_run"]["revision"]["ref"] == "refs/heads/main"
    assert shop["repository"] == "https://git.example.com/shop.git"
    assert shop["stale"] == {"git": False, "cluster": False, "report": False}
    assert shop["next_run_at"] is not None


def test_events_without_state_dir_is_404(start_service: StartService) -> None:
    base = started(start_service)
    status, body = http_json(base, "/api/v1/events?limit=5")
    assert status == 404 and set(body) == {"error"}


def test_api_token_required_and_not_leaked(start_service: StartService, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t0ken-value\n")
    base = started(
        start_service, options=ServiceOptions(listen="127.0.0.1:0", token_file=str(token_file))
    )
    for headers in (None, "wrong", "t0ken-valuX"):
        status, hdrs, body = http_get(base, "/api/v1/targets", token=headers)
        assert status == 401
        assert hdrs["WWW-Authenticate"].startswith("Bearer")
        assert body.strip() == b'{"error": "unauthorized"}'
    assert http_get(base, "/api/v1/targets", token="t0ken-value")[0] == 200
    # only /api/* is protected: Prometheus and kubelet probes need no token
    assert http_get(base, "/metrics")[0] == 200
    assert http_get(base, "/healthz")[0] == 200


def test_unknown_paths_methods_and_huge_queries_get_json_errors(
    start_service: StartService,
) -> None:
    base = started(start_service)
    status, body = http_json(base, "/nope")
    assert status == 404 and body == {"error": "not found"}
    status, headers, body = http_get(base, "/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert http_json(base, "/api/v1/drift?namespace=" + "x" * 10_000)[0] == 414
    assert http_json(base, "/api/v1/drift?" + "&".join(f"a{i}=1" for i in range(100)))[0] == 400
    assert http_json(base, "/api/v1/drift?namespace=%ff%fe")[0] == 400
    assert http_json(base, "/api/v1/drift?target=a&target=b")[0] == 400
    assert http_json(base, "/api/v1/events?limit=-1")[0] in (400, 404)


def test_malformed_request_lines_get_400_and_server_survives(start_service: StartService) -> None:
    base = started(start_service)
    host, port = base.removeprefix("http://").split(":")
    for raw in (b"GARBAGE\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n", b"GET " + b"a" * 70_000):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(raw + b"\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):  # the server closes after an error
                reply += chunk
        status_line = reply.split(b"\r\n")[0].split()
        assert status_line[0].startswith(b"HTTP/1.") and status_line[1] in (b"400", b"414", b"505")
        assert reply.rstrip().endswith(b"}") and b"GARBAGE" not in reply
    assert http_get(base, "/healthz")[0] == 200


def test_head_requests_have_no_body(start_service: StartService) -> None:
    base = started(start_service)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("HEAD", "/api/v1/targets")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b""
    assert int(response.headers["Content-Length"]) > 0
    conn.close()


def test_concurrent_scrapes_during_runs_are_consistent(start_service: StartService) -> None:
    runner = FakeRunner(OBJECTS)
    service, base = start_service(config("shop"), runner)
    wait_for(lambda: service.state.get("shop").report_run is not None, what="first run")
    errors: list[str] = []
    stop = threading.Event()

    def keep_running() -> None:
        while not stop.is_set():
            service.run_target("shop")

    def scrape() -> None:
        for _ in range(15):
            status, _, body = http_get(base, "/metrics")
            if status != 200:
                errors.append(f"status {status}")
                continue
            families = {f.name for f in text_string_to_metric_families(body.decode())}
            if "driftwatch_resource_drift" not in families:
                errors.append("missing family")

    runner_thread = threading.Thread(target=keep_running)
    runner_thread.start()
    scrapers = [threading.Thread(target=scrape) for _ in range(6)]
    for t in scrapers:
        t.start()
    for t in scrapers:
        t.join(60)
    stop.set()
    runner_thread.join(60)
    assert errors == []
    assert runner.calls["shop"] > 1

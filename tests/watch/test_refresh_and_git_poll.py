"""Runs on demand: the refresh webhook and the Git poll start a run without waiting for the
schedule (an hour here); the rest of the HTTP API stays read-only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from driftwatch.sinks.http_api import is_loopback
from tests.kubeapi import KubeApiServer
from tests.watch.conftest import StartWatched
from tests.watch.helpers import TOKEN, WatchedService, eventually, git

API_YAML = "20-api.yaml"


def post(
    base: str, path: str, *, token: str | None = None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), json.loads(e.read())


def full_runs(svc: WatchedService) -> int:
    """Full runs finished so far (watch updates have no Git stage)."""
    text = svc.metrics()
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("driftwatch_run_duration_seconds_count{") and 'stage="git"' in line
    )


def test_refresh_runs_the_target_now_and_needs_the_token(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api, token=TOKEN)
    assert full_runs(svc) == 1

    assert post(svc.base, "/api/v1/refresh?target=shop")[0] == 401
    assert post(svc.base, "/api/v1/refresh?target=shop", token="wrong")[0] == 401
    status, _, body = post(svc.base, "/api/v1/refresh?target=nope", token=TOKEN)
    assert status == 404 and "nope" in body["error"]
    assert post(svc.base, "/api/v1/refresh", token=TOKEN)[0] == 400
    assert full_runs(svc) == 1

    status, _, body = post(svc.base, "/api/v1/refresh?target=shop", token=TOKEN)
    assert (status, body) == (202, {"target": "shop", "status": "accepted"})
    eventually(lambda: full_runs(svc) == 2, "the requested run")

    status, _, body = post(svc.base, "/api/v1/refresh", token=TOKEN, body={"target": "shop"})
    assert status == 202
    eventually(lambda: full_runs(svc) == 3, "the run asked for in a JSON body")


def test_refresh_without_a_token_is_accepted_from_loopback_only(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)

    assert post(svc.base, "/api/v1/refresh", body={"target": "shop"})[0] == 202
    eventually(lambda: full_runs(svc) == 2, "the requested run")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.1.2.3") and not is_loopback("192.168.0.1") and not is_loopback("x")


def test_every_other_path_and_method_stays_read_only(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api, token=TOKEN)

    status, headers, _ = post(svc.base, "/api/v1/drift", token=TOKEN)
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, headers, _ = post(svc.base, "/metrics", token=TOKEN)
    assert status == 405
    status, _ = svc.get("/api/v1/refresh?target=shop")
    assert status == 405
    assert full_runs(svc) == 1


def test_a_new_commit_is_picked_up_by_the_git_poll_without_waiting_for_the_interval(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    first = svc.service.state.get("shop").last_run
    assert first is not None and first.revision is not None
    api = (svc.repo / API_YAML).read_text()
    assert "replicas: 2" in api

    (svc.repo / API_YAML).write_text(api.replace("replicas: 2", "replicas: 5"))
    git(svc.repo, "commit", "-q", "-am", "scale api to 5")
    sha = git(svc.repo, "rev-parse", "HEAD")

    def compared_new_commit() -> bool:
        run = svc.service.state.get("shop").report_run
        return run is not None and run.revision is not None and run.revision.sha == sha

    eventually(compared_new_commit, "a run of the new commit")
    assert svc.state_of("Deployment", "shop-api") == "modified"  # Git now says 5, live 2
    assert ("git.revision_changed", "shop") in [(t, s.split("/")[0]) for t, s in svc.events()]
    svc.wait_watching()  # and the watch goes on from the new run's snapshot

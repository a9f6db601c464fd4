"""``driftwatch serve`` end to end: a subprocess against the Kubernetes API test server and a
real Git repository made from the recorded shop scenario.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kubeapi import KubeApiServer, store_for_scenario
from tests.kubeapi.fixtures import kubeconfig_for
from tests.service.helpers import http_get, http_json, wait_for

ROOT = Path(__file__).parents[2]
SCENARIO = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop"
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git_repo(path: Path) -> Path:
    shutil.copytree(SCENARIO / "git", path)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "shop"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    return path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], object, list[str]]]:
    server = KubeApiServer(store_for_scenario("shop/scale")).start()
    kubeconfig = kubeconfig_for(server, tmp_path / "kubeconfig")
    repo = git_repo(tmp_path / "shop")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "driftwatch",
            "serve",
            "--repo",
            str(repo),
            "--kubeconfig",
            str(kubeconfig),
            "--selector",
            "app.kubernetes.io/part-of=shop",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
            str(tmp_path / "state"),
            "--interval",
            "1h",
            "--log-format",
            "json",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.append(raw.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: any("serving on" in line for line in lines) or proc.poll() is not None,
            timeout=60,
            what="serve to listen",
        )
        line = next((json.loads(x) for x in lines if "serving on" in x), None)
        assert line is not None, "".join(lines)
        yield "http://" + str(line["message"]).split()[2], proc, server, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
        if proc.stderr is not None:
            proc.stderr.close()
        server.stop()


def test_serve_reports_drift_over_http_and_metrics_and_stops_cleanly(
    serve: tuple[str, subprocess.Popen[bytes], object, list[str]],
) -> None:
    base, proc, server, lines = serve
    wait_for(lambda: http_get(base, "/readyz")[0] == 200, timeout=120, what="a first report")

    status, body = http_json(base, "/api/v1/drift")
    assert status == 200
    (entry,) = body["targets"]
    drifted = {(o["kind"], o["name"]): o for o in entry["report"]["objects"]}
    api = drifted[("Deployment", "shop-api")]
    assert api["state"] == "modified"
    # any notation naming the same field will do
    assert [f["path"].strip("/").replace("/", ".") for f in api["fields"]] == ["spec.replicas"]
    assert api["fields"][0]["attribution"]["manager"] == "kubectl"
    assert api["drift_age_seconds"] is not None

    metrics = http_get(base, "/metrics")[2].decode()
    assert "driftwatch_resource_drift{" in metrics and 'name="shop-api"' in metrics
    status, targets = http_json(base, "/api/v1/targets")
    assert targets["targets"][0]["last_run"]["status"] in ("success", "partial")
    assert http_json(base, "/api/v1/events")[0] == 200

    assert server.writes() == []  # type: ignore[attr-defined]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, "".join(lines)
    assert not any('"level": "error"' in line for line in lines), "".join(lines)

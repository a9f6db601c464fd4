"""Three ``driftwatch serve --shard I/3`` processes share 30 targets (issue 18, item 6).

Real processes against the Kubernetes API test server (seeded with the recorded
``shop/scale`` case) and a real Git repository of the recorded shop manifests: every
target is run by exactly one replica, the replicas' ``/api/v1/targets`` together list
all 30 without overlap, each replica's ``/metrics`` holds only its own targets, and a
request that lands on the wrong replica is redirected to the one that runs the target.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.kubeapi.fixtures import ServerFactory, kubeconfig_for
from tests.reliability.helpers import MARKER, shop_repo
from tests.service.helpers import http_json, wait_for
from tests.subprocess_cli import ROOT, cli_env, run_cli

SHARDS = 3
TARGETS = [f"team-{i:02d}" for i in range(30)]


def free_port_block() -> int:
    """A base B whose ports B0, B1, B2 (10*B + shard) are free on 127.0.0.1."""
    for _ in range(200):
        base = random.randrange(2000, 6000)
        sockets = []
        try:
            for shard in range(SHARDS):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base * 10 + shard))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no block of three free ports")


def write_config(path: Path, repo: Path, kubeconfig: Path) -> Path:
    config = {
        "clusters": [{"name": "test", "kubeconfig": str(kubeconfig), "timeout": "10s"}],
        "targets": [
            {
                "name": name,
                "repo": str(repo),
                "rev": "main",
                "cluster": "test",
                "selector": MARKER,
                "schedule": {"interval": "1h"},
            }
            for name in TARGETS
        ],
    }
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


@pytest.fixture
def replicas(tmp_path: Path, kube_api_factory: ServerFactory) -> Iterator[list[str]]:
    """Three serve processes, shard 0, 1 and 2 of one config; their base URLs."""
    server = kube_api_factory("shop/scale")
    config = write_config(
        tmp_path / "driftwatch.yaml",
        shop_repo(tmp_path / "shop"),
        kubeconfig_for(server, tmp_path / "kubeconfig"),
    )
    base = free_port_block()
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for shard in range(SHARDS):
            log = tmp_path / f"serve-{shard}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "driftwatch",
                        "serve",
                        f"--config={config}",
                        f"--shard={shard}/{SHARDS}",
                        f"--peer-url=http://127.0.0.1:{base}{{shard}}",
                        f"--listen=127.0.0.1:{base}{shard}",
                        f"--state-dir={tmp_path / f'state-{shard}'}",
                        f"--cache-dir={tmp_path / f'cache-{shard}'}",
                        "--log-format=json",
                    ],
                    cwd=ROOT,
                    env=cli_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=out,
                )
            procs.append((proc, log))
        urls = [f"http://127.0.0.1:{base}{shard}" for shard in range(SHARDS)]
        for (proc, log), url in zip(procs, urls, strict=True):
            wait_for(lambda p=proc, u=url: _listening(p, u), timeout=60, what=f"{url} to listen")
            assert proc.poll() is None, log.read_text()
        yield urls
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, log in procs:
            assert proc.wait(60) == 0, log.read_text()
            assert '"level": "error"' not in log.read_text(), log.read_text()
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def _listening(proc: subprocess.Popen[bytes], url: str) -> bool:
    if proc.poll() is not None:
        return True
    try:
        return http_json(url, "/healthz")[0] == 200
    except OSError:
        return False


def targets_of(url: str) -> dict[str, Any]:
    status, body = http_json(url, "/api/v1/targets")
    assert status == 200
    return body  # type: ignore[no-any-return]


def all_ran(url: str) -> bool:
    return all(t["last_run"] is not None for t in targets_of(url)["targets"])


def metric_targets(url: str, shard: int) -> tuple[set[str], set[str]]:
    """(targets named by any series, targets with a finished run) on ``url``'s /metrics;
    every series carries the replica's shard."""
    status, body = http_json_text(url, "/metrics")
    assert status == 200
    named, ran = set(), set()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if "target" in sample.labels:
                named.add(sample.labels["target"])
                if sample.name == "driftwatch_runs_total" and sample.value > 0:
                    ran.add(sample.labels["target"])
            assert sample.labels.get("shard") == str(shard), (url, sample)
    return named, ran


def http_json_text(url: str, path: str) -> tuple[int, str]:
    conn = _conn(url)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _conn(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def test_three_shards_split_thirty_targets_and_redirect_to_the_owner(
    replicas: list[str],
) -> None:
    for url in replicas:
        wait_for(lambda u=url: all_ran(u), timeout=300, what=f"every target of {url} to run")

    listed = {url: [t["name"] for t in targets_of(url)["targets"]] for url in replicas}
    names = [n for ns in listed.values() for n in ns]
    assert sorted(names) == sorted(TARGETS), "the union is all 30, none listed twice"
    assert all(listed.values()), f"a replica runs nothing: {listed}"
    for shard, url in enumerate(replicas):
        body = targets_of(url)
        assert body["shard"]["index"] == shard and body["shard"]["count"] == SHARDS
        assert body["shard"]["peers"] == replicas
        named, ran = metric_targets(url, shard)
        assert named == ran == set(listed[url]), f"{url} exports or runs another's target"
        # its own event log: the drift its targets found, nobody else's
        status, log = http_json(url, "/api/v1/events?type=drift.detected&limit=1000")
        assert status == 200 and log["shard"]["index"] == shard
        assert {e["subject"].split("/")[0] for e in log["events"]} == set(listed[url])

    # a request on the wrong replica is sent to the owner, and the owner answers it
    owners = {name: url for url, ns in listed.items() for name in ns}
    for name in TARGETS[:6]:
        wrong = next(u for u in replicas if u != owners[name])
        path = f"/api/v1/drift?target={name}&kind=Deployment"
        conn = _conn(wrong)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 307
            location = response.getheader("Location")
        finally:
            conn.close()
        assert location == owners[name] + path
        status, body = http_json(owners[name], path)
        assert status == 200
        (entry,) = body["targets"]
        drifted = {o["name"] for o in entry["report"]["objects"]}
        assert "shop-api" in drifted  # the recorded `kubectl scale` of shop/scale


def test_a_pod_outside_the_shard_count_stops_with_one_line(tmp_path: Path) -> None:
    """A StatefulSet scaled past DRIFTWATCH_SHARDS: the extra pod says why and exits 2."""
    config = write_config(tmp_path / "driftwatch.yaml", tmp_path, tmp_path / "kubeconfig")
    env = cli_env(DRIFTWATCH_SHARDS="3", POD_NAME="driftwatch-3")
    proc = run_cli("serve", f"--config={config}", "--listen=127.0.0.1:0", env=env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --shards 3: pod 'driftwatch-3' has ordinal 3, but there are only 3 shard(s) "
        "(0..2): set --shards to the StatefulSet's replicas"
    ]

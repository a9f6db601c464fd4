"""End to end: `driftwatch serve` -> real Prometheus with alerts/ -> Alertmanager -> receiver.

``driftwatch serve`` runs as a subprocess against the Kubernetes API test server
(seeded with the recorded ``shop/scale`` case: shop-api scaled from 2 to 4) and
a real Git repository holding the shop manifests.  Prometheus scrapes it every
second with the rules of alerts/ (``for:`` shortened to 1s); the drift alert must
reach the webhook receiver through Alertmanager with the expected labels and
annotations, and resolve once Git is changed to match the cluster.  Every PromQL
expression of dashboards/ and alerts/ then runs against that Prometheus.

The direct path (driftwatch -> Alertmanager, ``alertmanager.urls``) is proven the
same way.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerts.contract import (
    ROOT,
    dashboard_expressions,
    documented_metrics,
    metric_names,
    rule_expressions,
    rule_files,
    runnable,
)
from tests.alerts.procs import (
    alertmanager,
    free_port,
    get_json,
    needs_alertmanager,
    needs_prometheus,
    process,
    prometheus,
    wait_until,
    webhook_receiver,
)
from tests.alerts.prom_api import query, query_errors, rule_health

pytestmark = [
    needs_prometheus,
    needs_alertmanager,
    pytest.mark.e2e,
    pytest.mark.slow,
]

SHOP_GIT = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop" / "git"
MARKER = "app.kubernetes.io/part-of=shop"
SCRAPE_JOB = "driftwatch"

NOT_ALWAYS_EXPORTED = {
    "driftwatch_run_errors_total": "only after a failed or partial run",
    "driftwatch_events_total": "only after an audit event was written",
    "driftwatch_alertmanager_notifications_total": "only with alertmanager.urls",
    "driftwatch_watch_events_total": "only for targets with watch: true",
    "driftwatch_watch_mismatches_total": "only for targets with watch: true",
    "driftwatch_watch_up": "only for targets with watch: true (one series per watched type)",
    "driftwatch_git_pending_oldest_timestamp_seconds": "only while a Git change is not yet applied",
}
"""Counters a healthy polling run does not (yet) export; still checked against the contract."""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _shop_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "shop-git"
    shutil.copytree(SHOP_GIT, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "shop as declared")
    return repo


def _accept_live_replicas(repo: Path) -> None:
    """Commit Git = cluster for the scaled Deployment: the drift is gone."""
    manifest = repo / "20-api.yaml"
    text = manifest.read_text()
    assert "replicas: 2" in text
    manifest.write_text(text.replace("replicas: 2", "replicas: 4", 1))
    _git(repo, "commit", "-q", "-am", "accept 4 replicas")


def _fast_rules(tmp_path: Path) -> list[Path]:
    """Copies of alerts/*.yaml with every ``for:`` cut to 1s."""
    out = []
    for path in rule_files():
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "1s"
        copy = tmp_path / f"fast-{path.name}"
        copy.write_text(yaml.safe_dump(doc, sort_keys=False))
        out.append(copy)
    return out


@contextlib.contextmanager
def _serve(tmp_path: Path, repo: Path, kubeconfig: Path, **extra: Any) -> Iterator[str]:
    port = free_port()
    config = {
        "version": 1,
        "clusters": [{"name": "default", "kubeconfig": str(kubeconfig)}],
        "targets": [
            {"name": "shop", "repo": str(repo), "selector": MARKER, "schedule": {"interval": "2s"}}
        ],
        "instance": "dw-e2e",
        **extra,
    }
    path = tmp_path / "driftwatch.yaml"
    path.write_text(yaml.safe_dump(config))
    args = [
        sys.executable, "-m", "driftwatch", "serve", "--config", str(path),
        "--listen", f"127.0.0.1:{port}", "--state-dir", str(tmp_path / "state"),
        "--log-format", "text", "--grace-period", "2s",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with process(args, f"{url}/healthz", tmp_path / "serve.log", "driftwatch serve"):
        yield url


def _alert(alerts: list[dict[str, Any]], status: str, **labels: str) -> dict[str, Any] | None:
    for alert in alerts:
        if alert["status"] == status and all(
            alert["labels"].get(k) == v for k, v in labels.items()
        ):
            return alert
    return None


@pytest.fixture
def shop_cluster(kube_api_factory: Any, tmp_path: Path) -> Path:
    from tests.kubeapi.fixtures import kubeconfig_for

    server = kube_api_factory("shop/scale")
    return kubeconfig_for(server, tmp_path / "kubeconfig")


@pytest.fixture
def untouched_cluster(kube_api_factory: Any, tmp_path: Path) -> Path:
    """The recorded client-side apply of the shop, nobody touching it since."""
    from tests.kubeapi.fixtures import kubeconfig_for

    server = kube_api_factory("shop/untouched-csa")
    return kubeconfig_for(server, tmp_path / "kubeconfig")


def _set_replicas(repo: Path, old: int, new: int, subject: str) -> None:
    """Commit a change of shop-api's replicas in Git (the applier has not applied it)."""
    manifest = repo / "20-api.yaml"
    text = manifest.read_text()
    assert f"replicas: {old}" in text
    manifest.write_text(text.replace(f"replicas: {old}", f"replicas: {new}", 1))
    _git(repo, "commit", "-q", "-am", subject)


def test_drift_alert_fires_through_prometheus_and_alertmanager_and_resolves(
    tmp_path: Path, shop_cluster: Path
):
    repo = _shop_repo(tmp_path)
    with (
        webhook_receiver() as hook,
        alertmanager(tmp_path, hook.url + "/hook") as am_url,
        _serve(tmp_path, repo, shop_cluster) as dw_url,
    ):
        scrape_port = int(dw_url.rsplit(":", 1)[1])
        with prometheus(tmp_path, scrape_port, _fast_rules(tmp_path), am_url, SCRAPE_JOB) as prom:
            wanted = {
                "alertname": "DriftwatchHandEdit",
                "job": SCRAPE_JOB,
                "name": "shop-api",
            }
            firing = wait_until(
                lambda: _alert(hook.alerts(), "firing", **wanted), 60, "DriftwatchHandEdit"
            )
            errors = query_errors(
                prom, [(w, runnable(e)) for w, e in dashboard_expressions() + rule_expressions()]
            )
            exported = {
                s["metric"]["__name__"]
                for s in query(prom, 'count by (__name__) ({__name__=~"driftwatch_.*"})')["data"][
                    "result"
                ]
            }
            health = rule_health(prom)
            _accept_live_replicas(repo)
            resolved = wait_until(
                lambda: _alert(hook.alerts(), "resolved", **wanted), 60, "the resolved alert"
            )

    assert firing["labels"] == {
        "alertname": "DriftwatchHandEdit",
        "severity": "warning",
        "job": SCRAPE_JOB,
        "instance": f"127.0.0.1:{scrape_port}",
        "target": "shop",
        "group": "apps",
        "kind": "Deployment",
        "namespace": "shop",
        "name": "shop-api",
        "drift_type": "modified",
        "manager": "kubectl",
        "direction": "cluster",
    }
    assert firing["annotations"] == {
        "summary": "A Kubernetes object was changed in the cluster, not through Git.",
        "description": "Deployment.apps shop/shop-api of target shop (modified) was changed in "
        "the cluster after the last apply; last changed by kubectl.",
        "runbook_url": "https://github.com/driftwatch/driftwatch/blob/main/docs/runbooks.md"
        "#driftwatchhandedit",
        "object_url": "https://driftwatch.example.com/targets/shop/objects/apps/Deployment/shop"
        "/shop-api",
    }
    assert resolved["labels"] == firing["labels"]
    assert errors == []
    assert {name: h for name, h in health.items() if h != "ok"} == {}, "rules failing on live data"

    referenced = set().union(*(metric_names(e) for _, e in dashboard_expressions()))
    referenced |= set().union(*(metric_names(e) for _, e in rule_expressions()))
    assert referenced - documented_metrics() == set(), "names outside docs/metrics.md"
    never_seen = referenced - exported - set(NOT_ALWAYS_EXPORTED)
    assert never_seen == set(), "referenced but not exported by driftwatch serve"


def test_direct_alert_from_serve_reaches_alertmanager_and_resolves(
    tmp_path: Path, shop_cluster: Path
):
    repo = _shop_repo(tmp_path)
    with webhook_receiver() as hook, alertmanager(tmp_path, hook.url + "/hook") as am_url:
        external = "http://driftwatch.example:8080"
        options = {"urls": [am_url], "resendInterval": "2s", "externalUrl": external}
        with _serve(tmp_path, repo, shop_cluster, alertmanager=options) as dw_url:
            wanted = {"alertname": "DriftwatchHandEdit", "instance": "dw-e2e"}
            firing = wait_until(
                lambda: _alert(hook.alerts(), "firing", **wanted), 60, "the direct alert"
            )
            metrics = wait_until(
                lambda: (
                    "driftwatch_alertmanager_notifications_total{" in _text(f"{dw_url}/metrics")
                ),
                30,
                "the delivery counter",
            )
            _accept_live_replicas(repo)
            resolved = wait_until(
                lambda: _alert(hook.alerts(), "resolved", **wanted), 60, "the resolved direct alert"
            )
            targets = get_json(f"{dw_url}/api/v1/targets")
    assert metrics
    assert targets
    assert firing["labels"] == {
        "alertname": "DriftwatchHandEdit",
        "severity": "warning",
        "instance": "dw-e2e",
        "target": "shop",
        "group": "apps",
        "kind": "Deployment",
        "namespace": "shop",
        "name": "shop-api",
        "drift_type": "modified",
        "direction": "cluster",
    }
    notes = firing["annotations"]
    assert notes["drifted_fields"].endswith("replicas (changed): 2 -> 4 by kubectl [cluster]")
    assert notes["changed_by"].startswith("kubectl (Update/scale)")
    assert notes["drift_url"].startswith(f"{external}/api/v1/drift?target=shop&namespace=shop")
    assert firing["generatorURL"] == notes["object_url"] == (
        f"{external}/targets/shop/objects/apps/Deployment/shop/shop-api"
    )
    assert resolved["labels"] == firing["labels"]


def test_sync_lag_alert_fires_through_prometheus_and_alertmanager_and_resolves(
    tmp_path: Path, untouched_cluster: Path
):
    repo = _shop_repo(tmp_path)
    _set_replicas(repo, 2, 3, "scale api to 3")  # merged, not applied: Git moved ahead
    with (
        webhook_receiver() as hook,
        alertmanager(tmp_path, hook.url + "/hook") as am_url,
        _serve(tmp_path, repo, untouched_cluster) as dw_url,
    ):
        scrape_port = int(dw_url.rsplit(":", 1)[1])
        with prometheus(tmp_path, scrape_port, _fast_rules(tmp_path), am_url, SCRAPE_JOB) as prom:
            wanted = {"alertname": "DriftwatchGitSyncLag", "job": SCRAPE_JOB, "name": "shop-api"}
            firing = wait_until(
                lambda: _alert(hook.alerts(), "firing", **wanted), 60, "DriftwatchGitSyncLag"
            )
            pending = query(prom, "time() - driftwatch_git_pending_oldest_timestamp_seconds")
            _set_replicas(repo, 3, 2, "back to 2 replicas")  # Git agrees with the cluster again
            resolved = wait_until(
                lambda: _alert(hook.alerts(), "resolved", **wanted), 60, "the resolved alert"
            )
            hand_edits = [
                a for a in hook.alerts() if a["labels"]["alertname"] == "DriftwatchHandEdit"
            ]
    assert firing["labels"]["severity"] == "info"
    assert firing["labels"]["direction"] == "git"
    assert firing["labels"]["manager"] == "kubectl-client-side-apply"
    assert firing["annotations"]["runbook_url"].endswith("#driftwatchgitsynclag")
    assert resolved["labels"] == firing["labels"]
    assert hand_edits == [], "a Git change not yet applied is not a hand edit"
    [age] = pending["data"]["result"]
    assert float(age["value"][1]) >= 0


def test_direct_sync_lag_alert_waits_for_the_sync_lag_then_resolves(
    tmp_path: Path, untouched_cluster: Path
):
    repo = _shop_repo(tmp_path)
    _set_replicas(repo, 2, 3, "scale api to 3")
    with webhook_receiver() as hook, alertmanager(tmp_path, hook.url + "/hook") as am_url:
        options = {"urls": [am_url], "resendInterval": "2s", "syncLag": "6s"}
        with _serve(tmp_path, repo, untouched_cluster, alertmanager=options) as dw_url:
            started = time.monotonic()
            wanted = {"alertname": "DriftwatchGitSyncLag", "instance": "dw-e2e"}
            firing = wait_until(
                lambda: _alert(hook.alerts(), "firing", **wanted), 90, "the sync-lag alert"
            )
            waited = time.monotonic() - started
            drift = get_json(f"{dw_url}/api/v1/drift?target=shop&direction=git")
            _set_replicas(repo, 3, 2, "back to 2 replicas")
            resolved = wait_until(
                lambda: _alert(hook.alerts(), "resolved", **wanted), 60, "the resolved alert"
            )
    assert waited >= 6, "a Git change is not sent before the sync-lag period"
    assert firing["labels"]["direction"] == "git"
    notes = firing["annotations"]
    assert notes["git_commit"].split(" ", 1)[1].startswith("'scale api to 3' by driftwatch tests")
    assert "@" not in json.dumps(firing), "never an e-mail address"
    [obj] = drift["targets"][0]["report"]["objects"]
    assert (obj["name"], obj["direction"]) == ("shop-api", "git")
    assert obj["git_commit"]["subject"] == "scale api to 3"
    assert resolved["labels"] == firing["labels"]


def _text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())

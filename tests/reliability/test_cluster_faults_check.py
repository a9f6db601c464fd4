"""``driftwatch check`` (a subprocess, shipped retry policy) under cluster faults.

Exit code 2 and a clear word when something stayed unknown; the drift that
could be compared is still reported; never a traceback, never a hang.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import write_config
from tests.subprocess_cli import run_cli

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, server: KubeApiServer, repo: Path, **options: object) -> Path:
    return write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(repo),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
        **options,  # type: ignore[arg-type]
    )


def _states(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    (target,) = document["targets"]
    report = target["report"]
    return {(o["kind"], o["name"]): o["state"] for o in report["objects"]}


def test_persistent_500_and_timeouts_leave_those_types_unknown_and_exit_2(
    kube_api_factory: Callable[..., KubeApiServer], shop_git: Path, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server, shop_git, timeout="500ms", page_size=2)
    failing = server.fail(r"/deployments$", 500, times=None)
    slow = server.delay(r"/statefulsets$", 3.0, times=None)
    result = run_cli("check", "--config", str(config), "-o", "json", "--all", timeout=150)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert failing.hits == 5 and slow.hits == 5  # the shipped policy tries 5 times
    document = json.loads(result.stdout)
    (target,) = document["targets"]
    assert target["status"] == "partial" and target["failed_stage"] == "snapshot"
    assert "Deployment" in target["error"] or "StatefulSet" in target["error"]
    report = target["report"]
    errors = {e["kind"]: e["error"] for e in report["read_errors"]}
    assert set(errors) == {"Deployment", "StatefulSet"}
    assert "HTTP 500" in errors["Deployment"] and "after 5 attempts" in errors["Deployment"]
    assert "timed out" in errors["StatefulSet"]
    states = _states(document)
    assert states[("Deployment", "shop-api")] == "unknown"
    assert states[("StatefulSet", "shop-db")] == "unknown"
    assert "missing" not in states.values()
    assert states[("ConfigMap", "shop-config")] == "in_sync"  # the rest is still compared


def test_transient_faults_are_absorbed_and_the_drift_is_reported(
    kube_api_factory: Callable[..., KubeApiServer], shop_git: Path, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server, shop_git, timeout="2s", page_size=1)
    faults = [
        server.fail(r"/deployments$", 503, times=2),
        server.throttle(r"/services$", retry_after=1),
        server.reset(r"/configmaps$", mid_body=False, query={"continue": None}),
        server.reset(r"/serviceaccounts$", query={"continue": None}),
        server.expire_continue(r"/secrets$"),
    ]
    result = run_cli("check", "--config", str(config), "-o", "json", timeout=150)
    assert all(f.hits >= 1 for f in faults), [f.hits for f in faults]
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(result.stdout)
    states = _states(document)
    assert states == {("Deployment", "shop-api"): "modified"}


def test_cluster_down_is_one_clear_error_and_exit_2(
    kube_api_factory: Callable[..., KubeApiServer], shop_git: Path, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server, shop_git, timeout="1s")
    server.go_down()
    result = run_cli("check", "--config", str(config), timeout=150)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    assert "cannot reach the cluster" in output
    assert server.url.removeprefix("http://") in output
    assert "failed" in output.lower()

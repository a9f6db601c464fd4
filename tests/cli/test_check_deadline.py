"""``driftwatch check`` never hangs: an overall cluster-read deadline, and SIGTERM/SIGINT stop it.

The API test server accepts some requests and never answers them (``hang``), or
answers one byte at a time forever (``trickle``: every byte resets a socket read
timeout, so only an overall deadline ends it).  What was not read by the
deadline is unknown, the rest is still compared, and the exit code is 2.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import shop_repo, write_config
from tests.subprocess_cli import run_cli, start_cli

ServerFactory = Callable[..., KubeApiServer]


def _config(tmp_path: Path, server: KubeApiServer, **cluster: Any) -> Path:
    path = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(shop_repo(tmp_path / "shop")),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
        timeout="30s",
    )
    document = json.loads(path.read_text())
    document["clusters"][0].update(cluster)
    path.write_text(json.dumps(document))
    return path


def _states(stdout: str) -> dict[tuple[str, str], str]:
    (target,) = json.loads(stdout)["targets"]
    return {(o["kind"], o["name"]): o["state"] for o in target["report"]["objects"]}


def test_a_list_that_never_answers_is_unknown_at_the_deadline_and_the_rest_is_compared(
    kube_api_factory: ServerFactory, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server)
    server.hang(r"/deployments$")
    started = time.monotonic()
    result = run_cli("check", "--config", str(config), "-o", "json", "--all", "--deadline", "3s")
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    # 30 s read timeout x 5 attempts without the deadline; well under that with it.
    assert elapsed < 25, elapsed
    (target,) = json.loads(result.stdout)["targets"]
    (error,) = target["report"]["read_errors"]
    assert error["kind"] == "Deployment" and "deadline (3s)" in error["error"]
    states = _states(result.stdout)
    assert states[("Deployment", "shop-api")] == "unknown"
    assert states[("ConfigMap", "shop-config")] == "in_sync"
    assert "missing" not in states.values()


def test_an_answer_trickling_forever_is_cut_at_the_configured_deadline(
    kube_api_factory: ServerFactory, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server, deadline="3s")
    server.trickle(r"/statefulsets$", every=0.5)
    started = time.monotonic()
    result = run_cli("check", "--config", str(config))
    assert time.monotonic() - started < 25
    assert result.returncode == 2, result.stderr
    assert "UNKNOWN StatefulSet.apps/shop/shop-db" in result.stdout
    assert "stopped at the cluster read deadline (3s)" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_check_promptly_while_a_read_hangs(
    kube_api_factory: ServerFactory, tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    server = kube_api_factory("shop/scale")
    config = _config(tmp_path, server, deadline="10m")
    hang = server.hang(r"/deployments$")
    proc = start_cli("check", "--config", str(config))
    try:
        deadline = time.monotonic() + 60
        while hang.hits == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert hang.hits == 1, "check never reached the hanging list"
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    assert f"check stopped by {signum.name}" in stderr and "Traceback" not in stderr
    assert stdout == ""

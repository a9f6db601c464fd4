"""A refused connection and an unknown host are named as such, and not retried for seconds.

urllib3 2.x makes ``NewConnectionError`` and ``NameResolutionError`` subclasses of
``ConnectTimeoutError``; a user must read "connection refused", not "connect
timed out", and get it at once: nothing listens there, retrying only hides it.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from driftwatch.cluster import ApiRequestError, RetryPolicy
from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.connect import api_client_for
from driftwatch.config.model import Cluster
from tests.reliability.helpers import shop_repo, write_config
from tests.subprocess_cli import run_cli


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (f"http://127.0.0.1:{_closed_port()}", "connection refused"),
        ("http://driftwatch-test.invalid:6443", "host name driftwatch-test.invalid not resolved"),
    ],
)
def test_unreachable_servers_are_named_and_not_retried(
    tmp_path: Path, server: str, expected: str
) -> None:
    cluster = Cluster(name="c", kubeconfig=str(_kubeconfig(tmp_path / "kubeconfig", server)))
    waits: list[float] = []
    with ReadOnlyClient(api_client_for(cluster), timeout=5) as client:
        with pytest.raises(ApiRequestError) as raised:
            RetryPolicy(sleep=waits.append).call(lambda: client.get("/version"))
    assert expected in str(raised.value) and "timed out" not in str(raised.value)
    assert raised.value.attempts == 1 and waits == []


def test_check_says_connection_refused(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{_closed_port()}")
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(shop_repo(tmp_path / "shop")),
        kubeconfig=kubeconfig,
        cache_dir=tmp_path / "cache",
    )
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "connection refused" in output and "timed out" not in output
    assert "attempts" not in output

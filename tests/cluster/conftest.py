"""Shared helpers for the cluster-stage tests (the server fixtures come from tests.kubeapi)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftwatch.cluster import ReadOnlyClient, RetryPolicy, connect
from driftwatch.config.model import Cluster
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for


class RecordingSleep:
    """A sleep that records what the retry policy asked for, and sleeps a token amount."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.hooks: dict[int, list[object]] = {}

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        for hook in self.hooks.get(len(self.waits), []):
            hook()  # type: ignore[operator]


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def retry(sleep: RecordingSleep) -> RetryPolicy:
    return RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, sleep=sleep)


ClusterFor = Callable[..., Cluster]


@pytest.fixture
def cluster_for(tmp_path: Path) -> ClusterFor:
    """``cluster_for(server, timeout=...)``: a Cluster whose kubeconfig points at ``server``."""

    def make(server: KubeApiServer, **options: object) -> Cluster:
        path = kubeconfig_for(server, tmp_path / f"kubeconfig-{server.port}")
        return Cluster.model_validate({"name": "test", "kubeconfig": str(path), **options})

    return make


@pytest.fixture
def client(kube_api: KubeApiServer, cluster_for: ClusterFor) -> Iterator[ReadOnlyClient]:
    with connect(cluster_for(kube_api, timeout=5)) as ro:
        yield ro

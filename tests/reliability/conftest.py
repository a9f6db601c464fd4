"""Fixtures of the reliability tests: a shop Git repository, fast retries, a live service."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftwatch.cluster.retry import RetryPolicy
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import shop_repo, write_config
from tests.reliability.live_service import LiveService


@pytest.fixture(scope="session")
def shop_git(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Git repository (branch ``main``) holding the shop manifests; do not change it."""
    return shop_repo(tmp_path_factory.mktemp("reliability") / "shop")


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline's retry policy with millisecond backoff (Retry-After is still obeyed).

    The number of attempts, what is retried and the Retry-After handling stay as
    shipped; only the exponential backoff between attempts is shortened, so a
    persistent fault costs milliseconds instead of seconds.
    """
    fast = functools.partial(RetryPolicy, base_delay=0.005, max_delay=0.02)
    monkeypatch.setattr("driftwatch.cluster.snapshot.RetryPolicy", fast)


LiveFactory = Callable[..., LiveService]


@pytest.fixture
def live_service(tmp_path: Path, kube_api_factory: object) -> Iterator[LiveFactory]:
    """``live_service(server, repo, **config)``: an in-process serve over ``server``.

    Depends on ``kube_api_factory`` so that services stop before the test servers.
    """
    started: list[LiveService] = []

    def start(
        server: KubeApiServer,
        repo: Path | str,
        *,
        cache_dir: Path | None = None,
        token_file: Path | None = None,
        **config: object,
    ) -> LiveService:
        n = len(started)
        state = tmp_path / f"state{n}"
        cache = cache_dir or tmp_path / f"cache{n}"
        kubeconfig = kubeconfig_for(server, tmp_path / f"kubeconfig{n}")
        path = write_config(
            tmp_path / f"driftwatch{n}.yaml",
            repo=str(repo),
            kubeconfig=kubeconfig,
            **config,  # type: ignore[arg-type]
        )
        service = LiveService(path, state_dir=state, cache_dir=cache, token_file=token_file)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()

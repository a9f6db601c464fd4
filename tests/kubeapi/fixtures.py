"""pytest fixtures for the Kubernetes API test server (load with ``pytest_plugins``).

- ``kube_api``: a started server seeded with ``shop/untouched-csa``;
- ``kube_api_factory``: start more, or other scenarios / stores;
- ``kubeconfig``: a kubeconfig file (bearer token) pointing at ``kube_api``.

Every server a test starts through these fixtures is checked at teardown: if it
recorded any request other than GET, the test fails (driftwatch never writes).
A test that sends a write on purpose sets ``server.allow_writes = True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .seed import store_for_scenario
from .server import KubeApiServer
from .store import Store

ServerFactory = Callable[..., KubeApiServer]


def kubeconfig_for(
    server: KubeApiServer, path: Path, *, context: str = "kubeapi-test", token: str | None = None
) -> Path:
    """Write a kubeconfig (bearer token auth) for ``server`` to ``path``; returns ``path``."""
    import json

    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubeapi", "cluster": {"server": server.url}}],
        "users": [{"name": "driftwatch-ro", "user": {"token": token or server.token or "none"}}],
        "contexts": [{"name": context, "context": {"cluster": "kubeapi", "user": "driftwatch-ro"}}],
        "current-context": context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1))
    return path


def assert_no_writes(server: KubeApiServer) -> None:
    """Fail the test if ``server`` recorded any request other than GET."""
    writes = server.writes()
    if writes and not server.allow_writes:
        shown = ", ".join(f"{r.method} {r.path}" for r in writes[:5])
        pytest.fail(
            f"the Kubernetes API test server received {len(writes)} write request(s): {shown}"
        )


@pytest.fixture
def kube_api_factory() -> Iterator[ServerFactory]:
    """Start test servers: ``factory(scenario="shop/untouched-csa", store=None, token=...)``."""
    started: list[KubeApiServer] = []

    def factory(
        scenario: str | None = "shop/untouched-csa", *, store: Store | None = None, **options: Any
    ) -> KubeApiServer:
        server = KubeApiServer(
            store if store is not None else store_for_scenario(scenario), **options
        )
        started.append(server.start())
        return server

    yield factory
    for server in started:
        server.stop()
    for server in started:
        assert_no_writes(server)


@pytest.fixture
def kube_api(kube_api_factory: ServerFactory) -> KubeApiServer:
    """A running test server seeded with the recorded ``shop/untouched-csa`` case."""
    return kube_api_factory()


@pytest.fixture
def kubeconfig(kube_api: KubeApiServer, tmp_path: Path) -> Path:
    """A kubeconfig file whose current context is ``kube_api`` (bearer token)."""
    return kubeconfig_for(kube_api, tmp_path / "kubeconfig")

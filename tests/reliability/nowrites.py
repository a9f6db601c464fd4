"""pytest plugin: across the whole session, no Kubernetes API test server may see a write.

The ``kube_api_factory`` fixture checks the servers it starts, per test; servers
started any other way (directly, by a module fixture, by an end-to-end test)
would escape that.  This plugin wraps ``KubeApiServer.log`` for the whole
session, so every request of every in-process server is seen; at the end of
the session any request other than GET to a server that did not opt in
(``allow_writes = True``, for tests that send a write on purpose) fails the run
and is listed in the summary.  Standalone servers (``python -m tests.kubeapi``)
report writes by exiting 3; the tests that start them check the exit code.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.kubeapi.server import KubeApiServer, RecordedRequest

_LOCK = threading.Lock()
_WRITES: list[tuple[KubeApiServer, RecordedRequest]] = []
_SEEN = {"requests": 0}
_ORIGINAL = KubeApiServer.log


def _log(self: KubeApiServer, request: RecordedRequest) -> None:
    _ORIGINAL(self, request)
    with _LOCK:
        _SEEN["requests"] += 1
        if request.method != "GET":
            _WRITES.append((self, request))


def unexpected_writes() -> list[RecordedRequest]:
    """Writes so far to servers that did not allow them."""
    with _LOCK:
        return [r for server, r in _WRITES if not server.allow_writes]


def pytest_configure(config: pytest.Config) -> None:
    KubeApiServer.log = _log  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    KubeApiServer.log = _ORIGINAL  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    if unexpected_writes():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    writes = unexpected_writes()
    if writes:
        terminalreporter.section("driftwatch wrote to a cluster", red=True)
        for request in writes[:20]:
            terminalreporter.line(f"{request.method} {request.path} -> {request.status}")
        terminalreporter.line(f"{len(writes)} write request(s) in total: driftwatch must only read")

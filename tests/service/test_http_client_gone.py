"""A client that hangs up before its answer is written costs nothing but its connection.

The server must not log an error with a traceback, nor try to write a 500 after
the 200's headers (a second answer on a connection that is gone), and it must
go on serving everyone else.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from driftwatch.sinks.http_api import ApiServer
from tests.service.helpers import http_json


class SlowBackend:
    """Answers /api/v1/targets with a big body, but only once ``go`` is set."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.answered = threading.Event()

    def ready(self) -> tuple[bool, str]:
        return True, "ready"

    def metrics(self) -> tuple[bytes, str]:
        return b"", "text/plain"

    def bearer_token(self) -> str | None:
        return None

    def api(self, path: str, params: Mapping[str, str]) -> Any:
        if not self.go.is_set():  # only the first request waits
            assert self.go.wait(10)
            self.answered.set()
        return {"targets": [{"name": f"t{i}", "pad": "x" * 1000} for i in range(4000)]}

    def refresh_target(self, target: str) -> Any:
        raise AssertionError("not used")

    def replica_shard(self) -> None:
        return None


@pytest.fixture
def server() -> Iterator[tuple[SlowBackend, str]]:
    backend = SlowBackend()
    api = ApiServer(backend, "127.0.0.1", 0)
    api.start()
    host, port = api.address
    try:
        yield backend, f"http://{host}:{port}"
    finally:
        api.stop()


def test_a_client_gone_before_the_answer_gets_no_500_and_no_error_log(
    server: tuple[SlowBackend, str], caplog: pytest.LogCaptureFixture
) -> None:
    backend, base = server
    caplog.set_level(logging.DEBUG, logger="driftwatch.sinks.http_api")
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"GET /api/v1/targets HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)  # the request is being handled: the backend waits for ``go``
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset: every later write to this connection fails
    backend.go.set()
    assert backend.answered.wait(10)

    deadline = time.monotonic() + 10
    while "client went away" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert "client went away" in caplog.text
    status, body = http_json(base, "/api/v1/targets")
    assert status == 200 and len(body["targets"]) == 4000

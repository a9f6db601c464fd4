"""The HTTP surface of ``serve`` against hostile or broken clients (beyond tests/service).

tests/service/test_http_api.py already covers malformed request lines, a huge
query (414), too many or repeated parameters, bad percent-encoding, a wrong or
missing token (401 ``unauthorized``) and scrapes during fake runs.  Added here:
header floods, idle connections holding sockets, every /api route and HEAD
behind the token with nothing echoed, tricks on the path, and scrapes during
real pipeline runs.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.kubeapi import KubeApiServer
from tests.reliability.conftest import LiveFactory
from tests.reliability.live_service import LiveService
from tests.service.helpers import http_get

TOKEN = "h77p-T0ken-a41c"


@pytest.fixture
def service(
    kube_api_factory: Callable[..., KubeApiServer],
    live_service: LiveFactory,
    shop_git: Path,
    tmp_path: Path,
) -> Iterator[LiveService]:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    yield live_service(kube_api_factory("shop/scale"), shop_git, token_file=token)


def raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and b'"}' in reply:
                break
    return reply


def test_header_floods_are_refused_and_the_server_goes_on(service: LiveService) -> None:
    huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-H: 1\r\n" * 200 + b"\r\n"
    for request in (huge, many):
        reply = raw(service.base, request)
        status = reply.split(b"\r\n", 1)[0].split()[1]
        assert status in (b"400", b"431"), reply[:200]
        assert reply.rstrip().endswith(b"}") and b"aaaa" not in reply
    assert service.get("/healthz")[0] == 200


def test_idle_connections_do_not_block_other_clients(service: LiveService) -> None:
    host, port = service.base.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(40)]
    try:
        for sock in idle[:20]:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        assert service.get("/healthz")[0] == 200
        assert service.get("/metrics")[0] == 200
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("path", ["/api/v1/drift", "/api/v1/targets", "/api/v1/events"])
def test_every_api_route_needs_the_token_and_a_401_says_nothing(
    service: LiveService, path: str
) -> None:
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Token {TOKEN}"},
        {"X-Api-Key": TOKEN},
    ]
    for headers in attempts:
        for method in ("GET", "HEAD"):
            request = f"{method} {path}?target=shop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            request += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            reply = raw(service.base, request.encode())
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.split()[1] == b"401", (headers, method, reply[:300])
            assert TOKEN[:8].encode() not in reply
            assert body in (b"", b'{"error": "unauthorized"}\n'), body
    assert http_get(service.base, path, token=TOKEN)[0] == 200


def test_path_tricks_do_not_reach_the_api_without_the_token(service: LiveService) -> None:
    for path in (
        "/metrics/../api/v1/drift",
        "/healthz/../api/v1/targets",
        "//api/v1/drift",
        "/api/v1/drift%2f",
        "/API/V1/DRIFT",
        "/api/v1/drift;x=1",
        "/api/v1/%64rift",
        "/\u00e4pi/v1/drift",
    ):
        request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        head, _, body = raw(service.base, request.encode()).partition(b"\r\n\r\n")
        assert head.split()[1] in (b"401", b"404"), (path, head)
        assert json.loads(body) in ({"error": "not found"}, {"error": "unauthorized"})


def test_scrapes_during_real_runs_always_get_a_complete_answer(service: LiveService) -> None:
    errors: list[str] = []
    done = threading.Event()

    def scrape() -> None:
        while not done.is_set():
            for path in ("/metrics", "/api/v1/drift", "/api/v1/targets", "/readyz"):
                status, _, body = http_get(service.base, path, token=TOKEN)
                if status != 200:
                    errors.append(f"{path}: {status}")
                elif path == "/metrics":
                    names = {f.name for f in text_string_to_metric_families(body.decode())}
                    if "driftwatch_resource_drift" not in names:
                        errors.append("metrics without the drift family")
                elif path != "/readyz":
                    json.loads(body)

    scrapers = [threading.Thread(target=scrape) for _ in range(4)]
    for thread in scrapers:
        thread.start()
    try:
        for _ in range(8):
            assert service.run()["status"] == "success"
    finally:
        done.set()
        for thread in scrapers:
            thread.join(30)
    assert errors == []

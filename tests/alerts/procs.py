"""Real Prometheus / Alertmanager processes and a webhook receiver for the alert tests.

Everything listens on 127.0.0.1 with its own temporary storage directory; the
helpers stop what they started (terminate, then kill) when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"
)
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)",
)
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not installed (apt-get install prometheus)"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def get_json(url: str, timeout: float = 5.0) -> Any:
    """GET ``url`` and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class WebhookReceiver:
    """An HTTP server that records every JSON body POSTed to it (Alertmanager webhooks)."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[Any] = []
        self.status = status
        self.refuse = 0
        """Answer this many of the next requests with 503 (then ``status``)."""
        self.retry_after: str | None = None
        """A ``Retry-After`` header value sent with each refusal."""
        self.arrivals: list[float] = []
        """``time.monotonic()`` of each request's arrival."""
        self.gate: threading.Event | None = None
        """When set to an Event, each request waits for it before answering."""
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                if receiver.gate is not None:
                    receiver.gate.wait(30)
                retry_after = None
                with receiver._lock:
                    receiver.bodies.append(body)
                    receiver.arrivals.append(arrived)
                    status = receiver.status
                    if receiver.refuse > 0:
                        receiver.refuse -= 1
                        status = 503
                        retry_after = receiver.retry_after
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def snapshot(self) -> list[Any]:
        """The bodies received so far."""
        with self._lock:
            return list(self.bodies)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every Alertmanager webhook notification received so far."""
        return [a for body in self.snapshot() for a in (body or {}).get("alerts", [])]

    def close(self) -> None:
        """Stop serving."""
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def webhook_receiver(status: int = 200) -> Iterator[WebhookReceiver]:
    """A running ``WebhookReceiver``, closed afterwards."""
    receiver = WebhookReceiver(status)
    try:
        yield receiver
    finally:
        receiver.close()


@contextlib.contextmanager
def process(args: list[str], ready_url: str, log_path: Path, what: str) -> Iterator[None]:
    """Run ``args`` until the block ends; wait for ``ready_url`` to answer 200 first."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not _ready(ready_url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log_path.read_text(errors="replace")[-2000:]
                    pytest.fail(f"{what} did not become ready (exit {proc.poll()}):\n{text}")
                time.sleep(0.1)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextlib.contextmanager
def alertmanager(tmp_path: Path, webhook_url: str) -> Iterator[str]:
    """A real Alertmanager routing everything to ``webhook_url`` at once; yields its URL."""
    assert ALERTMANAGER is not None
    port = free_port()
    home = tmp_path / f"alertmanager-{port}"
    home.mkdir()
    config = {
        "route": {
            "receiver": "hook",
            "group_by": ["..."],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {"name": "hook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}
        ],
    }
    (home / "alertmanager.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"
    args = [
        ALERTMANAGER,
        f"--config.file={home / 'alertmanager.yml'}",
        f"--storage.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    with process(args, f"{url}/-/ready", home / "log.txt", "alertmanager"):
        yield url


@contextlib.contextmanager
def prometheus(
    tmp_path: Path,
    scrape_port: int,
    rule_files: list[Path],
    alertmanager_url: str,
    job: str = "driftwatch",
) -> Iterator[str]:
    """A real Prometheus scraping 127.0.0.1:``scrape_port`` every second; yields its URL."""
    assert PROMETHEUS is not None
    port = free_port()
    home = tmp_path / f"prometheus-{port}"
    home.mkdir()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [alertmanager_url.removeprefix("http://")]}]}
            ]
        },
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}]}
        ],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"
    args = [
        PROMETHEUS,
        f"--config.file={home / 'prometheus.yml'}",
        f"--storage.tsdb.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--rules.alert.resend-delay=1s",
        "--rules.alert.for-grace-period=1s",
        "--log.level=warn",
    ]
    with process(args, f"{url}/-/ready", home / "log.txt", "prometheus"):
        yield url

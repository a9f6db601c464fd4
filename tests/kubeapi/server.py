"""The HTTP face of the Kubernetes API test server.

A threaded ``http.server`` on 127.0.0.1 speaking HTTP/1.1 (keep-alive, chunked
watch streams), routing the paths the ``kubernetes`` client uses.  Every request
is recorded (method, path, query, status) before anything else happens; write
verbs are answered 403 like a read-only identity and never touch the store.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import recordings
from .faults import Fault, FaultPlan
from .handlers import ResourceHandler, status_body
from .store import Store

_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(slots=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    api: KubeApiServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, resets under test) are normal here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        if self.server.api.is_down:
            self._abort()
            return
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    # -------------------------------------------------------------- plumbing

    def _abort(self) -> None:
        """Close the connection with a TCP reset, answering nothing."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        cut: bool = False,
    ) -> None:
        """Answer with a whole body (``cut``: only half of it, then reset)."""
        self.record.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._abort()
            return
        self.wfile.write(body)

    def send_status(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer with a ``Status`` object, as kube-apiserver does for errors."""
        self.send_bytes(
            code, status_body(code, reason, message, details, metadata), headers=headers
        )

    def start_chunked(self) -> None:
        """Begin a streamed (watch) answer."""
        self.record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send_chunk(self, data: bytes) -> None:
        """One chunk of a streamed answer (empty ``data`` ends the stream)."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # -------------------------------------------------------------- verbs

    def _begin(self) -> tuple[str, dict[str, str]] | None:
        api = self.server.api
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.record = RecordedRequest(
            self.command, parts.path, query, headers={k.lower(): v for k, v in self.headers.items()}
        )
        api.log(self.record)
        if api.is_down:
            self._abort()
            return None
        if api.token is not None and self.headers.get("Authorization") != f"Bearer {api.token}":
            self.send_status(401, "Unauthorized", "Unauthorized")
            return None
        fault = api.faults.take(self.command, parts.path, query)
        if fault is not None and not self._apply_fault(fault, query):
            return None
        self.cut = fault is not None and fault.action == "reset_mid_body"
        return parts.path, query

    def _apply_fault(self, fault: Fault, query: dict[str, str]) -> bool:
        """Act out a fault; True when the request should still be served normally."""
        if fault.action == "delay":
            time.sleep(fault.delay)
            return True
        if fault.action == "reset_mid_body":
            return True
        if fault.action == "hang":
            self.server.api.stopping.wait()
            self._abort()
            return False
        if fault.action == "trickle":
            self._trickle(fault.delay or 1.0)
            return False
        if fault.action == "reset":
            self._abort()
            return False
        if fault.action == "expire":
            from .handlers import expired_continue

            self.send_bytes(410, expired_continue(query.get("continue", "")))
            return False
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        reason = {
            429: "TooManyRequests",
            500: "InternalError",
            503: "ServiceUnavailable",
            504: "Timeout",
            403: "Forbidden",
            404: "NotFound",
        }.get(fault.status, "InternalError")
        self.send_status(
            fault.status, reason, fault.message or f"injected fault: {reason}", headers=headers
        )
        return False

    def _trickle(self, every: float) -> None:
        """Headers of a long answer, then a byte every ``every`` seconds until the server stops."""
        self.record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.wfile.write(b"{")
        self.wfile.flush()
        while not self.server.api.stopping.wait(every):
            self.wfile.write(b" ")
            self.wfile.flush()
        self._abort()

    def do_GET(self) -> None:
        begun = self._begin()
        if begun is None:
            return
        path, query = begun
        ResourceHandler(self, self.server.api, path, query).serve()

    def _write(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        begun = self._begin()
        if begun is None:
            return
        path, _query = begun
        verb = _WRITE_VERBS.get(self.command, self.command.lower())
        self.send_status(
            403,
            "Forbidden",
            f'{path} is forbidden: User "driftwatch-ro" cannot {verb} this resource',
            details={"kind": path.rsplit("/", 1)[-1]},
        )

    do_POST = do_PUT = do_PATCH = do_DELETE = _write  # noqa: N815


class KubeApiServer:
    """The test server: start it, point a kubeconfig at ``url``, inspect ``requests``."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        token: str | None = "driftwatch-test-token",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.store = store or Store()
        self.token = token
        self.faults = FaultPlan()
        self.bookmark_interval = 1.0
        self.max_watch_seconds = 60.0
        self.allow_writes = False
        """Set by a test that sends writes on purpose (the no-write check then passes)."""
        self.stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._down_until: float | None = None
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.api = self
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> KubeApiServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"kubeapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and end open watch streams."""
        self.stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- request log

    def log(self, request: RecordedRequest) -> None:
        """Record one request (called by the handler first thing)."""
        with self._log_lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._log_lock:
            self._requests.clear()

    def writes(self) -> list[RecordedRequest]:
        """Every request with a method other than GET (there must be none)."""
        return [r for r in self.requests if r.method != "GET"]

    # -------------------------------------------------------------- faults

    def add_fault(self, action: str, path: str | None = None, **options: Any) -> Fault:
        """Install a fault rule (see ``tests.kubeapi.faults``); returns it for ``hits``."""
        return self.faults.add(Fault(action, path=path, **options))

    def fail(self, path: str, status: int = 500, times: int | None = 1, **options: Any) -> Fault:
        """Answer matching requests with ``status`` and a Status body."""
        return self.add_fault("status", path, status=status, times=times, **options)

    def throttle(self, path: str, retry_after: float = 1, times: int | None = 1) -> Fault:
        """Answer 429 TooManyRequests with a Retry-After header."""
        return self.add_fault("status", path, status=429, retry_after=retry_after, times=times)

    def delay(self, path: str, seconds: float, times: int | None = 1) -> Fault:
        """Answer late (longer than the client timeout: a timeout)."""
        return self.add_fault("delay", path, delay=seconds, times=times)

    def reset(
        self,
        path: str,
        *,
        mid_body: bool = True,
        times: int | None = 1,
        skip: int = 0,
        query: dict[str, str | None] | None = None,
    ) -> Fault:
        """Close the connection (mid-body: after half the answer), e.g. on the Nth page via skip."""
        return self.add_fault(
            "reset_mid_body" if mid_body else "reset",
            path,
            times=times,
            skip=skip,
            query=query or {},
        )

    def hang(self, path: str, times: int | None = None) -> Fault:
        """Accept matching requests and never answer them (until the server stops)."""
        return self.add_fault("hang", path, times=times)

    def trickle(self, path: str, every: float = 1.0, times: int | None = None) -> Fault:
        """Answer matching requests one body byte every ``every`` seconds, never finishing."""
        return self.add_fault("trickle", path, delay=every, times=times)

    def expire_continue(self, path: str, times: int | None = 1) -> Fault:
        """Answer 410 Expired to list requests carrying a continue token."""
        return self.add_fault("expire", path, times=times, query={"continue": None})

    @property
    def is_down(self) -> bool:
        """Whether connections are being reset right now."""
        until = self._down_until
        return until is not None and time.monotonic() < until

    def go_down(self, seconds: float | None = None) -> None:
        """Reset every connection, for ``seconds`` or until ``come_up``."""
        self._down_until = time.monotonic() + (seconds if seconds is not None else 1e9)

    def come_up(self) -> None:
        """Serve again after ``go_down``."""
        self._down_until = None

    # -------------------------------------------------------------- discovery edits

    def hide_group(self, group: str) -> None:
        """Stop serving a group (its discovery and resources), as if its CRD were not installed."""
        self.store.hidden_groups.add(group)

    def serve_openapi(self, path: str, document: dict[str, Any]) -> None:
        """Serve ``document`` as the OpenAPI v3 document of ``path`` (``apis/apps/v1``).

        The index at ``/openapi/v3`` then names it with a new ``hash``, as a real
        server does when a schema changes (a CRD edited, an upgrade).
        """
        self.store.openapi_documents[path] = json.dumps(document).encode()


def version_bytes() -> bytes:
    """The recorded ``/version`` answer."""
    return recordings.read_bytes("version.json")

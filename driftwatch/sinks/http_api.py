"""The HTTP endpoint of ``driftwatch serve``: transport, routing, auth and limits only.

One port, stdlib ``ThreadingHTTPServer`` (a thread per connection, so a scrape
never waits for a run or another request).  Routes::

    GET /metrics            Prometheus text format
    GET /healthz            200 while the process is alive
    GET /readyz             200 once a report exists (and stays so), else 503
    GET /api/v1/drift       ?target=&namespace=&kind=&name=&all=1
    GET /api/v1/targets
    GET /api/v1/events      ?since=&type=&target=&resource=&limit=
    POST /api/v1/refresh    ?target=NAME or JSON {"target": NAME}: run it now (202)
    everything else         the web pages (``driftwatch.sinks.web``), when given

``/api/*`` takes an optional bearer token (constant-time compare; a 401 says
nothing but ``unauthorized``).  Without a token, ``POST /api/v1/refresh`` is
accepted from loopback addresses only (403 otherwise).  Every other path is
GET/HEAD only (405).  Every error is JSON ``{"error": "..."}``.  The data comes
from an :class:`ApiBackend`; it raises :class:`ApiError` for 4xx.

A sharded replica (``serve --shard I/N``) answers a request naming a target that
another replica runs with a 307 to that replica (:meth:`_Handler.redirect_to_owner`);
``/readyz`` says which shard it is.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, urlsplit

from driftwatch.config.sharding import Shard, owner_of
from driftwatch.errors import ConfigError, truncate
from driftwatch.sinks.web.http import PageHandler, WebRequest, WebResponse
from driftwatch.sinks.web.routes import target_of

log = logging.getLogger(__name__)

MAX_URL = 4096
"""Longest accepted request target (path + query); longer gets 414."""
MAX_PARAMS = 16
JSON_TYPE = "application/json; charset=utf-8"
REFRESH = "/api/v1/refresh"
MAX_BODY = 4096
"""Largest accepted request body (the refresh webhook's JSON)."""
"""Web pages of one target live under ``/targets/NAME``: redirected to the replica running it."""

_API_PARAMS: dict[str, frozenset[str]] = {
    "/api/v1/drift": frozenset({"target", "namespace", "kind", "name", "all", "direction"}),
    "/api/v1/targets": frozenset(),
    "/api/v1/events": frozenset({"since", "type", "target", "resource", "limit"}),
}


class ApiError(Exception):
    """A client-visible error: HTTP status and a short message (never a secret)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ApiBackend(Protocol):
    """Where the endpoints get their data (the service implements it)."""

    def ready(self) -> tuple[bool, str]:
        """Whether to answer 200 on /readyz, and why (not)."""

    def ready_detail(self) -> dict[str, Any]:
        """More /readyz fields (e.g. each watch's health); they do not change the status."""

    def metrics(self) -> tuple[bytes, str]:
        """The exposition and its content type."""

    def bearer_token(self) -> str | None:
        """The token /api/* requires, or None when it is open."""

    def api(self, path: str, params: Mapping[str, str]) -> Any:
        """The JSON body of an /api/ route (params already checked against the route)."""

    def refresh_target(self, target: str) -> Any:
        """Start a run of ``target`` now (JSON answer); ApiError 404 if unknown."""

    def replica_shard(self) -> Shard | None:
        """This replica's shard of the targets; None when it runs them all."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``[v6]:PORT`` -> (host, port); ConfigError if malformed."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"invalid listen address {text!r} (use HOST:PORT, e.g. 0.0.0.0:8080)")
    return host, int(port_text)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30
    server_version = "driftwatch"
    error_content_type = JSON_TYPE
    error_message_format = '{"error": "%(message)s"}'
    _ROUTES: ClassVar[frozenset[str]] = frozenset({"/metrics", "/healthz", "/readyz", *_API_PARAMS})

    def version_string(self) -> str:
        """``Server:`` header without the Python version."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every error as JSON, including the stdlib parser's (not echoing the request)."""
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers
        text = HTTPStatus(code).phrase.lower()
        self._send(code, {"error": text}, close=code >= 400 and code not in (401, 404))

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _not_allowed(self) -> None:
        self._send(405, {"error": "method not allowed"}, headers={"Allow": "GET, HEAD"}, close=True)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

    def do_POST(self) -> None:
        if urlsplit(self.path[:MAX_URL]).path.rstrip("/") != REFRESH:
            if not self._page("POST"):
                self._not_allowed()
            return
        try:
            if len(self.path) > MAX_URL:
                raise ApiError(414, "request URI too long")
            body = self._body()
            backend = self.server.backend
            token = backend.bearer_token()
            if token is None and not is_loopback(self.client_address[0]):
                raise ApiError(403, "refresh without a token is only accepted from loopback")
            self._authorize(token)
            params = _params(urlsplit(self.path).query, frozenset({"target"}))
            target = params.get("target") or _target_of(body)
            if not self.redirect_to_owner(target):
                self._send(202, backend.refresh_target(target))
        except ApiError as e:
            headers = {"WWW-Authenticate": 'Bearer realm="driftwatch"'} if e.status == 401 else {}
            self._send(
                e.status, {"error": e.message}, headers=headers, close=e.status in (400, 411, 413)
            )
        except Exception:
            log.exception("HTTP POST %s failed", REFRESH)
            self._send(500, {"error": "internal error"})

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(411, "send the body with a Content-Length")
        length_text = self.headers.get("Content-Length") or "0"
        if not length_text.isdigit():
            raise ApiError(400, "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY:
            raise ApiError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _dispatch(self, head: bool) -> None:
        try:
            if len(self.path) > MAX_URL:
                raise ApiError(414, "request URI too long")
            url = urlsplit(self.path)
            path = url.path.rstrip("/") or "/"
            if path == REFRESH:
                self._send(
                    405, {"error": "method not allowed"}, headers={"Allow": "POST"}, head=head
                )
                return
            if self.redirect_to_owner(target_of(url.path), head=head):
                return
            if path not in self._ROUTES:
                if self._page("HEAD" if head else "GET"):
                    return
                raise ApiError(404, "not found")
            backend = self.server.backend
            if path == "/healthz":
                self._send(200, {"status": "ok"}, head=head)
            elif path == "/readyz":
                ok, why = backend.ready()
                answer: dict[str, Any] = {"status": why} if ok else {"error": why}
                if (shard := backend.replica_shard()) is not None:
                    answer["shard"] = shard.to_json()
                answer.update(backend.ready_detail())
                self._send(200 if ok else 503, answer, head=head)
            elif path == "/metrics":
                body, content_type = backend.metrics()
                self._send_bytes(200, body, content_type, head=head)
            else:
                self._authorize(backend.bearer_token(), session=True)
                params = _params(url.query, _API_PARAMS[path])
                if not self.redirect_to_owner(params.get("target"), head=head):
                    self._send(200, backend.api(path, params), head=head)
        except ApiError as e:
            headers = {"WWW-Authenticate": 'Bearer realm="driftwatch"'} if e.status == 401 else {}
            self._send(e.status, {"error": e.message}, headers=headers, head=head)
        except Exception:
            log.exception("HTTP %s failed", urlsplit(self.path[:MAX_URL]).path)
            self._send(500, {"error": "internal error"}, head=head)

    def _page(self, method: str) -> bool:
        """Answer a web page (``driftwatch.sinks.web``) if the path is one; False if not."""
        pages = self.server.pages
        if pages is None or len(self.path) > MAX_URL:
            return False
        try:
            if method == "POST" and self.redirect_to_owner(target_of(urlsplit(self.path).path)):
                return True
            body = self._body() if method == "POST" else b""
        except ApiError as e:
            self._send(e.status, {"error": e.message}, close=e.status != 421)
            return True
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = WebRequest(method, self.path, headers, body, self.client_address[0])
        response: WebResponse | None = pages.handle(request)
        if response is None:
            return False
        self._send_bytes(
            response.status, response.body, response.content_type, headers=response.headers
        )
        return True

    def redirect_to_owner(self, target: str | None, *, head: bool = False) -> bool:
        """Answer a request about another replica's target with a 307 to it; True if answered.

        Every route that names a target calls this before looking the target up, so a
        request that a Service sent to the wrong replica is redirected, never a 404.
        Without a ``--peer-url`` template the answer is 421 naming the owning shard.
        """
        shard = self.server.backend.replica_shard()
        if not target or shard is None or shard.owns(target):
            return False
        owner = owner_of(target, shard.count)
        asked = urlsplit(self.path)
        url = shard.redirect_url(target, asked.path + (f"?{asked.query}" if asked.query else ""))
        if url is None:
            raise ApiError(
                421,
                f"target {truncate(target, 64)!r} is run by shard {owner}/{shard.count}, "
                f"this is shard {shard} (no --peer-url to redirect to)",
            )
        answer = {"redirect": url, "shard": owner}
        self._send(307, answer, headers={"Location": url}, head=head)
        return True

    def _authorize(self, token: str | None, *, session: bool = False) -> None:
        """The bearer token, or (``session``: for reads) a page login's session cookie."""
        if token is None:
            return
        pages = self.server.pages
        if session and pages is not None and pages.session_valid(self.headers.get("Cookie")):
            return
        scheme, _, given = (self.headers.get("Authorization") or "").partition(" ")
        expected = token.encode()
        if not (
            scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)
        ):
            raise ApiError(401, "unauthorized")

    def _send(
        self,
        status: int,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        head: bool = False,
        close: bool = False,
    ) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode() + b"\n"
        self._send_bytes(status, body, JSON_TYPE, headers=headers, head=head, close=close)

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        head: bool = False,
        close: bool = False,
    ) -> None:
        """Write one whole answer; a client gone mid-write only closes the connection.

        Nothing else may be written after a failed write: the status line may be
        out already, and a second answer (a 500) would follow a 200's headers.
        """
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        try:
            self.end_headers()
            if not head and self.command != "HEAD":
                self.wfile.write(body)
        except OSError as e:  # broken pipe, reset, write timeout: the client went away
            self.close_connection = True
            log.debug("http %s: client went away (%s)", self.address_string(), type(e).__name__)


def is_loopback(host: str) -> bool:
    """Whether a client address is a loopback one (IPv4-mapped IPv6 too)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _target_of(body: bytes) -> str:
    """The ``target`` of a refresh's JSON body (400 when there is none)."""
    if not body.strip():
        raise ApiError(400, 'name the target: ?target=NAME or a JSON body {"target": NAME}')
    try:
        parsed = json.loads(body)
    except ValueError as e:  # also UnicodeDecodeError
        raise ApiError(400, "the body is not JSON") from e
    target = parsed.get("target") if isinstance(parsed, dict) else None
    if not isinstance(target, str) or not target:
        raise ApiError(400, 'the JSON body needs a string "target"')
    return target


def _params(query: str, allowed: frozenset[str]) -> dict[str, str]:
    try:
        parsed = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_PARAMS, errors="strict")
    except ValueError as e:  # also UnicodeDecodeError
        raise ApiError(400, "malformed query string") from e
    out: dict[str, str] = {}
    for name, values in parsed.items():
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ApiError(400, f"unknown parameter {name[:40]!r} (known: {known})")
        if len(values) > 1:
            raise ApiError(400, f"parameter {name!r} given more than once")
        out[name] = values[0]
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], backend: ApiBackend, pages: PageHandler | None = None
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.backend = backend
        self.pages = pages
        super().__init__(address, _Handler)


class ApiServer:
    """The HTTP server, serving on a background thread."""

    def __init__(
        self, backend: ApiBackend, host: str, port: int, pages: PageHandler | None = None
    ) -> None:
        try:
            self._server = _Server((host, port), backend, pages)
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="driftwatch-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the real port when 0 was asked for)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

"""A local HTTP Git remote (``git http-backend`` behind a tiny server) with basic auth.

Serves the bare repositories under ``root`` at ``http://127.0.0.1:<port>/<name>.git``
through Git's own smart-HTTP CGI, so driftwatch fetches over real HTTP with a
real token.  Every request is recorded (method, path, service, whether it was
authorised); a push (``git-receive-pack``) is refused and recorded, so a test
can prove driftwatch never pushes.  ``down`` makes every request fail with 503.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class GitRequest:
    """One request as the remote saw it."""

    method: str
    path: str
    service: str
    authorized: bool
    authorization: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    remote: GitHttpRemote


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        remote = self.server.remote
        url = urlsplit(self.path)
        service = (parse_qs(url.query).get("service") or [""])[0] or url.path.rsplit("/", 1)[-1]
        auth = self.headers.get("Authorization") or ""
        authorized = auth == remote.expected_authorization
        remote.record(GitRequest(self.command, url.path, service, authorized, auth))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if remote.down:
            self._reply(503, b"remote down\n")
            return
        if not authorized:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "receive-pack" in service:
            self._reply(403, b"pushing is not allowed here\n")
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(remote.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type") or "",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "driftwatch",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding") or "",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol") or "",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(remote.root),
        }
        proc = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
        )
        raw = proc.stdout
        cut, width = raw.find(b"\r\n\r\n"), 4
        if cut < 0:
            cut, width = raw.find(b"\n\n"), 2
        head, payload = raw[:cut], raw[cut + width :]
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GitHttpRemote:
    """Smart-HTTP Git remote on 127.0.0.1 for the bare repositories under ``root``."""

    def __init__(self, root: Path, *, username: str, token: str) -> None:
        self.root = root
        self.expected_authorization = "Basic " + base64.b64encode(
            f"{username}:{token}".encode()
        ).decode("ascii")
        self.down = False
        self._lock = threading.Lock()
        self._requests: list[GitRequest] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.remote = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def url(self, name: str) -> str:
        """``http://127.0.0.1:<port>/<name>``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/{name}"

    def record(self, request: GitRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[GitRequest]:
        """Every request so far."""
        with self._lock:
            return list(self._requests)

    def pushes(self) -> list[GitRequest]:
        """Requests for the push service (there must be none)."""
        return [r for r in self.requests if "receive-pack" in r.service]

    def start(self) -> GitHttpRemote:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

"""Serving the test server in its own process until signalled (standalone mode, bench)."""

from __future__ import annotations

import signal
import sys
import threading

from .server import KubeApiServer


def serve_until_stopped(server: KubeApiServer, banner: str) -> int:
    """Print ``banner`` once serving, run until SIGTERM/SIGINT, stop; 3 if any write arrived."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(banner, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    writes = server.writes()
    if writes:
        print(f"received {len(writes)} write request(s)", file=sys.stderr)
        return 3
    return 0

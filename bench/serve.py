"""The benchmark's cluster: the Kubernetes API test server seeded with the generated live objects.

Runs in its own process so the measured driftwatch process's CPU and RSS are
its own.  ``python -m bench.serve --objects N --kubeconfig PATH`` prints
``ready <url> objects=<count> seed_seconds=<s>`` once serving, then serves on
127.0.0.1 until SIGTERM or SIGINT.  Exits 3 if any write request was received
(driftwatch must never write).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.generate import Layout, live_objects


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, wait for a signal."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--objects", type=int, required=True)
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--ownership", action="store_true", help="SSA and controller shares")
    args = parser.parse_args(argv)

    from tests.kubeapi.fixtures import kubeconfig_for
    from tests.kubeapi.server import KubeApiServer
    from tests.kubeapi.standalone import serve_until_stopped
    from tests.kubeapi.store import Store

    started = time.perf_counter()
    store = Store()
    store.seed(live_objects(Layout(args.objects, args.per_namespace), ownership=args.ownership))
    seeded = time.perf_counter() - started
    server = KubeApiServer(store, port=args.port).start()
    kubeconfig_for(server, args.kubeconfig)
    banner = f"ready {server.url} objects={store.count()} seed_seconds={seeded:.2f}"
    return serve_until_stopped(server, banner)


if __name__ == "__main__":
    sys.exit(main())

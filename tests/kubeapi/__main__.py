"""Run the Kubernetes API test server standalone, for benchmarks and e2e tests.

``python -m tests.kubeapi --port 0 --scenario shop/untouched-csa [--bulk 50000]
[--kubeconfig PATH]`` prints ``ready <url>`` once serving and runs until SIGTERM or
Ctrl-C.  Exits 3 if any write request was received.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .fixtures import kubeconfig_for
from .seed import store_for_scenario, synthetic_config_maps
from .server import KubeApiServer
from .standalone import serve_until_stopped


def main(argv: list[str] | None = None) -> int:
    """Parse flags, serve until told to stop."""
    parser = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--scenario", default="shop/untouched-csa", help="recorded case to seed ('' for none)"
    )
    parser.add_argument(
        "--bulk", type=int, default=0, help="add this many ConfigMaps cloned from a recorded one"
    )
    parser.add_argument(
        "--bulk-namespaces", default="bench", help="comma-separated namespaces for the bulk objects"
    )
    parser.add_argument("--token", default="driftwatch-test-token")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for the server here")
    args = parser.parse_args(argv)
    store = store_for_scenario(args.scenario or None)
    if args.bulk:
        namespaces = tuple(n for n in args.bulk_namespaces.split(",") if n)
        store.seed(synthetic_config_maps(args.bulk, namespaces))
    server = KubeApiServer(store, token=args.token or None, port=args.port).start()
    if args.kubeconfig:
        kubeconfig_for(server, args.kubeconfig)
    return serve_until_stopped(server, f"ready {server.url} objects={store.count()}")


if __name__ == "__main__":
    sys.exit(main())

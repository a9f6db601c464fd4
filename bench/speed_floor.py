"""The floor as a whole process: import the client, load the kubeconfig, LIST, parse the YAML.

``python -m bench.speed_floor --kubeconfig K --repo DIR`` is the least a new
process can do to read what ``driftwatch check`` reads: ``import kubernetes``,
a client from the kubeconfig, every declared type listed across all
namespaces as raw JSON (4 types at a time, driftwatch's concurrency; the same
page size), and every YAML file parsed with ``yaml.load_all(CSafeLoader)``.

The lists go through the bare ``ApiClient`` (``param_serialize`` +
``call_api``, ``json.loads`` of each page), not the typed ``CoreV1Api``-style
classes ``bench.floor`` uses: importing those generated modules costs a new
process more than a second of CPU here, which would flatter every ratio.
``--lists-only`` leaves the YAML out (the floor of a run whose Git side is
already known).  ``--repeat 2`` lists twice in the process: the second listing,
on a warm interpreter, is the floor of a warm ``serve`` run.  Prints one JSON
object with the in-process timings; the caller times the whole process.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()


PATHS = (
    "/api/v1/namespaces",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "/api/v1/configmaps",
    "/api/v1/secrets",
    "/api/v1/services",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets",
    "/apis/networking.k8s.io/v1/ingresses",
    "/apis/rbac.authorization.k8s.io/v1/roles",
    "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "/apis/example.com/v1/widgets",
)
"""Every type the benchmark's repository declares, across all namespaces."""


def list_all(kubeconfig: Path, page_size: int, threads: int = 4) -> float:
    """Seconds to list every type once (client creation excluded), raw JSON pages."""
    from concurrent.futures import ThreadPoolExecutor

    from kubernetes import config

    loader: Any = config.new_client_from_config
    api: Any = loader(config_file=str(kubeconfig))

    def one(path: str) -> int:
        token, objects = "", 0
        while True:
            query = [("limit", str(page_size))] + ([("continue", token)] if token else [])
            method, url, headers, body, post = api.param_serialize(
                "GET",
                path,
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = api.call_api(method, url, header_params=headers, body=body, post_params=post)
            page = json.loads(response.read())
            objects += len(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return objects

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        found = sum(pool.map(one, PATHS))
    seconds = time.perf_counter() - started
    api.close()
    if not found:
        raise SystemExit("the floor listed nothing")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Measure; print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed_floor", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--lists-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="list this often (in-process)")
    args = parser.parse_args(argv)

    import kubernetes  # noqa: F401  (timed: what every client process pays)

    from bench.floor import measure_yaml

    imported = time.perf_counter() - STARTED
    lists, list_cpu = [], []
    for _ in range(max(1, args.repeat)):
        cpu = time.process_time()
        lists.append(list_all(args.kubeconfig, args.page_size))
        list_cpu.append(time.process_time() - cpu)
    yaml_seconds = None if args.lists_only else measure_yaml(args.repo)["seconds"]
    print(
        json.dumps(
            {
                "import_seconds": imported,
                "list_seconds": lists,
                "list_cpu_seconds": list_cpu,
                "yaml_seconds": yaml_seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The floor: the least work that reads what driftwatch reads, measured in its own process.

* list every declared resource type with the bare ``kubernetes`` client, raw
  (``_preload_content=False``, then ``json.loads`` of the body), across all
  namespaces, ``limit``/``continue`` with the same page size, nothing kept —
  one type after the other, and also one type per thread with as many threads
  as driftwatch uses (4): the faster of the two is the floor;
* parse every YAML file of the repository with PyYAML's C loader
  (``yaml.load_all(text, Loader=CSafeLoader)``), nothing else.

Also measured, for information (not part of the floor): the same lists issued
per namespace (4 threads), as driftwatch issues them for a target whose objects
sit in known namespaces.

``python -m bench.floor --kubeconfig K --repo DIR`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

Lister = Callable[..., Any]


def _listers(api: Any) -> dict[str, tuple[Lister, Lister | None]]:
    """Kind -> (list across all namespaces, list in one namespace) of the typed client."""
    from kubernetes import client

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    net, rbac = client.NetworkingV1Api(api), client.RbacAuthorizationV1Api(api)
    ext, custom = client.ApiextensionsV1Api(api), client.CustomObjectsApi(api)

    def widgets(**kw: Any) -> Any:
        return custom.list_cluster_custom_object("example.com", "v1", "widgets", **kw)

    def widgets_in(namespace: str, **kw: Any) -> Any:
        return custom.list_namespaced_custom_object("example.com", "v1", namespace, "widgets", **kw)

    return {
        "Namespace": (core.list_namespace, None),
        "CustomResourceDefinition": (ext.list_custom_resource_definition, None),
        "ConfigMap": (core.list_config_map_for_all_namespaces, core.list_namespaced_config_map),
        "Secret": (core.list_secret_for_all_namespaces, core.list_namespaced_secret),
        "Service": (core.list_service_for_all_namespaces, core.list_namespaced_service),
        "Deployment": (apps.list_deployment_for_all_namespaces, apps.list_namespaced_deployment),
        "StatefulSet": (
            apps.list_stateful_set_for_all_namespaces,
            apps.list_namespaced_stateful_set,
        ),
        "Ingress": (net.list_ingress_for_all_namespaces, net.list_namespaced_ingress),
        "Role": (rbac.list_role_for_all_namespaces, rbac.list_namespaced_role),
        "RoleBinding": (
            rbac.list_role_binding_for_all_namespaces,
            rbac.list_namespaced_role_binding,
        ),
        "Widget": (widgets, widgets_in),
    }


def _list_all(call: Lister, page_size: int, *args: Any) -> tuple[int, int]:
    """(objects, requests) of one paginated raw list."""
    token: str | None = None
    objects = requests = 0
    while True:
        kwargs: dict[str, Any] = {"limit": page_size, "_preload_content": False}
        if token:
            kwargs["_continue"] = token
        response = call(*args, **kwargs)
        page = json.loads(response.data)
        requests += 1
        objects += len(page.get("items") or ())
        token = (page.get("metadata") or {}).get("continue") or None
        if not token:
            return objects, requests


def measure_lists(
    kubeconfig: Path,
    page_size: int,
    namespaces: list[str] | None = None,
    *,
    threads: int = 1,
) -> dict[str, Any]:
    """Seconds, objects and requests to list every type once (per namespace if given)."""
    from kubernetes import config

    loader: Any = config.new_client_from_config
    api = loader(config_file=str(kubeconfig))
    listers = _listers(api)

    def one_type(pair: tuple[Lister, Lister | None]) -> tuple[int, int]:
        all_namespaces, in_namespace = pair
        if namespaces is None or in_namespace is None:
            return _list_all(all_namespaces, page_size)
        objects = requests = 0
        for namespace in namespaces:
            found, made = _list_all(in_namespace, page_size, namespace)
            objects, requests = objects + found, requests + made
        return objects, requests

    started = time.perf_counter()
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            counts = list(pool.map(one_type, listers.values()))
    else:
        counts = [one_type(pair) for pair in listers.values()]
    seconds = time.perf_counter() - started
    api.close()
    return {
        "seconds": seconds,
        "objects": sum(c[0] for c in counts),
        "requests": sum(c[1] for c in counts),
    }


def measure_yaml(repo: Path) -> dict[str, Any]:
    """Seconds to read and parse every YAML file under ``repo`` (``.git`` skipped)."""
    loader: Any = yaml.CSafeLoader
    started = time.perf_counter()
    files = docs = 0
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.endswith((".yaml", ".yml")):
                text = Path(dirpath, name).read_text()
                docs += sum(1 for _ in yaml.load_all(text, Loader=loader))
                files += 1
    return {"seconds": time.perf_counter() - started, "files": files, "docs": docs}


def main(argv: list[str] | None = None) -> int:
    """Measure the floor ``--repeat`` times; print medians and every sample as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="driftwatch's list concurrency")
    parser.add_argument(
        "--namespaces", default="", help="comma-separated: also time per-namespace lists"
    )
    args = parser.parse_args(argv)
    sequential, concurrent, parses = [], [], []
    for _ in range(args.repeat):
        sequential.append(measure_lists(args.kubeconfig, args.page_size))
        concurrent.append(measure_lists(args.kubeconfig, args.page_size, threads=args.threads))
        parses.append(measure_yaml(args.repo))
    seq = statistics.median(s["seconds"] for s in sequential)
    par = statistics.median(s["seconds"] for s in concurrent)
    result: dict[str, Any] = {
        "list_seconds": min(seq, par),
        "list_sequential_seconds": seq,
        "list_concurrent_seconds": par,
        "list_objects": sequential[0]["objects"],
        "list_requests": sequential[0]["requests"],
        "yaml_seconds": statistics.median(s["seconds"] for s in parses),
        "yaml_files": parses[0]["files"],
        "yaml_docs": parses[0]["docs"],
        "samples": {
            "list_sequential": [s["seconds"] for s in sequential],
            "list_concurrent": [s["seconds"] for s in concurrent],
            "yaml": [s["seconds"] for s in parses],
        },
    }
    result["seconds"] = result["list_seconds"] + result["yaml_seconds"]
    if args.namespaces:
        per_ns = measure_lists(
            args.kubeconfig, args.page_size, args.namespaces.split(","), threads=args.threads
        )
        result["per_namespace_list"] = per_ns
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``check``, a ``serve`` full run and a watch re-compare give the same verdict for the same
inputs, judged by the server's own OpenAPI documents.

The built-in schema index is trimmed from the very documents the test server
records, so on recorded documents every path agrees by construction.  Here the
server serves *modified* documents — a Pod template's containers keyed by
``image`` instead of ``name`` (in every document that embeds PodSpec), and the
Widget CRD (a schema the built-in index lacks) with its ``tags`` as a set — and
the recorded changes ``set-image`` and ``widget-patch`` are made live.  All three
paths must report exactly the same drift, and that drift must show the modified
schema was the one used.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.kubeapi.recordings import read_json
from tests.subprocess_cli import check_against, run_cli
from tests.watch.conftest import StartWatched
from tests.watch.helpers import eventually, put_case

Verdicts = list[tuple[str, str, str, str, list[tuple[str, str, str | None]]]]


def _containers_keyed_by_image(path: str) -> dict[str, Any] | None:
    """The recorded document of ``path`` with PodSpec containers keyed by image (None: no PodSpec).

    A server defines a shared type the same way in every document that embeds it.
    """
    doc = copy.deepcopy(read_json(f"openapi/v3/{path}.json"))
    pod_spec = doc["components"]["schemas"].get("io.k8s.api.core.v1.PodSpec")
    if pod_spec is None:
        return None
    containers = pod_spec["properties"]["containers"]
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    containers["x-kubernetes-list-map-keys"] = ["image"]
    containers["x-kubernetes-patch-merge-key"] = "image"
    return doc  # type: ignore[no-any-return]


def _widget_tags_as_a_set() -> dict[str, Any]:
    doc = copy.deepcopy(read_json("openapi/v3/apis/example.com/v1.json"))
    spec = doc["components"]["schemas"]["com.example.v1.Widget"]["properties"]["spec"]
    spec["properties"]["tags"]["x-kubernetes-list-type"] = "set"
    return doc  # type: ignore[no-any-return]


def _verdicts(report: dict[str, Any]) -> Verdicts:
    out: Verdicts = []
    for o in report["objects"]:
        if o["state"] == "in_sync":
            continue
        fields = sorted(
            (f["path"], f["change"], (f.get("attribution") or {}).get("manager"))
            for f in o.get("fields", [])
        )
        out.append((o["kind"], o["namespace"], o["name"], o["state"], fields))
    return sorted(out)


def test_check_serve_and_watch_agree_under_a_modified_openapi(
    kube_api_factory: Callable[..., KubeApiServer], watched: StartWatched, tmp_path: Path
) -> None:
    server = kube_api_factory("shop/untouched-csa")
    for path in ("api/v1", "apis/apps/v1", "apis/batch/v1"):
        document = _containers_keyed_by_image(path)
        assert document is not None, path
        server.serve_openapi(path, document)
    server.serve_openapi("apis/example.com/v1", _widget_tags_as_a_set())

    watching = watched(server)
    watching.wait_watching()
    put_case(server, "set-image", "Deployment", "shop-api")
    put_case(server, "widget-patch", "Widget", "shop-widget")
    eventually(
        lambda: (
            watching.state_of("Deployment", "shop-api") == "modified"
            and watching.state_of("Widget", "shop-widget") == "modified"
        ),
        "both changes seen through the watch",
    )
    (entry,) = watching.json("/api/v1/drift?all=1")["targets"]
    from_watch = _verdicts(entry["report"])

    full = watched(server, watch=False)
    (entry,) = full.json("/api/v1/drift?all=1")["targets"]
    from_serve = _verdicts(entry["report"])

    kubeconfig = kubeconfig_for(server, tmp_path / "kubeconfig")
    result = run_cli(*check_against(watching.repo, kubeconfig, tmp_path / "cache", "-o", "json"))
    assert result.returncode == 1, result.stdout + result.stderr
    from_check = _verdicts(json.loads(result.stdout)["targets"][0]["report"])

    assert from_check == from_serve == from_watch, (from_check, from_serve, from_watch)
    deployment = next(v for v in from_check if v[0] == "Deployment")
    paths = [path for path, _, _ in deployment[4]]
    # Containers pair by image under the served schema: the old image's item is gone.
    assert any("containers[image=" in path for path in paths), paths
    assert not any("containers[name=api]" in path for path in paths), paths
    assert server.writes() == []

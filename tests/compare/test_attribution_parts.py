"""Attribution at the granularity of ownership: each part of a live-only item under its owner.

Live objects are the recorded ones, changed the way a real API server changes
them when the recording did not cover it: a mutating webhook's additions carry
no ``managedFields`` entry; a person's edit adds (or extends) that tool's own
entry, with ``.`` on the nodes it created and a leaf ``{}`` on each field it set.
"""

from __future__ import annotations

from typing import Any

from driftwatch.model import ChangeKind
from tests.compare.scenarios import live_snapshot
from tests.compare.test_normalization import _compare, _doc, _with_owner

CONTAINERS = "/spec/template/spec/containers"


def _entry(manager: str, when: str, containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "fieldsType": "FieldsV1",
        "manager": manager,
        "operation": "Update",
        "time": when,
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": containers}}}},
    }


def test_a_person_setting_one_field_of_an_injected_container_is_drift_at_that_field() -> None:
    def inject_then_edit(body: dict[str, Any]) -> None:
        containers = body["spec"]["template"]["spec"]["containers"]
        # A webhook injects a sidecar (nobody owns it) ...
        containers.append(
            {"name": "mesh-proxy", "image": "proxy:1", "imagePullPolicy": "IfNotPresent"}
        )
        # ... and later a person changes its image with `kubectl edit`.
        containers[-1]["image"] = "proxy:2-debug"
        body["metadata"]["managedFields"].append(
            _entry(
                "kubectl-edit", "2026-11-30T05:00:00Z", {'k:{"name":"mesh-proxy"}': {"f:image": {}}}
            )
        )

    live = _with_owner(live_snapshot("untouched-ssa"), "Deployment", "shop-api", inject_then_edit)
    drift = _compare(_doc("20-api.yaml", "Deployment"), live=live)
    assert [(f.path, f.change, f.live, f.attribution.manager) for f in drift.fields] == [
        (f"{CONTAINERS}[name=mesh-proxy]/image", ChangeKind.ADDED, "proxy:2-debug", "kubectl-edit")
    ]


def test_each_part_of_a_person_added_container_is_reported_under_its_own_owner() -> None:
    def add_inject_patch(body: dict[str, Any]) -> None:
        containers = body["spec"]["template"]["spec"]["containers"]
        # A person adds a debug container ...
        containers.append({"name": "debug", "image": "busybox"})
        body["metadata"]["managedFields"].append(
            _entry(
                "kubectl-edit",
                "2026-11-30T05:00:00Z",
                {'k:{"name":"debug"}': {".": {}, "f:image": {}, "f:name": {}}},
            )
        )
        # ... a webhook injects into it (nobody owns that) ...
        containers[-1]["terminationMessagePath"] = "/dev/termination-log"
        containers[-1]["env"] = [{"name": "MESH_ID", "value": "abc"}]
        # ... and another person gives it limits with `kubectl patch`.
        containers[-1]["resources"] = {"limits": {"cpu": "100m"}}
        body["metadata"]["managedFields"].append(
            _entry(
                "kubectl-patch",
                "2026-11-30T05:10:00Z",
                {
                    'k:{"name":"debug"}': {
                        "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}}}
                    }
                },
            )
        )

    live = _with_owner(live_snapshot("untouched-ssa"), "Deployment", "shop-api", add_inject_patch)
    drift = _compare(_doc("20-api.yaml", "Deployment"), live=live)
    assert [(f.path, f.live, f.attribution.manager) for f in drift.fields] == [
        (f"{CONTAINERS}[name=debug]", {"name": "debug", "image": "busybox"}, "kubectl-edit"),
        (f"{CONTAINERS}[name=debug]/resources", {"limits": {"cpu": "100m"}}, "kubectl-patch"),
    ]


def test_a_person_added_item_is_still_reported_whole_under_its_creator() -> None:
    # The recorded `kubectl set env` case: one env item, created and owned by kubectl-set.
    drift = _compare(_doc("20-api.yaml", "Deployment"), "set-env-add")
    [field] = drift.fields
    assert field.path == f"{CONTAINERS}[name=api]/env[name=FEATURE_X]"
    assert field.attribution.manager == "kubectl-set"
    assert isinstance(field.live, dict) and field.live["name"] == "FEATURE_X"

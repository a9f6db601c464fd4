"""Each normalization rule, with a case that reports false drift without it.

Live objects are the recorded ones (a real kube-apiserver's output); only the
desired side is varied, as a Git author would write it.  Where a test needs a
live object a real server would produce under conditions the recording did not
cover (a mutating webhook, a person's edit), it says so and derives it from a
recorded object the way the server would change it.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import yaml

from driftwatch.compare import CompareOptions, compare_target
from driftwatch.compare.ignore import IgnoreSpec
from driftwatch.model import (
    ChangeKind,
    DesiredObject,
    DesiredSet,
    DriftState,
    LiveSnapshot,
    ObjectDrift,
    SourceLocation,
    key_of,
)
from tests.compare.scenarios import SHOP, discovery_types, live_snapshot


def _git(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((SHOP / "git" / name).read_text()) if d]


def _doc(name: str, kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in _git(name) if d["kind"] == kind))


def _compare(
    desired_body: dict[str, Any],
    case: str = "untouched-csa",
    live: LiveSnapshot | None = None,
    **options: Any,
) -> ObjectDrift:
    key = key_of(desired_body)
    desired = DesiredSet(
        "t",
        {
            key: DesiredObject(
                key, desired_body["apiVersion"], desired_body, SourceLocation("x.yaml")
            )
        },
    )
    snapshot = live or live_snapshot(case)
    report = compare_target(desired, snapshot, CompareOptions(**options))
    return next(o for o in report.objects if o.key == key)


def _paths(obj: ObjectDrift) -> set[str]:
    return {f.path for f in obj.fields}


API = "/spec/template/spec/containers[name=api]"


def test_quantities_compare_by_amount_not_text() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    limits = deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    limits.update(cpu=1, memory="1073741824")
    assert _compare(deploy).state is DriftState.IN_SYNC
    limits["cpu"] = "1500m"
    drift = _compare(deploy)
    assert _paths(drift) == {f"{API}/resources/limits/cpu"}
    assert drift.fields[0].desired == "1500m" and drift.fields[0].live == "1"


def test_decimal_cpu_written_as_float_equals_canonical_millicores() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    assert (
        deploy["spec"]["template"]["spec"]["containers"][1]["resources"]["requests"]["cpu"] == 0.1
    )
    assert _compare(deploy).state is DriftState.IN_SYNC


def test_int_or_string_port_compares_as_either() -> None:
    service = _doc("20-api.yaml", "Service")
    service["spec"]["ports"][1]["targetPort"] = "9090"
    assert _compare(service).state is DriftState.IN_SYNC
    service["spec"]["ports"][1]["targetPort"] = "9091"
    assert _paths(_compare(service)) == {"/spec/ports[port=9090,protocol=TCP]/targetPort"}


def test_null_and_empty_equal_absent() -> None:
    config = _doc("10-config.yaml", "ConfigMap")
    config["metadata"]["annotations"] = None
    config["metadata"]["creationTimestamp"] = None
    config["binaryData"] = {}
    assert _compare(config).state is DriftState.IN_SYNC


def test_zero_value_of_a_typed_field_equals_the_server_omitting_it() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    deploy["spec"]["template"]["spec"]["hostNetwork"] = False
    assert _compare(deploy).state is DriftState.IN_SYNC


def test_keyed_list_order_does_not_matter_but_items_do() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    containers = deploy["spec"]["template"]["spec"]["containers"]
    containers.reverse()
    assert _compare(deploy).state is DriftState.IN_SYNC
    containers[1]["env"].reverse()
    assert _compare(deploy).state is DriftState.IN_SYNC
    containers[1]["env"] = [e for e in containers[1]["env"] if e["name"] != "LOG_LEVEL"]
    drift = _compare(deploy)
    assert {(f.path, f.change) for f in drift.fields} == {
        (f"{API}/env[name=LOG_LEVEL]", ChangeKind.ADDED)
    }


def test_atomic_list_order_matters() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    deploy["spec"]["template"]["spec"]["containers"][0]["args"] = ["--listen=:8081"]
    assert _paths(_compare(deploy)) == {f"{API}/args"}


def test_list_key_left_to_its_default_still_matches() -> None:
    service = _doc("20-api.yaml", "Service")
    assert "protocol" not in service["spec"]["ports"][0]
    assert _compare(service).state is DriftState.IN_SYNC


def test_secret_string_data_equals_base64_data_without_showing_values() -> None:
    secret = _doc("10-config.yaml", "Secret")  # stringData, as in Git
    raw_live = live_snapshot("untouched-csa")
    assert _compare(secret, live=_unhashed(raw_live, "untouched-csa")).state is DriftState.IN_SYNC
    secret["stringData"]["password"] = "another-Pa55"
    drift = _compare(secret, live=_unhashed(raw_live, "untouched-csa"))
    assert _paths(drift) == {"/data/password"}
    shown = repr(drift)
    for value in (
        "another-Pa55",
        "s3cr3t-Shop-Pa55",
        base64.b64encode(b"s3cr3t-Shop-Pa55").decode(),
    ):
        assert value not in shown


def _unhashed(snapshot: LiveSnapshot, case: str) -> LiveSnapshot:
    """The same snapshot with the raw recorded bodies (no fingerprinting)."""
    import json

    data = json.loads((SHOP / "cases" / case / "live.json").read_text())
    raw = LiveSnapshot(types=snapshot.types, taken_at=snapshot.taken_at)
    for item in data["items"]:
        raw.objects[key_of(item)] = item
    return raw


def _with_owner(live: LiveSnapshot, kind: str, name: str, mutate: Any) -> LiveSnapshot:
    out = LiveSnapshot(dict(live.objects), live.types, live.taken_at)
    key = next(k for k in live.objects if k.kind == kind and k.name == name)
    body = copy.deepcopy(live.objects[key])
    mutate(body)
    out.objects[key] = body
    return out


def test_fields_injected_by_a_mutating_webhook_are_owned_by_nobody_and_not_drift() -> None:
    # A mutating webhook's additions carry no managedFields entry: the API server
    # attributes fields to the request's manager before admission mutates them.
    def inject(body: dict[str, Any]) -> None:
        pod = body["spec"]["template"]
        pod["metadata"].setdefault("annotations", {})["sidecar.example.com/injected"] = "true"
        pod["spec"]["containers"].append(
            {"name": "mesh-proxy", "image": "proxy:1", "imagePullPolicy": "IfNotPresent"}
        )

    live = _with_owner(live_snapshot("untouched-ssa"), "Deployment", "shop-api", inject)
    assert _compare(_doc("20-api.yaml", "Deployment"), live=live).state is DriftState.IN_SYNC


def test_the_same_addition_by_a_person_is_drift_with_attribution() -> None:
    def edit(body: dict[str, Any]) -> None:
        pod = body["spec"]["template"]
        pod["spec"]["containers"].append({"name": "debug", "image": "busybox"})
        body["metadata"]["managedFields"].append(
            {
                "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1",
                "manager": "kubectl-edit",
                "operation": "Update",
                "time": "2026-11-30T05:00:00Z",
                "fieldsV1": {
                    "f:spec": {
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"debug"}': {".": {}, "f:image": {}, "f:name": {}}
                                }
                            }
                        }
                    }
                },
            }
        )

    live = _with_owner(live_snapshot("untouched-ssa"), "Deployment", "shop-api", edit)
    drift = _compare(_doc("20-api.yaml", "Deployment"), live=live)
    assert [(f.path, f.attribution.manager) for f in drift.fields] == [
        ("/spec/template/spec/containers[name=debug]", "kubectl-edit")
    ]


def test_ignore_rule_by_path_wildcard_counts_instead_of_reporting() -> None:
    deploy = _doc("20-api.yaml", "Deployment")
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/example/shop-api:9"
    rule = IgnoreSpec(paths=("/spec/template/spec/containers[*]/image",), kind="Deployment")
    drift = _compare(deploy, ignore=(rule,))
    assert drift.state is DriftState.IN_SYNC
    assert [i.path for i in drift.ignored] == [f"{API}/image"]


def test_ignore_rule_by_manager_only_hides_that_managers_changes() -> None:
    rule = IgnoreSpec(managers=("kubectl-label",))
    desired = _doc("10-config.yaml", "ConfigMap")
    assert _compare(desired, case="label-add", ignore=(rule,)).state is DriftState.IN_SYNC
    assert _compare(desired, case="edit-cm", ignore=(rule,)).state is DriftState.MODIFIED


def test_unknown_type_is_never_missing() -> None:
    from driftwatch.model import GroupKind, ReadState, TypeRead

    live = live_snapshot("delete-cm")
    gk = GroupKind("", "ConfigMap")
    live.types[gk] = TypeRead(
        gk, ReadState.FAILED, resource=discovery_types()[gk], error="HTTP 500"
    )
    drift = _compare(_doc("10-config.yaml", "ConfigMap"), live=live)
    assert drift.state is DriftState.UNKNOWN
    assert "HTTP 500" in (drift.reason or "")


def test_kind_not_served_is_missing_with_the_reason() -> None:
    from driftwatch.model import GroupKind, ReadState, TypeRead

    live = live_snapshot("untouched-csa")
    gk = GroupKind("example.com", "Widget")
    live.types[gk] = TypeRead(gk, ReadState.NOT_SERVED)
    drift = _compare(_doc("70-widget.yaml", "Widget"), live=live)
    assert drift.state is DriftState.MISSING and "not served" in (drift.reason or "")


def _applied_by_flux_with_ownership_label(body: dict[str, Any]) -> None:
    """As Flux's kustomize-controller applies (SSA, its own field manager, its labels)."""
    body["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] = "apps"
    for entry in body["metadata"]["managedFields"]:
        if entry["manager"] == "kubectl" and entry["operation"] == "Apply":
            entry["manager"] = "kustomize-controller"
            labels = entry["fieldsV1"]["f:metadata"]["f:labels"]
            labels["f:kustomize.toolkit.fluxcd.io/name"] = {}


def test_gitops_tool_bookkeeping_labels_are_not_drift() -> None:
    live = _with_owner(
        live_snapshot("untouched-ssa"),
        "Deployment",
        "shop-api",
        _applied_by_flux_with_ownership_label,
    )
    assert _compare(_doc("20-api.yaml", "Deployment"), live=live).state is DriftState.IN_SYNC


def test_a_label_the_applier_applied_but_git_lacks_is_drift() -> None:
    def applied_extra_label(body: dict[str, Any]) -> None:
        body["metadata"]["labels"]["tier"] = "gold"
        for entry in body["metadata"]["managedFields"]:
            if entry["manager"] == "kubectl" and entry["operation"] == "Apply":
                entry["fieldsV1"]["f:metadata"]["f:labels"]["f:tier"] = {}

    live = _with_owner(
        live_snapshot("untouched-ssa"), "Deployment", "shop-api", applied_extra_label
    )
    drift = _compare(_doc("20-api.yaml", "Deployment"), live=live)
    assert [(f.path, f.attribution.manager, f.attribution.operation) for f in drift.fields] == [
        ("/metadata/labels/tier", "kubectl", "Apply")
    ]


def test_a_value_a_webhook_rewrote_at_apply_time_is_not_drift() -> None:
    # A mutating webhook (an image-mirror rewriter) changes the image during admission:
    # the client-side applier sent Git's value (its last-applied record says so) and
    # stays the field's only owner; the stored value differs.
    def rewrite_image(body: dict[str, Any]) -> None:
        api = body["spec"]["template"]["spec"]["containers"][0]
        api["image"] = api["image"].replace("ghcr.io", "mirror.example.com")

    live = _with_owner(live_snapshot("untouched-csa"), "Deployment", "shop-api", rewrite_image)
    drift = _compare(_doc("20-api.yaml", "Deployment"), live=live)
    assert drift.state is DriftState.IN_SYNC
    assert [(i.path, i.rule) for i in drift.ignored] == [(f"{API}/image", "mutated-at-admission")]


def test_the_same_value_set_by_a_person_is_drift() -> None:
    drift = _compare(_doc("20-api.yaml", "Deployment"), case="set-image")
    assert [(f.path, f.attribution.manager) for f in drift.fields] == [
        (f"{API}/image", "kubectl-set")
    ]

"""What a target needs read: declared kinds and versions, namespaces, the unmanaged scan."""

from __future__ import annotations

import pytest

from driftwatch.cluster import TypeRequest, parse_kind, snapshot_request_for
from driftwatch.config.model import Config
from driftwatch.errors import ConfigError
from driftwatch.model import DesiredObject, DesiredSet, GroupKind, SourceLocation, key_of


def desired(*bodies: dict[str, object]) -> DesiredSet:
    out = DesiredSet(target="shop")
    for body in bodies:
        key = key_of(body)
        out.objects[key] = DesiredObject(
            key, str(body["apiVersion"]), dict(body), SourceLocation("x.yaml")
        )
    return out


def obj(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, object]:
    meta: dict[str, str] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


SHOP = desired(
    obj("v1", "Namespace", "shop"),
    obj("v1", "ConfigMap", "cfg", "shop"),
    obj("apps/v1", "Deployment", "api", "shop"),
    obj("apps/v1", "StatefulSet", "db", "shop-db"),
    obj("autoscaling/v2", "HorizontalPodAutoscaler", "api", "shop"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
)


def config(**target: object) -> Config:
    return Config.model_validate(
        {
            "targets": [{"name": "shop", "repo": ".", **target}],
            "clusters": [{"name": "default", "pageSize": 50}],
            "unmanagedKinds": ["Secret"],
        }
    )


def test_declared_kinds_are_read_whole_in_the_target_namespaces() -> None:
    cfg = config(selector="app.kubernetes.io/part-of=shop")
    request = snapshot_request_for(SHOP, cfg.targets[0], cfg)
    by_kind = {t.group_kind: t for t in request.types}
    assert by_kind[GroupKind("autoscaling", "HorizontalPodAutoscaler")] == TypeRequest(
        GroupKind("autoscaling", "HorizontalPodAutoscaler"), "autoscaling/v2", ("shop", "shop-db")
    )
    assert by_kind[GroupKind("apps", "Deployment")].label_selector is None
    assert by_kind[GroupKind("", "Namespace")].api_version == "v1"
    assert request.page_size == 50


def test_unmanaged_only_kinds_are_scanned_with_the_ownership_selector() -> None:
    cfg = config(
        selector="app.kubernetes.io/part-of=shop", unmanagedKinds=["Job.batch", "ConfigMap"]
    )
    by_kind = {t.group_kind: t for t in snapshot_request_for(SHOP, cfg.targets[0], cfg).types}
    assert by_kind[GroupKind("batch", "Job")] == TypeRequest(
        GroupKind("batch", "Job"), None, ("shop", "shop-db"), "app.kubernetes.io/part-of=shop"
    )
    assert by_kind[GroupKind("", "Secret")].label_selector == "app.kubernetes.io/part-of=shop"
    # declared anyway: read whole, no selector
    assert by_kind[GroupKind("", "ConfigMap")].label_selector is None
    assert (
        len(
            [
                t
                for t in snapshot_request_for(SHOP, cfg.targets[0], cfg).types
                if t.group_kind == GroupKind("", "ConfigMap")
            ]
        )
        == 1
    )


def test_configured_namespaces_win() -> None:
    cfg = config(namespaces=["b", "a"])
    request = snapshot_request_for(SHOP, cfg.targets[0], cfg)
    assert {t.namespaces for t in request.types} == {("a", "b")}


def test_only_cluster_scoped_objects_mean_all_namespaces() -> None:
    cfg = config()
    only = desired(obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"))
    assert {t.namespaces for t in snapshot_request_for(only, cfg.targets[0], cfg).types} == {None}


def test_kind_names_parse() -> None:
    assert parse_kind("Deployment.apps") == GroupKind("apps", "Deployment")
    assert parse_kind("ConfigMap") == GroupKind("", "ConfigMap")
    assert parse_kind("Widget.example.com") == GroupKind("example.com", "Widget")
    for bad in ("", ".apps", "Deploy ment", "1x"):
        with pytest.raises(ConfigError):
            parse_kind(bad)

"""The plain renderer and its YAML safety limits, on files written to a tree."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from driftwatch.config.model import Target
from driftwatch.errors import RenderError
from driftwatch.model import DesiredSet, ResourceKey
from driftwatch.render import render_target
from driftwatch.render.plain import render_plain
from driftwatch.render.yamlload import Limits, load_documents
from tests.desired.conftest import SHOP, local_checkout

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}data:\n  k: v\n"


def cm(name: str, namespace: str | None = None) -> str:
    return CM.format(name=name, ns=f"  namespace: {namespace}\n" if namespace else "")


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def render(root: Path, **fields: object) -> DesiredSet:
    target = Target.model_validate({"name": "t", "repo": "x", **fields})
    return render_target(target, local_checkout(root))


def test_shop_manifests_render_with_origins(tmp_path: Path) -> None:
    desired = render(SHOP)
    assert desired.errors == []
    objects = desired.objects
    assert len(objects) == 20
    deploy = objects[ResourceKey("apps", "Deployment", "shop", "shop-api")]
    assert deploy.api_version == "apps/v1"
    assert deploy.origin.file == "20-api.yaml" and deploy.origin.line == 1
    crd = ResourceKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    assert crd in objects
    assert ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "shop-reader") in objects


def test_multi_document_files_lists_and_empty_documents(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "a.yaml": "---\n" + cm("one") + "---\n---\n# only a comment\n---\n" + cm("two"),
            "nested/list.yml": (
                "apiVersion: v1\nkind: List\nitems:\n"
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: three}\n"
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: four}\n"
            ),
            "typed.json": (
                '{"apiVersion": "v1", "kind": "ConfigMapList", "items": ['
                '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "five"}}]}'
            ),
        },
    )
    desired = render(checkout_dir)
    names = sorted(k.name for k in desired.objects)
    assert names == ["five", "four", "one", "three", "two"]
    assert desired.errors == []
    four = desired.objects[ResourceKey("", "ConfigMap", "default", "four")]
    assert four.origin.file == "nested/list.yml" and four.origin.line == 7


def test_documents_missing_identity_are_errors_and_the_rest_renders(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "bad.yaml": (
                cm("good")
                + "---\nkind: ConfigMap\nmetadata: {name: no-api}\n"
                + "---\napiVersion: v1\nmetadata: {name: no-kind}\n"
                + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n"
                + "---\n- just\n- a list\n"
            ),
            "other.yaml": cm("other"),
        },
    )
    desired = render(checkout_dir)
    assert sorted(k.name for k in desired.objects) == ["good", "other"]
    errors = {(e.file, e.line): e.message for e in desired.errors}
    assert "apiVersion" in errors[("bad.yaml", 8)]
    assert "kind" in errors[("bad.yaml", 11)]
    assert "generateName" in errors[("bad.yaml", 14)]
    assert "not a Kubernetes object" in errors[("bad.yaml", 18)]


def test_default_namespace_and_cluster_scoped_kinds(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "a.yaml": cm("plain")
            + "---\n"
            + cm("pinned", "elsewhere")
            + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team, namespace: ignored}\n"
            + "---\napiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n"
            + "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            + "metadata: {name: gizmos.example.com}\n"
            + "spec: {group: example.com, scope: Cluster, names: {kind: Gizmo, plural: gizmos}}\n",
        },
    )
    without = render(checkout_dir)
    keys = set(without.objects)
    assert ResourceKey("", "ConfigMap", "default", "plain") in keys
    assert ResourceKey("", "ConfigMap", "elsewhere", "pinned") in keys
    assert ResourceKey("", "Namespace", "", "team") in keys
    assert ResourceKey("example.com", "Gizmo", "", "g") in keys, "CRD in the set says Cluster"
    ns_body = without.objects[ResourceKey("", "Namespace", "", "team")].body
    assert "namespace" not in ns_body["metadata"]

    with_ns = render(checkout_dir, namespace="shop")
    plain = with_ns.objects[ResourceKey("", "ConfigMap", "shop", "plain")]
    assert plain.body["metadata"]["namespace"] == "shop"
    assert ResourceKey("", "ConfigMap", "elsewhere", "pinned") in with_ns.objects


def test_same_object_in_two_files_keeps_first_and_names_both(checkout_dir: Path) -> None:
    write(checkout_dir, {"a.yaml": cm("dup", "x"), "b/b.yaml": "# x\n" + cm("dup", "x")})
    desired = render(checkout_dir)
    key = ResourceKey("", "ConfigMap", "x", "dup")
    assert desired.objects[key].origin.file == "a.yaml"
    [error] = desired.errors
    assert error.file == "b/b.yaml" and error.line == 2
    assert "a.yaml" in error.message and "twice" in error.message


def test_duplicate_mapping_key_is_an_error_with_line(checkout_dir: Path) -> None:
    write(checkout_dir, {"a.yaml": cm("ok") + "---\n" + cm("dupkey") + "data:\n  k: w\n"})
    desired = render(checkout_dir)
    assert [k.name for k in desired.objects] == ["ok"]
    [error] = desired.errors
    assert "duplicate key 'data'" in error.message and error.line == 14


def test_billion_laughs_fails_fast(checkout_dir: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n" + "\n".join(lines) + "\n"
    write(checkout_dir, {"bomb.yaml": bomb, "fine.yaml": cm("fine")})
    desired = render(checkout_dir)
    assert [k.name for k in desired.objects] == ["fine"]
    [error] = desired.errors
    assert error.file == "bomb.yaml" and "billion laughs" in error.message


def test_modest_aliases_are_fine(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "a.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l {app: x}\n"
                "  annotations: *l\n"
            )
        },
    )
    desired = render(checkout_dir)
    [obj] = desired.objects.values()
    assert obj.body["metadata"]["annotations"] == {"app": "x"}


def test_oversize_file_is_refused_by_name(checkout_dir: Path) -> None:
    write(checkout_dir, {"big.yaml": cm("big") + "# " + "x" * 5000 + "\n"})
    docs, errors = render_plain(checkout_dir, ".", Limits(max_file_bytes=1024))
    assert docs == []
    [error] = errors
    assert error.file == "big.yaml" and "limit" in error.message


def test_non_utf8_and_binary_files_are_reported(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "latin1.yaml": cm("ok").encode() + b"# caf\xe9\n",
            "blob.yaml": b"\x00\x01\x02binary",
            "good.yaml": cm("good"),
        },
    )
    desired = render(checkout_dir)
    assert [k.name for k in desired.objects] == ["good"]
    errors = {e.file: e for e in desired.errors}
    assert "UTF-8" in errors["latin1.yaml"].message and errors["latin1.yaml"].line == 7
    assert "binary" in errors["blob.yaml"].message


def test_deep_nesting_is_refused(checkout_dir: Path) -> None:
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * 150 + "]" * 150
    write(checkout_dir, {"deep.yaml": deep + "\n"})
    desired = render(checkout_dir)
    assert desired.objects == {}
    assert "nesting" in desired.errors[0].message


def test_syntax_error_names_file_and_line_and_other_files_continue(checkout_dir: Path) -> None:
    write(checkout_dir, {"a.yaml": cm("a") + "---\nkey: [unclosed\n", "b.yaml": cm("b")})
    desired = render(checkout_dir)
    assert sorted(k.name for k in desired.objects) == ["a", "b"]
    [error] = desired.errors
    assert error.file == "a.yaml" and error.line is not None and error.line >= 8


def test_ignored_files_and_outside_symlinks(checkout_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text(cm("outside"))
    write(
        checkout_dir,
        {
            ".hidden.yaml": "not: a manifest",
            ".github/workflow.yml": "on: push",
            "kustomization.yaml": "resources: []",
            "README.md": "# docs",
            "app/cm.yaml": cm("kept"),
        },
    )
    (checkout_dir / "app" / "link.yaml").symlink_to(outside)
    desired = render(checkout_dir, renderer="plain")
    assert [k.name for k in desired.objects] == ["kept"]
    [error] = desired.errors
    assert error.file == "app/link.yaml" and "outside" in error.message


def test_path_outside_or_missing_is_a_render_error(checkout_dir: Path) -> None:
    with pytest.raises(RenderError, match="outside"):
        render(checkout_dir, path="../..")
    with pytest.raises(RenderError, match="does not exist"):
        render(checkout_dir, path="nope", renderer="plain")


def test_values_are_read_as_kubernetes_reads_them() -> None:
    docs, errors = load_documents(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        "data: {when: 2024-01-01, 8080: port, true: yes}\n",
        "t.yaml",
    )
    assert errors == []
    assert docs[0].data["data"] == {"when": "2024-01-01", "8080": "port", "true": True}


def test_recursive_alias_is_refused() -> None:
    docs, errors = load_documents("apiVersion: v1\nkind: X\nmetadata: {name: a}\nx: &x [*x]\n", "r")
    assert docs == [] and "recursive alias" in errors[0].message and errors[0].line == 4

"""Kustomize (real kubectl) and Helm (real Helm engine via the SDK) renderers."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.config.model import Target
from driftwatch.errors import RenderError
from driftwatch.model import DesiredSet, ResourceKey
from driftwatch.render import detect_renderer, render_target
from tests.desired.conftest import local_checkout, needs_kubectl
from tests.desired.test_plain_render import write

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "shop/api:1.0"}]
"""


def render(root: Path, **fields: object) -> DesiredSet:
    target = Target.model_validate({"name": "t", "repo": "x", **fields})
    return render_target(target, local_checkout(root))


@needs_kubectl
def test_kustomize_overlay_with_patch(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            "base/deploy.yaml": DEPLOY,
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "overlays/prod/kustomization.yaml": (
                "resources: [../../base]\nnamespace: shop-prod\npatches: [{path: replicas.yaml}]\n"
            ),
            "overlays/prod/replicas.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\n"
                "metadata: {name: api}\nspec: {replicas: 5}\n"
            ),
        },
    )
    desired = render(checkout_dir, path="overlays/prod")
    assert desired.errors == []
    obj = desired.objects[ResourceKey("apps", "Deployment", "shop-prod", "api")]
    assert obj.body["spec"]["replicas"] == 5
    # Kustomize's origin annotation names the declaring file; it never reaches the body.
    assert (obj.origin.file, obj.origin.document, obj.origin.line) == ("base/deploy.yaml", 0, 1)
    assert "annotations" not in obj.body["metadata"]


@needs_kubectl
def test_kustomize_origins_name_files_and_generators_and_keep_other_annotations(
    checkout_dir: Path,
) -> None:
    write(
        checkout_dir,
        {
            "base/svc.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n---\n"
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"
                "  annotations: {team: shop}\nspec: {ports: [{port: 80}]}\n"
            ),
            "base/kustomization.yaml": (
                "resources: [svc.yaml]\nnamePrefix: prod-\n"
                "configMapGenerator: [{name: settings, literals: [mode=fast]}]\n"
            ),
        },
    )
    desired = render(checkout_dir, path="base", namespace="shop")
    assert desired.errors == []
    service = desired.objects[ResourceKey("", "Service", "shop", "prod-api")]
    assert (service.origin.file, service.origin.document, service.origin.line) == (
        "base/svc.yaml",
        1,
        6,
    )
    assert service.body["metadata"]["annotations"] == {"team": "shop"}
    (generated,) = [k for k in desired.objects if k.name.startswith("prod-settings-")]
    assert desired.objects[generated].origin.file == "base/kustomization.yaml"
    assert all(
        "config.kubernetes.io/origin" not in (o.body["metadata"].get("annotations") or {})
        for o in desired.objects.values()
    )


@needs_kubectl
def test_kustomize_missing_base_is_a_render_error_with_the_tools_message(
    checkout_dir: Path,
) -> None:
    write(checkout_dir, {"overlay/kustomization.yaml": "resources: [../no-such-base]\n"})
    with pytest.raises(RenderError) as info:
        render(checkout_dir, path="overlay")
    assert "no-such-base" in str(info.value)
    assert "kustomize" in str(info.value)


def test_kustomize_command_that_fails_to_start_is_a_render_error(checkout_dir: Path) -> None:
    write(checkout_dir, {"kustomization.yaml": "resources: []\n"})
    with pytest.raises(RenderError, match="cannot run"):
        render(checkout_dir, kustomize_command="/nonexistent/kustomize build")


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\nimage: {repository: shop/api, tag: '1.0'}\nextra: {a: 1}\n",
    "chart/values-prod.yaml": "replicas: 3\nimage: {tag: '2.0'}\n",
    "chart/templates/_helpers.tpl": '{{- define "shop.name" -}}{{ .Release.Name }}{{- end -}}\n',
    "chart/templates/deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "shop.name" . }}-api\n'
        "spec:\n  replicas: {{ .Values.replicas }}\n"
        "  template:\n    spec:\n      containers:\n"
        "      - name: api\n"
        '        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        "---\n"
        "{{- if .Values.extra.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        "{{- end }}\n"
    ),
    "chart/templates/hook.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n"
        '  annotations: {"helm.sh/hook": pre-install}\nspec: {template: {spec: {}}}\n'
    ),
    "chart/templates/tests/test-connection.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: test-connection\n"
        '  annotations: {"helm.sh/hook": test}\nspec: {containers: []}\n'
    ),
    "chart/templates/NOTES.txt": "Installed {{ .Release.Name }}\n",
    "chart/crds/widgets.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: widgets.example.com}\n"
        "spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}\n"
    ),
}


def test_helm_chart_renders_what_an_install_creates(checkout_dir: Path) -> None:
    write(checkout_dir, CHART)
    assert detect_renderer(Target(name="t", repo="x", path="chart"), checkout_dir).value == "helm"
    desired = render(
        checkout_dir,
        path="chart",
        namespace="shop",
        helm={
            "release": "prod",
            "values": ["values-prod.yaml"],
            "set": {"image.repository": "mirror/api"},
        },
    )
    assert desired.errors == []
    keys = set(desired.objects)
    deploy = desired.objects[ResourceKey("apps", "Deployment", "shop", "prod-api")]
    assert deploy.body["spec"]["replicas"] == 3
    container = deploy.body["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "mirror/api:2.0"
    assert deploy.origin.file == "chart/templates/deploy.yaml"
    crd = ResourceKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    assert crd in keys
    assert desired.objects[crd].origin.file == "chart/crds/widgets.yaml"
    kinds = {k.kind for k in keys}
    assert "Job" not in kinds and "Pod" not in kinds, "hooks and test pods are not installed"
    assert len(keys) == 2


def test_helm_release_defaults_to_chart_name_and_namespace_to_default(checkout_dir: Path) -> None:
    write(checkout_dir, CHART)
    desired = render(checkout_dir, path="chart")
    assert ResourceKey("apps", "Deployment", "default", "shop-api") in desired.objects


def test_helm_template_error_is_a_render_error_with_helms_message(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            **CHART,
            "chart/templates/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: {{ .Values.missing.deep }}\n",
        },
    )
    with pytest.raises(RenderError) as info:
        render(checkout_dir, path="chart")
    assert "broken.yaml" in str(info.value) and "nil pointer" in str(info.value)


def test_helm_missing_values_file_is_named(checkout_dir: Path) -> None:
    write(checkout_dir, CHART)
    with pytest.raises(RenderError, match=r"values-nope\.yaml"):
        render(checkout_dir, path="chart", helm={"values": ["values-nope.yaml"]})


def test_helm_missing_dependency_is_explained(checkout_dir: Path) -> None:
    write(
        checkout_dir,
        {
            **CHART,
            "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n"
            "- {name: redis, version: 1.0.0, repository: https://example.com}\n",
        },
    )
    with pytest.raises(RenderError, match="redis"):
        render(checkout_dir, path="chart")

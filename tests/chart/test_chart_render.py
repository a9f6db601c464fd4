"""The chart lints, renders valid Kubernetes objects, and deploys driftwatch safely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

from driftwatch.config.model import Config
from tests.chart.chart_render import CHART, VARIANTS, Rendered, ci_values, render_chart

KUBE_VERSION = "1.30.0"
READ_ONLY_VERBS = {"get", "list", "watch"}


def _problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Lint messages of severity warning (2) or error (3)."""
    return [m for m in report["messages"] if m["severity"] >= 2] + [
        {"error": e} for e in report.get("errors") or []
    ]


def test_chart_metadata_is_version_0_1_0_with_app_version_0_1_0() -> None:
    with helm_python.Chart.load(CHART) as chart:
        meta = chart.metadata
    assert (meta["apiVersion"], meta["version"], meta["appVersion"]) == ("v2", "0.1.0", "0.1.0")


@pytest.mark.parametrize("variant", VARIANTS)
def test_chart_lints_strictly_clean(variant: str, asset_chart: Any) -> None:
    report = helm_python.lint(
        asset_chart, ci_values()[variant], strict=True, kube_version=f"v{KUBE_VERSION}"
    )
    assert _problems(report) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_built_in_object_validates_against_kubernetes_schemas(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    validated = 0
    for obj in render_variant(variant).objects:
        if obj["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # CRDs: checked structurally below
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {e.message}")
        validated += 1
    assert validated >= 5


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_object_carries_the_standard_labels(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    for obj in render_variant(variant).objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "driftwatch"
        assert labels["app.kubernetes.io/instance"] == "driftwatch"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["helm.sh/chart"] == "driftwatch-0.1.0"


def test_resources_are_named_after_the_release_full_name() -> None:
    rendered = render_chart({}, name="prod")
    names = {(o["kind"], o["metadata"]["name"]) for o in rendered.objects}
    assert names == {
        ("ConfigMap", "prod-driftwatch"),
        ("Deployment", "prod-driftwatch"),
        ("Service", "prod-driftwatch"),
        ("ServiceAccount", "prod-driftwatch"),
        ("ClusterRole", "prod-driftwatch"),
        ("ClusterRoleBinding", "prod-driftwatch"),
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_role_grants_anything_but_get_list_watch(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    rendered = render_variant(variant)
    roles = rendered.of_kind("Role") + rendered.of_kind("ClusterRole")
    assert roles, "every variant grants some read access"
    for role in roles:
        for rule in role["rules"]:
            assert set(rule["verbs"]) == READ_ONLY_VERBS, (role["metadata"]["name"], rule)
            assert "nonResourceURLs" not in rule
        assert "aggregationRule" not in role


def test_default_rbac_reads_everything_cluster_wide() -> None:
    rendered = render_chart({})
    (role,) = rendered.of_kind("ClusterRole")
    assert role["rules"] == [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}
    ]
    (binding,) = rendered.of_kind("ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "driftwatch", "namespace": "driftwatch"}
    ]
    assert not rendered.of_kind("Role")


def test_namespaced_rbac_makes_one_role_and_binding_per_listed_namespace(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("namespaced")
    roles = {r["metadata"]["namespace"] for r in rendered.of_kind("Role")}
    bindings = {b["metadata"]["namespace"]: b for b in rendered.of_kind("RoleBinding")}
    assert roles == set(bindings) == {"shop", "shop-staging"}
    for binding in bindings.values():
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["subjects"][0]["namespace"] == "driftwatch"
    # Only the explicitly listed cluster rules are granted cluster-wide.
    (cluster_role,) = rendered.of_kind("ClusterRole")
    assert cluster_role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "resourceNames": ["shop", "shop-staging"],
            "verbs": ["get", "list", "watch"],
        }
    ]


def test_rbac_without_secrets_never_names_secrets_or_a_core_wildcard() -> None:
    rendered = render_chart({"rbac": {"secrets": False}})
    (role,) = rendered.of_kind("ClusterRole")
    for rule in role["rules"]:
        assert "secrets" not in rule["resources"]
        if "" in rule["apiGroups"] or "*" in rule["apiGroups"]:
            assert "*" not in rule["resources"], rule
            assert not any("/" in r for r in rule["resources"]), "no core subresources"


def test_values_cannot_add_write_verbs_to_rules() -> None:
    rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}
    with helm_python.Chart.load(CHART) as chart, pytest.raises(helm_python.HelmError) as e:
        chart.render({"rbac": {"extraRules": [rule]}}, name="driftwatch", namespace="driftwatch")
    assert "verbs" in str(e.value)


def _container(rendered: Rendered) -> dict[str, Any]:
    (container,) = rendered.workload()["spec"]["template"]["spec"]["containers"]
    return dict(container)


@pytest.mark.parametrize("variant", VARIANTS)
def test_pod_runs_non_root_read_only_without_privileges(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    rendered = render_variant(variant)
    pod = rendered.workload()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = _container(rendered)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert "add" not in context["capabilities"]
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_deployment_runs_one_replica_with_probes_resources_and_scratch_volumes() -> None:
    rendered = render_chart({})
    deployment = rendered.one("Deployment")
    assert deployment["spec"]["replicas"] == 1
    container = _container(rendered)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["resources"]["requests"] and container["resources"]["limits"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    for path in ("/tmp", "/var/cache/driftwatch", "/var/lib/driftwatch"):
        assert "emptyDir" in volumes[mounts[path]], path
    assert volumes[mounts["/etc/driftwatch"]]["configMap"]["name"] == "driftwatch"


def test_container_serves_with_the_chart_paths_and_grace_period() -> None:
    rendered = render_chart({"gracePeriodSeconds": 40, "logLevel": "debug"})
    args = _container(rendered)["args"]
    assert args[0] == "serve"
    assert {
        "--config=/etc/driftwatch/config.yaml",
        "--listen=0.0.0.0:8080",
        "--state-dir=/var/lib/driftwatch",
        "--cache-dir=/var/cache/driftwatch",
        "--grace-period=40s",
        "--log-level=debug",
        "--log-format=json",
    } <= set(args)
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > 40


def test_config_change_changes_the_pod_template_checksum() -> None:
    def checksum(values: dict[str, Any]) -> str:
        deployment = render_chart(values).one("Deployment")
        annotation: str = deployment["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]
        return annotation

    target = {"name": "a", "repo": "https://example.com/a.git"}
    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"config": {"targets": [target]}})


def test_image_defaults_to_the_app_version_and_prefers_a_digest() -> None:
    assert _container(render_chart({}))["image"] == "ghcr.io/driftwatch/driftwatch:0.1.0"
    digest = "sha256:" + "a" * 64
    container = _container(render_chart({"image": {"digest": digest}}))
    assert container["image"] == f"ghcr.io/driftwatch/driftwatch@{digest}"


def _config(rendered: Rendered) -> dict[str, Any]:
    config_map = rendered.one("ConfigMap", "driftwatch")
    parsed: dict[str, Any] = yaml.safe_load(config_map["data"]["config.yaml"])
    return parsed


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_map_parses_as_a_driftwatch_config(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    config = Config.model_validate(_config(render_variant(variant)))
    assert config.instance == "driftwatch"
    assert config.targets == tuple(
        config.target(t["name"]) for t in ci_values()[variant].get("config", {}).get("targets", [])
    )


def test_default_config_compares_with_the_cluster_driftwatch_runs_in() -> None:
    config = Config.model_validate(_config(render_chart({})))
    assert config.targets == ()
    assert [(c.name, c.in_cluster) for c in config.clusters] == [("default", True)]


def test_example_config_keeps_every_setting_of_the_values(
    render_variant: Callable[[str], Rendered],
) -> None:
    config = Config.model_validate(_config(render_variant("example")))
    shop = config.target("shop")
    assert shop.schedule.interval == 300 and shop.schedule.jitter == 30
    assert shop.selector == "app.kubernetes.io/part-of=shop"
    assert config.cluster_for(config.target("edge-shop")).context == "edge-1"
    assert config.alertmanager.resend_interval == 300
    assert config.server.max_drift_series == 5000
    assert config.target("platform").helm.values == ("values-prod.yaml",)


def test_git_token_secret_is_mounted_and_referenced_by_targets_without_credentials(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("example")
    config = Config.model_validate(_config(rendered))
    for name in ("shop", "platform"):
        creds = config.target(name).credentials
        assert creds.token_file == "/var/run/secrets/driftwatch/git/token"
        assert creds.username == "x-access-token"
    assert config.target("edge-shop").credentials.token_env == "EDGE_GIT_TOKEN"
    assert config.target("edge-shop").credentials.token_file is None
    volume = _volume(rendered, "git-credentials")
    assert volume["secret"]["secretName"] == "driftwatch-git"
    assert volume["secret"]["items"] == [{"key": "token", "path": "token"}]
    mount = _mount(rendered, "git-credentials")
    assert mount == {
        "name": "git-credentials",
        "readOnly": True,
        "mountPath": "/var/run/secrets/driftwatch/git",
    }


def test_git_ssh_secret_provides_key_and_known_hosts(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("git-ssh")
    creds = Config.model_validate(_config(rendered)).target("shop").credentials
    assert creds.ssh_key_file == "/var/run/secrets/driftwatch/git/ssh-privatekey"
    assert creds.known_hosts_file == "/var/run/secrets/driftwatch/git/known_hosts"
    assert creds.token_file is None
    assert _volume(rendered, "git-credentials")["secret"]["items"] == [
        {"key": "ssh-privatekey", "path": "ssh-privatekey"},
        {"key": "known_hosts", "path": "known_hosts"},
    ]


def test_git_ssh_with_inline_known_hosts_reads_them_from_the_config_map(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("git-ssh-inline-known-hosts")
    config = Config.model_validate(_config(rendered))
    creds = config.target("shop").credentials
    assert creds.known_hosts_file == "/etc/driftwatch/known_hosts"
    assert rendered.one("ConfigMap", "driftwatch")["data"]["known_hosts"].startswith("github.com ")
    assert _volume(rendered, "git-credentials")["secret"]["items"] == [
        {"key": "ssh-privatekey", "path": "ssh-privatekey"}
    ]
    own = config.target("own-credentials").credentials
    assert own.ssh_key_file == "/var/run/secrets/driftwatch/other/id_ed25519"


def test_api_token_secret_is_mounted_and_passed_to_serve(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("all-enabled")
    assert "--token-file=/var/run/secrets/driftwatch/api/token" in _container(rendered)["args"]
    assert _volume(rendered, "api-token")["secret"]["secretName"] == "driftwatch-api"


def _volume(rendered: Rendered, name: str) -> dict[str, Any]:
    volumes = rendered.workload()["spec"]["template"]["spec"]["volumes"]
    (volume,) = [v for v in volumes if v["name"] == name]
    return dict(volume)


def _mount(rendered: Rendered, name: str) -> dict[str, Any]:
    (mount,) = [m for m in _container(rendered)["volumeMounts"] if m["name"] == name]
    return dict(mount)


def test_persistence_uses_a_claim_for_the_state_directory(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("all-enabled")
    claim = rendered.one("PersistentVolumeClaim")
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert _volume(rendered, "state")["persistentVolumeClaim"]["claimName"] == "driftwatch"
    assert _mount(rendered, "state")["mountPath"] == "/var/lib/driftwatch"


def test_existing_claim_is_used_without_creating_one() -> None:
    rendered = render_chart({"persistence": {"enabled": True, "existingClaim": "history"}})
    assert not rendered.of_kind("PersistentVolumeClaim")
    assert _volume(rendered, "state")["persistentVolumeClaim"]["claimName"] == "history"


def test_notes_warn_when_history_is_not_persistent() -> None:
    notes = render_chart({}).templates["driftwatch/templates/NOTES.txt"]
    assert "persistence is disabled" in notes
    notes = render_chart({"persistence": {"enabled": True}}).templates[
        "driftwatch/templates/NOTES.txt"
    ]
    assert "persistence is disabled" not in notes


def test_otel_settings_become_the_standard_environment_variables(
    render_variant: Callable[[str], Rendered],
) -> None:
    env = {e["name"]: e for e in _container(render_variant("all-enabled"))["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.observability:4318"
    assert env["OTEL_SERVICE_NAME"]["value"] == "driftwatch-prod"
    assert "deployment.environment=prod" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
    assert env["OTEL_EXPORTER_OTLP_HEADERS"]["valueFrom"]["secretKeyRef"] == {
        "name": "otel-headers",
        "key": "headers",
    }
    # The resource attributes expand POD_* variables, so those must come first.
    names = list(env)
    assert names.index("POD_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES")
    default_env = {e["name"] for e in _container(render_chart({}))["env"]}
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in default_env


def test_service_monitor_scrapes_metrics_on_the_http_port(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("all-enabled")
    monitor = rendered.one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    service = rendered.one("Service")
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert spec["namespaceSelector"] == {"matchNames": ["driftwatch"]}
    (endpoint,) = spec["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert endpoint["scrapeTimeout"] == "10s"
    # job="driftwatch" whatever the release name: the alerts select on it.
    assert service["metadata"]["labels"][spec["jobLabel"]] == "driftwatch"


def test_prometheus_rule_has_valid_groups_and_the_selector_labels(
    render_variant: Callable[[str], Rendered],
) -> None:
    rule = render_variant("all-enabled").one("PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    groups = rule["spec"]["groups"]
    assert groups and len({g["name"] for g in groups}) == len(groups)
    for group in groups:
        assert group["rules"], group["name"]
        for item in group["rules"]:
            assert ("alert" in item) != ("record" in item), item
            assert isinstance(item["expr"], str) and item["expr"].strip()
            if "alert" in item:
                assert item["labels"]["team"] == "platform"


def test_network_policy_opens_only_the_http_port_and_needed_egress(
    render_variant: Callable[[str], Rendered],
) -> None:
    rendered = render_variant("all-enabled")
    policy = rendered.one("NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    egress_ports = [{p["port"] for p in rule["ports"]} for rule in policy["egress"]]
    assert egress_ports == [{53}, {443, 6443}, {443, 22}, {4318}]


def test_dashboards_config_map_carries_the_sidecar_label_and_folder(
    render_variant: Callable[[str], Rendered],
) -> None:
    config_map = render_variant("all-enabled").one("ConfigMap", "driftwatch-dashboards")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "driftwatch"}
    assert config_map["data"] and all(k.endswith(".json") for k in config_map["data"])


def test_optional_parts_are_off_by_default() -> None:
    kinds = {o["kind"] for o in render_chart({}).objects}
    assert not kinds & {
        "ServiceMonitor",
        "PrometheusRule",
        "NetworkPolicy",
        "PersistentVolumeClaim",
    }


def test_listed_clusters_keep_an_in_cluster_default_unless_they_name_one() -> None:
    edge = {"name": "edge", "kubeconfig": "/k/config"}
    config = Config.model_validate(_config(render_chart({"config": {"clusters": [edge]}})))
    assert [(c.name, c.in_cluster) for c in config.clusters] == [("default", True), ("edge", False)]
    own = {"name": "default", "kubeconfig": "/k/config"}
    config = Config.model_validate(_config(render_chart({"config": {"clusters": [own]}})))
    assert [(c.name, c.in_cluster) for c in config.clusters] == [("default", False)]

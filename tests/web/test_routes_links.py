"""Page URLs (one table, one target lookup) and links out to Git web UIs and Grafana."""

from __future__ import annotations

import pytest

from driftwatch.model import ResourceKey, SourceLocation
from driftwatch.sinks.web.links import git_file_url, grafana_target_url, repo_web_base
from driftwatch.sinks.web.routes import key_of, match, object_path, object_url, target_of

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "key",
    [
        ResourceKey("apps", "Deployment", "shop", "api"),
        ResourceKey("", "ConfigMap", "shop", "app"),
        ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "reader"),
        ResourceKey("", "ConfigMap", "shop", '<a href="x">/../%2F ünï'),
    ],
)
def test_object_paths_round_trip_with_underscore_for_empty_parts(key: ResourceKey) -> None:
    path = object_path("shop", key)
    found = match(path)
    assert found is not None and found.route.name == "object"
    assert key_of(found.params) == key
    assert target_of(path) == "shop"
    assert path.count("/") == 7  # hostile characters never add a segment


def test_core_group_and_cluster_scope_use_underscore() -> None:
    assert object_path("t", ResourceKey("", "Namespace", "", "shop")) == (
        "/targets/t/objects/_/Namespace/_/shop"
    )


def test_target_of_names_the_target_of_every_target_page_and_nothing_else() -> None:
    assert target_of("/targets/shop") == "shop"
    assert target_of("/targets/shop/refresh") == "shop"
    assert target_of("/targets/a%20b/objects/_/ConfigMap/ns/x") == "a b"
    for path in ("/", "/login", "/static/driftwatch.css", "/api/v1/drift", "/targets/"):
        assert target_of(path) is None


def test_alert_links_use_the_external_url() -> None:
    key = ResourceKey("apps", "Deployment", "shop", "api")
    assert object_url("https://dw.example.com/", "shop", key) == (
        "https://dw.example.com/targets/shop/objects/apps/Deployment/shop/api"
    )


@pytest.mark.parametrize(
    ("repo", "expected"),
    [
        (
            "https://github.com/acme/gitops.git",
            f"https://github.com/acme/gitops/blob/{SHA}/apps/shop/deploy.yaml#L12",
        ),
        (
            "git@github.com:acme/gitops.git",
            f"https://github.com/acme/gitops/blob/{SHA}/apps/shop/deploy.yaml#L12",
        ),
        (
            "https://gitlab.com/acme/platform/gitops",
            f"https://gitlab.com/acme/platform/gitops/-/blob/{SHA}/apps/shop/deploy.yaml#L12",
        ),
        (
            "ssh://git@bitbucket.org/acme/gitops.git",
            f"https://bitbucket.org/acme/gitops/src/{SHA}/apps/shop/deploy.yaml#lines-12",
        ),
        (
            "https://gitea.acme.io:3000/acme/gitops.git",
            f"https://gitea.acme.io:3000/acme/gitops/src/commit/{SHA}/apps/shop/deploy.yaml#L12",
        ),
    ],
)
def test_git_file_links_in_each_known_web_form(repo: str, expected: str) -> None:
    origin = SourceLocation("apps/shop/deploy.yaml", 0, 12)
    assert git_file_url(repo, SHA, origin) == expected


def test_no_git_link_for_local_paths_unknown_hosts_or_odd_schemes() -> None:
    origin = SourceLocation("a.yaml", 0, 1)
    for repo in ("..", "/srv/git/gitops", "https://git.acme.corp/x/y.git", "javascript:alert(1)"):
        assert git_file_url(repo, SHA, origin) is None, repo
    assert repo_web_base("https://git.acme.corp/x/y.git", {"git.acme.corp": "gitea"}) == (
        "https://git.acme.corp/x/y",
        "gitea",
    )


def test_git_link_without_a_line_points_at_the_file() -> None:
    url = git_file_url("https://github.com/a/b", SHA, SourceLocation("overlays/prod", 1))
    assert url == f"https://github.com/a/b/blob/{SHA}/overlays/prod"


def test_grafana_link_to_the_target_dashboard() -> None:
    assert grafana_target_url("https://grafana.example.com/", "shop & co") == (
        "https://grafana.example.com/d/driftwatch-target/driftwatch-target?var-target=shop+%26+co"
    )
    assert grafana_target_url(None, "shop") is None
    assert grafana_target_url("javascript:alert(1)", "shop") is None


def test_alerts_link_to_the_object_page_under_server_external_url() -> None:
    from driftwatch.config.model import Config
    from driftwatch.sinks.alertmanager import AlertmanagerNotifier
    from tests.service.helpers import drift, run_of

    config = Config.model_validate(
        {
            "targets": [{"name": "shop", "repo": "."}],
            "alertmanager": {"urls": ["http://127.0.0.1:9"]},
            "server": {"externalUrl": "https://dw.example.com"},
        }
    )
    notifier = AlertmanagerNotifier.from_config(config)
    assert notifier is not None
    try:
        notifier.emit(run_of("shop", [drift("api")]))
        (alert,) = notifier.active_alerts()
    finally:
        notifier.close(0.1)
    page = "https://dw.example.com/targets/shop/objects/apps/Deployment/shop/api"
    assert alert["generatorURL"] == page and alert["annotations"]["object_url"] == page

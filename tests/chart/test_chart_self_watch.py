"""driftwatch can watch its own installation: the chart is a valid Git source for a target."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwatch.config.model import HelmOptions, Renderer, Target
from driftwatch.render import detect_renderer, render_target
from driftwatch.source import GitSource
from tests.chart.chart_render import CHART, VARIANTS, Rendered, ci_values


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    group = obj["apiVersion"].rpartition("/")[0]
    return group, obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_manifests_have_identity_and_unique_keys(
    variant: str, render_variant: Callable[[str], Rendered]
) -> None:
    objects = render_variant(variant).objects
    for obj in objects:
        assert obj.get("apiVersion") and obj.get("kind"), obj
        assert obj.get("metadata", {}).get("name"), obj
    keys = [_key(o) for o in objects]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def chart_repo(tmp_path: Path, asset_chart: Path) -> Path:
    """A Git repository holding the chart at helm/driftwatch, as driftwatch's own repo does."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(asset_chart, repo / "helm" / "driftwatch")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "chart")
    return repo


@pytest.mark.parametrize("variant", ["defaults", "example", "all-enabled"])
def test_driftwatch_renders_its_own_chart_from_git_like_helm_does(
    variant: str, chart_repo: Path, tmp_path: Path, render_variant: Callable[[str], Rendered]
) -> None:
    values: tuple[str, ...] = ()
    if variant != "defaults":
        values = (str(CHART / "ci" / f"{variant}-values.yaml"),)
    assert variant in ci_values()
    target = Target(
        name="driftwatch",
        repo=str(chart_repo),
        rev="main",
        path="helm/driftwatch",
        renderer=Renderer.AUTO,
        namespace="driftwatch",
        helm=HelmOptions(release="driftwatch", values=values),
    )
    checkout = GitSource(tmp_path / "cache").checkout(target)
    desired = render_target(target, checkout)
    assert desired.errors == []
    assert detect_renderer(target, checkout.root) is Renderer.HELM
    declared = {(k.group, k.kind, k.namespace or "", k.name) for k in desired.objects}
    assert declared == {_key(o) for o in render_variant(variant).objects}

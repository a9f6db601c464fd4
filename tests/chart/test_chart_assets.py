"""The chart ships exactly the repository's alert rules and dashboards (one source)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import helm_python
import pytest
import yaml

from tests.chart.chart_render import CHART, REPO, render_chart

SCRIPT = REPO / "scripts" / "sync-chart-assets.py"
SOURCES = {"alerts": "*.yaml", "dashboards": "*.json"}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_chart_assets", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sync_chart_assets = _load_script()


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_chart_copies_are_byte_equal_to_the_repository_sources(kind: str) -> None:
    pattern = SOURCES[kind]
    sources = {p.name: p.read_bytes() for p in (REPO / kind).glob(pattern)}
    copies = {p.name: p.read_bytes() for p in (CHART / "files" / kind).glob(pattern)}
    hint = "run scripts/sync-chart-assets.py"
    missing = sorted(sources.keys() - copies.keys())
    assert not missing, f"{kind}/{missing} has no copy in the chart; {hint}"
    stale = sorted(copies.keys() - sources.keys())
    assert not stale, f"chart files/{kind}/{stale} have no source in {kind}/; {hint}"
    differing = sorted(n for n in sources if sources[n] != copies[n])
    assert not differing, f"chart copies of {kind}/{differing} differ from the sources; {hint}"


def test_sync_script_check_agrees_with_the_repository() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_sync_copies_new_and_changed_sources_and_removes_orphans(tmp_path: Path) -> None:
    files = "helm/driftwatch/files"
    _tree(
        tmp_path,
        {
            "alerts/a.yaml": b"groups: []\n",
            "alerts/b.yaml": b"groups:\n  - name: b\n    rules: []\n",
            "alerts/notes.txt": b"not an asset\n",
            "dashboards/d.json": b"{}\n",
            f"{files}/alerts/b.yaml": b"groups: []\n",
            f"{files}/alerts/gone.yaml": b"groups: []\n",
        },
    )
    found = {str(d.path): d.problem for d in sync_chart_assets.differences(tmp_path)}
    assert found == {
        f"{files}/alerts/a.yaml": "missing copy of alerts/a.yaml",
        f"{files}/alerts/b.yaml": "differs from alerts/b.yaml",
        f"{files}/alerts/gone.yaml": "has no source alerts/gone.yaml",
        f"{files}/dashboards/d.json": "missing copy of dashboards/d.json",
    }
    check = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1 and "alerts/b.yaml: differs" in check.stderr
    assert not (tmp_path / files / "alerts" / "a.yaml").exists(), "--check changes nothing"

    subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path)], check=True, capture_output=True
    )
    assert sync_chart_assets.differences(tmp_path) == []
    assert (tmp_path / files / "alerts" / "b.yaml").read_bytes() == (
        tmp_path / "alerts" / "b.yaml"
    ).read_bytes()
    assert not (tmp_path / files / "alerts" / "gone.yaml").exists()
    assert not (tmp_path / files / "alerts" / "notes.txt").exists()


def test_prometheus_rule_groups_equal_the_alerts_sources() -> None:
    sources = sorted((REPO / "alerts").glob("*.yaml"))
    assert sources, "the repository has no alerts/*.yaml"
    expected: list[dict[str, Any]] = []
    for path in sources:
        expected.extend(yaml.safe_load(path.read_text())["groups"])
    rule = render_chart({"prometheusRule": {"enabled": True}}).one("PrometheusRule")
    assert rule["spec"]["groups"] == expected


def test_dashboards_config_map_data_equals_the_dashboards_sources() -> None:
    sources = {p.name: p.read_text() for p in (REPO / "dashboards").glob("*.json")}
    assert sources, "the repository has no dashboards/*.json"
    config_map = render_chart({"dashboards": {"enabled": True}}).one(
        "ConfigMap", "driftwatch-dashboards"
    )
    assert config_map["data"] == sources
    for text in sources.values():
        json.loads(text)


def test_dashboards_keep_every_byte_including_template_braces(asset_chart: Path) -> None:
    """Dashboards hold Grafana ${vars} and {{ }}-like text; the chart must not touch it."""
    sources = {p.name: p.read_text() for p in (asset_chart / "files" / "dashboards").glob("*.json")}
    config_map = render_chart({"dashboards": {"enabled": True}}, chart=asset_chart).one(
        "ConfigMap", "driftwatch-dashboards"
    )
    assert config_map["data"] == sources


def test_alert_annotations_keep_their_prometheus_templates(asset_chart: Path) -> None:
    """`{{ $labels.x }}` in alert annotations must reach Prometheus untouched."""
    text = "".join(p.read_text() for p in (asset_chart / "files" / "alerts").glob("*.yaml"))
    rule = render_chart({"prometheusRule": {"enabled": True}}, chart=asset_chart).one(
        "PrometheusRule"
    )
    annotations = [
        value
        for group in rule["spec"]["groups"]
        for item in group["rules"]
        for value in item.get("annotations", {}).values()
    ]
    assert "{{ $labels." in text
    assert any("{{ $labels." in value for value in annotations)


@pytest.mark.parametrize(
    ("section", "kind"), [("prometheusRule", "alerts"), ("dashboards", "dashboards")]
)
def test_enabling_a_part_whose_assets_are_missing_fails_clearly(
    section: str, kind: str, tmp_path: Path
) -> None:
    chart = tmp_path / "driftwatch"
    shutil.copytree(CHART, chart)
    for path in (chart / "files" / kind).iterdir():
        path.unlink()
    with helm_python.Chart.load(chart) as loaded, pytest.raises(helm_python.HelmError) as e:
        loaded.render({section: {"enabled": True}}, name="driftwatch", namespace="driftwatch")
    assert "sync-chart-assets" in str(e.value)

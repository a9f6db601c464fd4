"""Fixtures for the Helm chart tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chart.chart_render import (
    CHART,
    SAMPLE_DASHBOARD,
    SAMPLE_RULES,
    Rendered,
    ci_values,
    has_assets,
    render_chart,
)


@pytest.fixture(scope="session")
def asset_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chart with alert rules and dashboards: the real one, or a copy with stand-ins.

    The real chart is used whenever it already holds both kinds of assets; otherwise a
    copy gets a stand-in for the missing kind only.
    """
    alerts = has_assets(CHART, "alerts", "*.yaml")
    dashboards = has_assets(CHART, "dashboards", "*.json")
    if alerts and dashboards:
        return CHART
    copy = tmp_path_factory.mktemp("chart") / "driftwatch"
    shutil.copytree(CHART, copy)
    if not alerts:
        (copy / "files" / "alerts" / "sample.yaml").write_bytes(SAMPLE_RULES)
    if not dashboards:
        (copy / "files" / "dashboards" / "sample.json").write_bytes(SAMPLE_DASHBOARD)
    return copy


@pytest.fixture(scope="session")
def render_variant(asset_chart: Path) -> Callable[[str], Rendered]:
    """Render a ci/ variant by name (cached), on a chart that has assets to render."""
    cache: dict[str, Rendered] = {}
    variants = ci_values()

    def render(variant: str) -> Rendered:
        if variant not in cache:
            cache[variant] = render_chart(variants[variant], chart=asset_chart)
        return cache[variant]

    return render

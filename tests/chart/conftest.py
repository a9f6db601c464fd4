"""Fixtures for the Helm chart tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chart.chart_render import (
    CHART,
    Rendered,
    ci_values,
    has_assets,
    render_chart,
)


@pytest.fixture(scope="session")
def asset_chart() -> Path:
    """The chart, which must ship alert rules and dashboards (scripts/sync-chart-assets.py)."""
    assert has_assets(CHART, "alerts", "*.yaml"), "the chart has no files/alerts/*.yaml"
    assert has_assets(CHART, "dashboards", "*.json"), "the chart has no files/dashboards/*.json"
    return CHART


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

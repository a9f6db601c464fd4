"""The Grafana dashboards in dashboards/: provisioning-ready, parameterised, valid PromQL.

The structure checks need nothing; the PromQL check runs every dashboard and rule
expression on a real (empty) Prometheus, so syntax errors are caught without
driftwatch.  test_e2e_prometheus.py runs them again against a scraped driftwatch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.alerts.contract import (
    all_panels,
    dashboard_expressions,
    dashboards,
    documented_metrics,
    metric_labels,
    metric_names,
    rule_expressions,
    runnable,
    variable_query,
)
from tests.alerts.procs import (
    alertmanager,
    free_port,
    needs_prometheus,
    prometheus,
    webhook_receiver,
)
from tests.alerts.prom_api import query_errors

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_expected_dashboards_exist():
    assert set(dashboards()) == {"driftwatch-overview.json", "driftwatch-target.json"}


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_dashboard_is_provisioning_ready(name: str):
    dashboard = dashboards()[name]
    assert dashboard["schemaVersion"] >= 39
    assert dashboard["uid"] == Path(name).stem, "uid must be stable and match the file name"
    assert len(dashboard["uid"]) <= 40
    assert dashboard["id"] is None, "a provisioned dashboard must not carry a database id"
    assert "driftwatch" in dashboard["tags"]
    assert dashboard["title"].startswith("driftwatch / ")


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_dashboard_variables_select_datasource_target_and_namespace(name: str):
    variables = {v["name"]: v for v in dashboards()[name]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for var in ("target", "namespace"):
        assert variables[var]["type"] == "query"
        assert variables[var]["datasource"] == DATASOURCE
        query = variable_query(variables[var])
        assert re.match(r"^label_values\(driftwatch_\w+(\{.*\})?, " + var + r"\)$", query), query
        if variables[var].get("includeAll"):
            assert variables[var]["allValue"] == ".*", "All must match every value"


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_panel_queries_the_datasource_variable(name: str):
    panels = all_panels(dashboards()[name])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel.get("description"), f"{panel['title']}: no description"
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
            assert metric_names(target["expr"]) or "up" in target["expr"], panel["title"]


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_per_target_metric_is_filtered_by_the_target_variable(name: str):
    labels = metric_labels()
    for panel in all_panels(dashboards()[name]):
        for target in panel.get("targets", []):
            for metric in metric_names(target["expr"]):
                if "target" in labels[metric]:
                    assert re.search(metric + r'\{[^}]*target=~"\$target"', target["expr"]), (
                        f"{panel['title']}: {metric} not filtered by $target"
                    )


def test_overview_shows_what_issue_8_asks_for():
    exprs = " ".join(e for where, e in dashboard_expressions() if "overview" in where)
    for needed in (
        "driftwatch_resources_by_kind",
        "time() - driftwatch_resource_drift_since_timestamp_seconds",
        "group_left (manager, direction)",
        "sum by (direction) (driftwatch_resource_drift",
        "driftwatch_git_pending_oldest_timestamp_seconds",
        "histogram_quantile(0.95, sum by (le, stage) (rate(driftwatch_run_duration_seconds_bucket",
        "driftwatch_run_errors_total",
        "driftwatch_git_revision_info",
        'state=~"missing|unmanaged"',
    ):
        assert needed in exprs, needed


def test_dashboards_use_only_metrics_of_the_contract():
    documented = documented_metrics()
    for where, expr in dashboard_expressions():
        unknown = metric_names(expr) - documented
        assert not unknown, f"{where} uses {sorted(unknown)}, not in docs/metrics.md"


def test_expressions_become_runnable_without_grafana():
    for where, expr in dashboard_expressions():
        assert "$" not in runnable(expr), where


@needs_prometheus
@pytest.mark.e2e
def test_every_dashboard_and_rule_expression_is_valid_promql(tmp_path: Path):
    rules = sorted((Path(__file__).resolve().parents[2] / "alerts").glob("*.yaml"))
    with webhook_receiver() as hook, alertmanager(tmp_path, hook.url) as am_url:
        with prometheus(tmp_path, free_port(), rules, am_url) as prom_url:
            exprs = dashboard_expressions() + rule_expressions()
            errors = query_errors(prom_url, [(w, runnable(e)) for w, e in exprs])
    assert errors == []

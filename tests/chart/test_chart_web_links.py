"""externalURL and grafanaURL: alerts, rules and dashboards link to the drift pages."""

from __future__ import annotations

import json

import yaml

from tests.chart.chart_render import render_chart

URL = "https://drift.acme.example"


def test_external_url_reaches_the_config_the_rules_and_the_dashboards() -> None:
    rendered = render_chart(
        {
            "externalURL": URL + "/",
            "grafanaURL": "https://grafana.acme.example",
            "prometheusRule": {"enabled": True},
            "dashboards": {"enabled": True},
        }
    )
    config = yaml.safe_load(rendered.one("ConfigMap", "driftwatch")["data"]["config.yaml"])
    assert config["server"]["externalUrl"] == URL + "/"
    assert config["server"]["grafanaUrl"] == "https://grafana.acme.example"
    rules = [
        r for g in rendered.one("PrometheusRule")["spec"]["groups"] for r in g["rules"]
    ]
    drifted = next(r for r in rules if r.get("alert") == "DriftwatchResourceDrifted")
    assert drifted["annotations"]["object_url"].startswith(URL + "/targets/{{ $labels.target }}/")
    dashboards = rendered.one("ConfigMap", "driftwatch-dashboards")["data"]
    target = json.loads(dashboards["driftwatch-target.json"])
    variable = next(v for v in target["templating"]["list"] if v["name"] == "driftwatch_url")
    assert variable["query"] == URL
    assert "driftwatch.example.com" not in json.dumps(dashboards)


def test_config_server_values_win_over_the_chart_values() -> None:
    rendered = render_chart(
        {"externalURL": URL, "config": {"server": {"externalUrl": "https://other.example"}}}
    )
    config = yaml.safe_load(rendered.one("ConfigMap", "driftwatch")["data"]["config.yaml"])
    assert config["server"]["externalUrl"] == "https://other.example"

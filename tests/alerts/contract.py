"""Shared readers for the alert and dashboard tests: rule files, runbook anchors, metric names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS_DIR = ROOT / "alerts"
DASHBOARDS_DIR = ROOT / "dashboards"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
RULE_TESTS = Path(__file__).resolve().parent / "driftwatch.rules.test.yaml"
RUNBOOK_BASE = "https://github.com/driftwatch/driftwatch/blob/main/docs/runbooks.md#"

METRIC_NAME = re.compile(r"\bdriftwatch_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def rule_files() -> list[Path]:
    """Every Prometheus rule file shipped in alerts/."""
    return sorted(ALERTS_DIR.glob("*.yaml"))


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of every rule file, each with its group name under ``_group``."""
    rules = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rules.append({**rule, "_group": group["name"]})
    return rules


def rule_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every rule (alerting and recording) in alerts/."""
    out = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                out.append((f"{path.name}:{name}", rule["expr"]))
    return out


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    """Anchors of every heading in docs/runbooks.md."""
    headings = re.findall(r"^#{1,6} (.+)$", RUNBOOKS.read_text(), flags=re.M)
    return {github_anchor(h) for h in headings}


def documented_metrics() -> set[str]:
    """Metric names of the contract table in docs/metrics.md (histograms with their series)."""
    names = set(re.findall(r"^\| `(driftwatch_[a-z0-9_]+)`", METRICS_DOC.read_text(), flags=re.M))
    text = METRICS_DOC.read_text()
    for name in list(names):
        if re.search(rf"`{name}` \| histogram", text):
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def metric_names(expr: str) -> set[str]:
    """driftwatch_* metric names an expression refers to."""
    return set(METRIC_NAME.findall(expr))


# --------------------------------------------------------------------------- dashboards

GRAFANA_MACROS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
}
"""What Grafana puts for its interval macros, so an expression can run on Prometheus as is."""
VARIABLE = re.compile(r"\$\{?(\w+)(?::\w+)?\}?")
LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?(\w+)\)$", re.S)


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON in dashboards/, by file name."""
    import json

    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def variable_query(variable: dict[str, Any]) -> str:
    """The query text of a template variable (string or Grafana 10 query object)."""
    query = variable.get("query")
    if isinstance(query, dict):
        return str(query.get("query", ""))
    return str(query or "")


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable of every dashboard.

    A ``label_values(selector, label)`` variable contributes its selector.
    """
    out = []
    for name, dashboard in dashboards().items():
        for panel in all_panels(dashboard):
            for target in panel.get("targets", []):
                if "expr" in target:
                    out.append((f"{name}: {panel['title']} [{target['refId']}]", target["expr"]))
        for variable in dashboard["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = LABEL_VALUES.match(variable_query(variable).strip())
            assert match, f"{name}: variable {variable['name']} is not label_values(...)"
            if match.group(1):
                out.append((f"{name}: variable {variable['name']}", match.group(1)))
    return out


def runnable(expr: str) -> str:
    """A dashboard expression with Grafana's macros and variables filled in (all values)."""
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    return VARIABLE.sub(".*", expr)


def metric_labels() -> dict[str, set[str]]:
    """Labels of each contract metric, as docs/metrics.md lists them (histogram series included)."""
    out: dict[str, set[str]] = {}
    pattern = r"^\| `(driftwatch_\w+)` \|([^|]*)\|([^|]*)\|"
    for row in re.findall(pattern, METRICS_DOC.read_text(), re.M):
        name, kind, labels = row
        names = {name}
        if "histogram" in kind:
            names |= {name + s for s in HISTOGRAM_SUFFIXES}
        for n in names:
            out[n] = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", labels)))
    return out

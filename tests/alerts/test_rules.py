"""The rules in alerts/: promtool accepts and unit-tests them; they follow mixin conventions."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from driftwatch.model import Direction, DriftState, ObjectDrift, ResourceKey
from driftwatch.sinks.alertmanager_payload import (
    ALERTNAMES,
    RUNBOOK_BASE,
    SEVERITIES,
    SUMMARIES,
    alert_kind,
)
from tests.alerts.contract import (
    RULE_TESTS,
    alert_rules,
    documented_metrics,
    metric_names,
    rule_expressions,
    rule_files,
    runbook_anchors,
)
from tests.alerts.procs import PROMTOOL, needs_promtool

REQUIRED_ALERTS = {
    "DriftwatchHandEdit",
    "DriftwatchGitSyncLag",
    "DriftwatchResourceDrifted",
    "DriftwatchResourceMissing",
    "DriftwatchUnmanagedResource",
    "DriftwatchTargetRunsFailing",
    "DriftwatchGitFetchFailing",
    "DriftwatchSnapshotStale",
    "DriftwatchDown",
    "DriftwatchAbsent",
    "DriftwatchDriftSeriesCapped",
    "DriftwatchUnknownTypes",
}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)


@needs_promtool
def test_promtool_check_rules_accepts_every_rule_file():
    result = _promtool("check", "rules", *map(str, rule_files()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_promtool_unit_tests_of_every_alert_pass():
    result = _promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_required_alerts_exist_with_mixin_conventions():
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), "alert names must be unique"
    assert REQUIRED_ALERTS <= set(names)
    anchors = runbook_anchors()
    for rule in rules:
        name = rule["alert"]
        assert re.fullmatch(r"Driftwatch([A-Z][a-z0-9]+)+", name), name
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        notes = rule["annotations"]
        per_object = rule["expr"].strip().startswith("driftwatch_resource_drift{")
        links = {"object_url"} if per_object else set()  # per-object alerts open the object page
        assert set(notes) == {"summary", "description", "runbook_url", *links}, name
        assert "{{" not in notes["summary"], f"{name}: summary must be static"
        if name != "DriftwatchAbsent":  # absent() has no labels to template
            assert "{{" in notes["description"], f"{name}: description must be templated"
        url = notes["runbook_url"]
        assert url == RUNBOOK_BASE + "#" + name.lower(), name
        assert url.split("#")[1] in anchors, f"{name}: no section {url} in docs/runbooks.md"
        assert "for" in rule or name == "DriftwatchEventLogWriteErrors", f"{name} has no for:"


def test_object_alerts_describe_the_object_and_who_changed_it():
    by_name = {r["alert"]: r for r in alert_rules()}
    for name in ("DriftwatchHandEdit", "DriftwatchResourceDrifted", "DriftwatchUnmanagedResource"):
        text = by_name[name]["annotations"]["description"]
        for label in ("target", "namespace", "kind", "name", "manager"):
            assert f"$labels.{label}" in text, f"{name} does not mention {label}"


def test_job_selector_appears_only_in_the_availability_group():
    for rule in alert_rules():
        has_job = "job=~" in rule["expr"] or "job=" in rule["expr"]
        assert has_job == (rule["_group"] == "driftwatch-availability"), rule["alert"]


def test_rules_use_only_metrics_of_the_contract():
    documented = documented_metrics()
    for where, expr in rule_expressions():
        unknown = metric_names(expr) - documented
        assert not unknown, f"{where} uses {sorted(unknown)}, not in docs/metrics.md"


def test_every_alert_has_a_firing_and_a_not_firing_unit_test():
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing: set[str] = set()
    silent: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert names - firing == set(), "alerts without a firing test"
    assert names - silent == set(), "alerts without a not-firing test"


@pytest.mark.parametrize("state", sorted(ALERTNAMES, key=lambda s: s.value))
def test_direct_alerts_match_the_prometheus_rules(state: DriftState):
    rule = {r["alert"]: r for r in alert_rules()}[ALERTNAMES[state]]
    assert rule["labels"]["severity"] == SEVERITIES[state]
    assert rule["annotations"]["summary"] == SUMMARIES[state]
    assert rule["annotations"]["runbook_url"].startswith(RUNBOOK_BASE)


@pytest.mark.parametrize("direction", list(Direction))
def test_direct_alerts_split_by_direction_as_the_prometheus_rules_do(direction: Direction):
    """Each drifted series raises exactly one rule, and direct delivery names the same one."""
    rules = {r["alert"]: r for r in alert_rules()}
    for state in ALERTNAMES:
        obj = ObjectDrift(
            ResourceKey("apps", "Deployment", "shop", "api"), state, direction=direction
        )
        name, severity, summary = alert_kind(obj)
        rule = rules[name]
        assert (rule["labels"]["severity"], rule["annotations"]["summary"]) == (severity, summary)
        series = (
            f'driftwatch_resource_drift{{drift_type="{state.value}",direction="{direction.value}"}}'
        )
        raising = [
            n
            for n, r in rules.items()
            if r["expr"].startswith("driftwatch_resource_drift{") and _selects(r["expr"], series)
        ]
        assert raising == [name], (state, direction)


def _selects(expr: str, series: str) -> bool:
    """Whether a ``metric{l="v",l=~"a|b"} > 0`` selector matches the series' labels."""
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', series.split("{", 1)[1]))
    for label, op, value in re.findall(r'(\w+)(=~|=)"([^"]*)"', expr.split("}", 1)[0]):
        have = wanted.get(label, "")
        if not (re.fullmatch(value, have) if op == "=~" else have == value):
            return False
    return True

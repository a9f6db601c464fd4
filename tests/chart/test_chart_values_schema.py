"""values.schema.json rejects bad values clearly and follows driftwatch's config format."""

from __future__ import annotations

import json
import re
from typing import Any

import helm_python
import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from driftwatch.config import model
from tests.chart.chart_render import CHART, ci_values

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())


def _helm_error(values: dict[str, Any]) -> str:
    with helm_python.Chart.load(CHART) as chart, pytest.raises(helm_python.HelmValuesError) as e:
        chart.validate_schema(values)
    return str(e.value)


def test_schema_is_draft_07_and_closed_at_the_top_and_in_main_blocks() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["additionalProperties"] is False
    for block in (
        "image",
        "config",
        "git",
        "rbac",
        "persistence",
        "serviceMonitor",
        "prometheusRule",
        "dashboards",
        "networkPolicy",
        "otel",
        "service",
    ):
        assert SCHEMA["properties"][block]["additionalProperties"] is False, block


def test_schema_declares_every_default_value() -> None:
    def walk(values: dict[str, Any], schema: dict[str, Any], where: str) -> None:
        properties = schema.get("properties")
        if properties is None:
            return  # an open Kubernetes structure (resources, affinity, ...)
        for key, value in values.items():
            assert key in properties, f"{where}{key} is not in values.schema.json"
            if isinstance(value, dict):
                walk(value, properties[key], f"{where}{key}.")

    walk(DEFAULTS, SCHEMA, "")


@pytest.mark.parametrize("variant", sorted(ci_values()))
def test_every_shipped_values_file_validates(variant: str) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(ci_values()[variant])
    with helm_python.Chart.load(CHART) as chart:
        chart.validate_schema(ci_values()[variant])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"replicaCount": "1"}, "/replicaCount"),
        ({"replicas": 1}, "'replicas' not allowed"),
        ({"rbac": {"namespace": ["a"]}}, "'namespace' not allowed"),
        ({"persistence": {"enabled": "yes"}}, "/persistence/enabled"),
        ({"config": {"targets": [{"name": "a"}]}}, "missing property 'repo'"),
        (
            {"config": {"targets": [{"name": "a", "repo": "r", "intreval": "5m"}]}},
            "'intreval' not allowed",
        ),
        (
            {
                "config": {
                    "targets": [{"name": "a", "repo": "r", "schedule": {"interval": "5 min"}}]
                }
            },
            "/config/targets/0/schedule/interval",
        ),
        ({"config": {"stateDir": "/data"}}, "'stateDir' not allowed"),
        ({"git": {"auth": "password"}}, "/git/auth"),
        (
            {"rbac": {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}},
            "'verbs' not allowed",
        ),
        ({"image": {"digest": "latest"}}, "/image/digest"),
    ],
)
def test_bad_values_fail_naming_the_offending_key(values: dict[str, Any], expected: str) -> None:
    message = _helm_error(values)
    assert expected in message, message
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(values)


def test_lint_reports_a_bad_values_file_as_an_error() -> None:
    report = helm_python.lint(CHART, {"logFormat": "xml"}, strict=True)
    errors = " ".join(m["error"] for m in report["messages"] if m["severity"] == 3)
    assert "/logFormat" in errors


def _aliases(cls: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in cls.model_fields.items()}


def _properties(schema: dict[str, Any]) -> set[str]:
    return set(schema["properties"])


def _definition(name: str) -> dict[str, Any]:
    definition: dict[str, Any] = SCHEMA["definitions"][name]
    return definition


# Keys of driftwatch's config file that the chart sets itself (flags or fixed values).
CHART_OWNED = {
    "Config": {"version", "stateDir", "cacheDir"},
    "ServerOptions": {"listen", "tokenFile"},
}


@pytest.mark.parametrize(
    ("model_class", "schema"),
    [
        (model.Config, SCHEMA["properties"]["config"]),
        (model.ManagerRules, SCHEMA["properties"]["config"]["properties"]["managers"]),
        (model.EventLogOptions, SCHEMA["properties"]["config"]["properties"]["eventLog"]),
        (model.AlertmanagerSink, SCHEMA["properties"]["config"]["properties"]["alertmanager"]),
        (model.ServerOptions, SCHEMA["properties"]["config"]["properties"]["server"]),
        (model.Cluster, _definition("cluster")),
        (model.Target, _definition("target")),
        (model.GitCredentials, _definition("credentials")),
        (model.IgnoreRule, _definition("ignoreRule")),
        (model.Schedule, _definition("schedule")),
        (model.HelmOptions, _definition("helmOptions")),
    ],
    ids=lambda p: p.__name__ if isinstance(p, type) else "",
)
def test_config_schema_has_exactly_the_config_file_keys(
    model_class: type[BaseModel], schema: dict[str, Any]
) -> None:
    """A key added to driftwatch's config model must be added to the chart's schema too."""
    expected = _aliases(model_class) - CHART_OWNED.get(model_class.__name__, set())
    assert _properties(schema) == expected
    assert schema["additionalProperties"] is False


def test_schema_durations_accept_what_driftwatch_parses() -> None:
    pattern = re.compile(_definition("duration")["pattern"])
    for text in ("30s", "5m", "1h30m", "250ms", "1h"):
        assert pattern.match(text), text
        model.parse_duration(text)
    for text in ("5 min", "m", "1d"):
        assert not pattern.match(text), text
        with pytest.raises(ValueError):
            model.parse_duration(text)


def test_readme_documents_every_value() -> None:
    readme = (CHART / "README.md").read_text().split("\n## Values\n", 1)[1]
    documented = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))

    def leaves(values: dict[str, Any], schema: dict[str, Any], prefix: str) -> set[str]:
        keys: set[str] = set()
        for key, value in values.items():
            path = f"{prefix}{key}"
            sub = schema.get("properties", {}).get(key, {})
            if isinstance(value, dict) and value and "properties" in sub:
                keys |= leaves(value, sub, f"{path}.")
            else:
                keys.add(path)
        return keys

    expected = leaves(DEFAULTS, SCHEMA, "")
    assert sorted(expected - documented) == []
    assert sorted(documented - expected) == []

"""The shared report JSON (check --output json and /api/v1/drift) is complete and stable."""

from __future__ import annotations

import json

from driftwatch.model import DriftState, GroupKind, IgnoredDrift, ResourceKey, SourceError
from driftwatch.sinks.report_json import SCHEMA, report_to_json
from tests.service.helpers import drift, report


def test_report_json_has_every_documented_key_and_round_trips() -> None:
    api = drift("api")
    ignored = drift("web", state=DriftState.IN_SYNC)
    ignored = type(ignored)(
        key=ignored.key,
        state=ignored.state,
        ignored=(IgnoredDrift("spec.replicas", "hpa-managed"),),
    )
    rep = report(
        "shop",
        [api, ignored, drift("x", state=DriftState.UNMANAGED, manager=None)],
        source_errors=[SourceError("bad.yaml", "not YAML", 3)],
        read_errors={GroupKind("example.com", "Widget"): "forbidden"},
        ignored_count=1,
    )
    data = json.loads(json.dumps(report_to_json(rep)))
    assert data["schema"] == SCHEMA
    assert set(data) == {
        "schema",
        "target",
        "revision",
        "snapshot_time",
        "snapshot_time_estimated_from",
        "complete",
        "totals",
        "source_errors",
        "read_errors",
        "objects",
    }
    assert set(data["revision"]) == {
        "sha",
        "ref",
        "author",
        "time",
        "subject",
        "repository",
        "note",
    }
    assert data["complete"] is False
    assert data["source_errors"] == [{"file": "bad.yaml", "line": 3, "message": "not YAML"}]
    assert data["read_errors"] == [{"group": "example.com", "kind": "Widget", "error": "forbidden"}]
    assert [o["name"] for o in data["objects"]] == ["api", "x"]
    obj = data["objects"][0]
    assert set(obj) == {
        "resource",
        "group",
        "kind",
        "namespace",
        "name",
        "api_version",
        "state",
        "reason",
        "origin",
        "attribution",
        "direction",
        "git_commit",
        "fields",
        "ignored",
    }
    assert obj["resource"] == "Deployment.apps/shop/api"
    assert (obj["direction"], obj["git_commit"]) == ("unknown", None)
    assert set(obj["fields"][0]) == {
        "path",
        "change",
        "desired",
        "live",
        "attribution",
        "direction",
        "git_commit",
    }
    assert obj["origin"] == {"file": "deploy/api.yaml", "document": 0, "line": 1}
    assert obj["attribution"]["manager"] == "kubectl-edit"
    every = report_to_json(rep, all_objects=True)["objects"]
    assert every[1]["direction"] is None  # in sync: no side moved
    assert every[1]["ignored"] == [
        {
            "path": "spec.replicas",
            "rule": "hpa-managed",
            "attribution": {"manager": None, "operation": None, "subresource": None, "time": None},
        }
    ]


def test_drift_age_is_added_only_when_asked() -> None:
    rep = report("shop", [drift("api")])

    def first_seen(key: ResourceKey, state: DriftState) -> float | None:
        return 1000.0

    (obj,) = report_to_json(rep, first_seen=first_seen, now=1060.0)["objects"]
    assert obj["first_seen"] == "1970-01-01T00:16:40Z" and obj["drift_age_seconds"] == 60.0
    (obj,) = report_to_json(rep, select=lambda o: o.key.name == "api")["objects"]
    assert "first_seen" not in obj
    assert report_to_json(rep, select=lambda o: False)["objects"] == []

"""The generated world is the recorded one renamed, and its drift is the recorded drift."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import templates
from bench.generate import UNIT, Layout, expected_drift, live_objects, props_for, write_repo
from bench.soak import summarize

LAYOUT = Layout(200, per_namespace=100)
"""20 apps in 2 namespaces: every drift slot (app index modulo 20) occurs once."""

_CASE_OF = {
    ("Deployment", "set-image"): "set-image",
    ("Deployment", "scale"): "scale",
    ("Deployment", "set-env-add"): "set-env-add",
    ("ConfigMap", "edit-cm"): "edit-cm",
}


def _generated() -> list[dict[str, Any]]:
    names = {f"bench-{i:04d}" for i in range(2)}
    return [o for o in live_objects(LAYOUT) if o["metadata"].get("namespace", "") in names]


def _unrename(body: dict[str, Any], app: str, namespace: str) -> dict[str, Any]:
    """Undo the renaming and the varied values, to compare with the recorded object."""
    text = json.dumps(body).replace(app, "shop").replace(namespace, "shop")
    out: dict[str, Any] = json.loads(text)
    recorded_props = "checkout.enabled=true\ncheckout.max-items=50\n"
    if out["kind"] == "ConfigMap" and "app.properties" in out.get("data", {}):
        out["data"]["app.properties"] = recorded_props
        annotations = out["metadata"].get("annotations") or {}
        if templates.LAST_APPLIED in annotations:
            applied = json.loads(annotations[templates.LAST_APPLIED])
            applied["data"]["app.properties"] = recorded_props
            annotations[templates.LAST_APPLIED] = (
                json.dumps(applied, sort_keys=True, separators=(",", ":")) + "\n"
            )
    return out


def _identity(body: dict[str, Any]) -> tuple[str, str]:
    """(app, namespace) an object was generated for; app ``shop`` for per-namespace objects."""
    meta = body["metadata"]
    if body["kind"] == "Namespace":
        return "shop", meta["name"]
    name = meta["name"]
    return (name.split("-")[0] if name.startswith("app") else "shop"), meta["namespace"]


def test_every_generated_live_object_is_a_recorded_object_renamed() -> None:
    """Only names, namespaces, uid, resourceVersion and ConfigMap data differ from a recording."""
    checked = Counter[str]()
    for body in _generated():
        app, namespace = _identity(body)
        index = int(app.removeprefix("app")) if app.startswith("app") else None
        drift = LAYOUT.drift_of(index) if index is not None else None
        case = _CASE_OF.get((body["kind"], drift or ""), "untouched-csa")
        if body["metadata"]["name"].endswith("-stray"):
            case = "stray"
        original = _unrename(body, app, namespace)
        meta = original["metadata"]
        recorded = templates.recorded_live(
            case, body["kind"], meta.get("namespace", ""), meta["name"]
        )
        meta["uid"] = recorded["metadata"]["uid"]
        meta["resourceVersion"] = recorded["metadata"]["resourceVersion"]
        assert original == recorded, f"{body['kind']} {body['metadata']['name']} ({case})"
        checked[case] += 1
    assert set(checked) == {
        "untouched-csa",
        "set-image",
        "scale",
        "set-env-add",
        "edit-cm",
        "stray",
    }


def test_git_manifests_are_what_each_live_object_records_as_last_applied(tmp_path: Path) -> None:
    """The repository declares exactly what the server was told (the last-applied record)."""
    write_repo(tmp_path / "repo", LAYOUT)
    live = {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
        for o in live_objects(LAYOUT)
    }
    declared = 0
    for path in sorted((tmp_path / "repo" / "apps").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
            declared += 1
            body = live.get(key)
            if body is None:
                continue  # the deleted ConfigMaps
            applied = json.loads(body["metadata"]["annotations"][templates.LAST_APPLIED])
            applied["metadata"].pop("annotations")
            if doc["kind"] == "ConfigMap" and key[2].endswith("-config"):
                assert doc["data"]["app.properties"] == props_for(key[2].split("-")[0])
            assert doc == applied, f"{key}"
    assert declared == LAYOUT.objects + len(LAYOUT.namespaces)


def test_the_repository_is_a_committed_git_repository(tmp_path: Path) -> None:
    """A real commit the Git source can fetch, with a few objects per file."""
    sha = write_repo(tmp_path / "repo", LAYOUT)
    assert len(sha) == 40
    files = list((tmp_path / "repo" / "apps").rglob("*.yaml"))
    per_file = [len(list(yaml.safe_load_all(f.read_text()))) for f in files]
    assert max(per_file) <= 4
    assert sum(per_file) == LAYOUT.objects + len(LAYOUT.namespaces)


def test_three_percent_of_objects_drift_one_recorded_case_per_slot() -> None:
    """Every recorded drift case occurs, 3% of N, with the state the case's recording expects."""
    drift = expected_drift(Layout(10_000))
    assert len(drift) == 300
    states = Counter(d[4] for d in drift)
    assert states == {"modified": 200, "missing": 50, "unmanaged": 50}


def test_layout_refuses_counts_that_do_not_fill_whole_apps() -> None:
    """N must be a multiple of the ten objects of one app."""
    with pytest.raises(ValueError, match="multiples"):
        Layout(1005)
    assert len(UNIT) == 10


def test_soak_summary_reports_growth_after_warmup() -> None:
    """Growth is measured from after the warm-up to the end, not from the first run."""
    samples = [
        {"run": i, "rss_mb": 100.0 + (50 if i <= 5 else i * 0.1), "fds": 9.0, "threads": 4.0}
        for i in range(1, 41)
    ]
    summary = summarize(samples, warmup=5, window=5)
    assert summary["warmup_runs"] == 5
    assert summary["fds"]["growth"] == 0
    assert summary["rss_mb"]["growth"] == pytest.approx(3.0, abs=0.2)
    assert summary["rss_mb"]["per_100_runs"] == pytest.approx(10.0, abs=0.5)

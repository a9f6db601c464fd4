"""The /metrics collector: names and labels of docs/metrics.md, built at scrape time."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.model import Direction, DriftState, GitRevision, GroupKind, ObjectDrift, ResourceKey
from driftwatch.run import RunStatus, Stage
from driftwatch.sinks.metrics import MetricsStore, error_stages, public_url
from tests.service.helpers import config, drift, run_of

DOC = Path(__file__).parents[2] / "docs" / "metrics.md"
EXTRA_METRICS: set[str] = set()
"""Not (yet) in docs/metrics.md: config reloads are counted, as the service brief asks."""


def samples(store: MetricsStore) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = store.exposition().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def series(store: MetricsStore, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (n, labels) in samples(store) if n == name]


def value(store: MetricsStore, metric: str, **labels: str) -> float:
    return samples(store)[(metric, frozenset(labels.items()))]


def store_with(*names: str, **server: object) -> MetricsStore:
    store = MetricsStore()
    store.configure(config(*names, **server))
    return store


def test_drifted_object_series_appear_and_vanish_with_the_report() -> None:
    store = store_with("shop")
    store.emit(run_of("shop", [drift("api"), drift("web", state=DriftState.IN_SYNC)]))
    assert series(store, "driftwatch_resource_drift") == [
        {
            "target": "shop",
            "group": "apps",
            "kind": "Deployment",
            "namespace": "shop",
            "name": "api",
            "drift_type": "modified",
            "manager": "kubectl-edit",
            "direction": "unknown",
        }
    ]
    assert len(series(store, "driftwatch_resource_drift_since_timestamp_seconds")) == 1

    store.emit(run_of("shop", [drift("api", state=DriftState.IN_SYNC)]))
    assert series(store, "driftwatch_resource_drift") == []
    assert series(store, "driftwatch_resource_drift_since_timestamp_seconds") == []
    assert value(store, "driftwatch_resources", target="shop", state="in_sync") == 1
    assert value(store, "driftwatch_resources", target="shop", state="modified") == 0


def test_unattributed_drift_has_manager_unknown() -> None:
    store = store_with("shop")
    store.emit(
        run_of("shop", [drift("api", manager=None), drift("gone", state=DriftState.MISSING)])
    )
    managers = {s["name"]: s["manager"] for s in series(store, "driftwatch_resource_drift")}
    assert managers == {"api": "unknown", "gone": "unknown"}


def test_resource_counts_per_state_include_ignored_and_by_kind_rules() -> None:
    store = store_with("shop")
    run = run_of(
        "shop",
        [
            drift("api"),
            drift("db", state=DriftState.MISSING),
            drift("cfg", kind="ConfigMap", group="", state=DriftState.IN_SYNC),
        ],
    )
    assert run.report is not None
    run.report.ignored_count = 4
    store.emit(run)
    assert value(store, "driftwatch_resources", target="shop", state="ignored") == 4
    assert value(store, "driftwatch_resources", target="shop", state="missing") == 1
    by_kind = {(s["kind"], s["state"]) for s in series(store, "driftwatch_resources_by_kind")}
    # in_sync always, other states only when non-zero
    assert by_kind == {
        ("Deployment", "in_sync"),
        ("Deployment", "modified"),
        ("Deployment", "missing"),
        ("ConfigMap", "in_sync"),
    }


def test_cap_limits_per_object_series_and_counts_the_dropped() -> None:
    store = store_with("a", "b", max_drift_series=3)
    store.emit(run_of("a", [drift(f"a{i}") for i in range(2)]))
    store.emit(run_of("b", [drift(f"b{i}") for i in range(4)]))
    assert len(series(store, "driftwatch_resource_drift")) == 3
    assert len(series(store, "driftwatch_resource_drift_since_timestamp_seconds")) == 3
    assert value(store, "driftwatch_resource_drift_series_dropped", target="a") == 0
    assert value(store, "driftwatch_resource_drift_series_dropped", target="b") == 3
    assert value(store, "driftwatch_resource_drift_series_limit") == 3
    assert value(store, "driftwatch_resource_drift_series_dropped_total") == 3
    store.emit(run_of("b", [drift(f"b{i}") for i in range(4)]))
    assert value(store, "driftwatch_resource_drift_series_dropped_total") == 6


def test_removed_target_loses_every_series() -> None:
    store = store_with("a", "b")
    store.emit(run_of("a", [drift()]))
    store.emit(run_of("b", [drift()]))
    store.configure(config("a"))
    targets = {dict(labels).get("target") for (_, labels) in samples(store)}
    assert "b" not in targets and "a" in targets


def test_runs_errors_histogram_and_api_request_counters_accumulate() -> None:
    store = store_with("shop")
    store.emit(run_of("shop", [drift()]))
    store.emit(run_of("shop", status=RunStatus.FAILED))
    assert value(store, "driftwatch_runs_total", target="shop", status="success") == 1
    assert value(store, "driftwatch_runs_total", target="shop", status="failed") == 1
    assert value(store, "driftwatch_run_errors_total", target="shop", stage="snapshot") == 1
    assert value(store, "driftwatch_run_duration_seconds_count", target="shop", stage="git") == 2
    assert (
        value(
            store,
            "driftwatch_run_duration_seconds_bucket",
            target="shop",
            stage="snapshot",
            le="0.5",
        )
        == 0
    )
    assert (
        value(
            store,
            "driftwatch_run_duration_seconds_bucket",
            target="shop",
            stage="snapshot",
            le="1.0",
        )
        == 2
    )
    assert (
        value(
            store,
            "driftwatch_kubernetes_api_requests_total",
            target="shop",
            verb="list",
            code="200",
        )
        == 8
    )


def test_failed_run_keeps_last_report_and_marks_timestamps() -> None:
    store = store_with("shop")
    ok = run_of("shop", [drift()], finished_at=1000.0)
    store.emit(ok)
    store.emit(run_of("shop", status=RunStatus.FAILED, finished_at=2000.0, git_stale=True))
    assert value(store, "driftwatch_last_run_timestamp_seconds", target="shop") == 2000.0
    assert value(store, "driftwatch_last_successful_run_timestamp_seconds", target="shop") == 1000.0
    assert value(store, "driftwatch_git_stale", target="shop") == 1
    assert len(series(store, "driftwatch_resource_drift")) == 1
    assert series(store, "driftwatch_git_revision_info")[0]["sha"].startswith("0123")


def test_target_info_hides_repository_credentials() -> None:
    store = store_with("shop")
    (info,) = series(store, "driftwatch_target_info")
    assert info["repository"] == "https://git.example.com/shop.git"
    assert "s3cret" not in store.exposition().decode()
    assert public_url("git@github.com:org/repo.git") == "git@github.com:org/repo.git"


def test_partial_run_counts_error_in_the_stage_that_was_incomplete() -> None:
    run = run_of("shop", [drift()], status=RunStatus.PARTIAL)
    assert run.report is not None
    run.report.read_errors[GroupKind("example.com", "Widget")] = "forbidden"
    assert error_stages(run) == {Stage.SNAPSHOT}
    assert error_stages(run_of("shop", [], git_stale=True)) == {Stage.GIT}


def test_first_seen_lookup_feeds_drift_since() -> None:
    def first_seen(target: str, key: ResourceKey, state: DriftState) -> float | None:
        return 1234.0 if key.name == "api" else None

    store = MetricsStore(first_seen=first_seen)
    store.configure(config("shop"))
    store.emit(run_of("shop", [drift("api"), drift("web")], finished_at=5000.0))
    since = {
        s["name"]: value(store, "driftwatch_resource_drift_since_timestamp_seconds", **s)
        for s in series(store, "driftwatch_resource_drift_since_timestamp_seconds")
    }
    assert since == {"api": 1234.0, "web": 5000.0}


def test_other_components_counters_are_exported() -> None:
    store = store_with("shop")
    store.count_event("io.driftwatch.drift.detected")
    store.count_event_log_write_error()
    store.count_alertmanager_notification(0, success=False)
    store.count_watch_event("shop", "MODIFIED")
    store.count_watch_mismatch("shop")
    assert value(store, "driftwatch_events_total", type="io.driftwatch.drift.detected") == 1
    assert value(store, "driftwatch_event_log_write_errors_total") == 1
    assert (
        value(
            store, "driftwatch_alertmanager_notifications_total", url_index="0", outcome="failure"
        )
        == 1
    )
    assert value(store, "driftwatch_watch_events_total", target="shop", type="MODIFIED") == 1
    assert value(store, "driftwatch_watch_mismatches_total", target="shop") == 1


def _full_store() -> MetricsStore:
    store = store_with("shop", "other", max_drift_series=1)
    pending = GitRevision("f" * 40, "", author="Ana", time="2026-12-01T09:00:00Z", subject="s")
    web = drift("web", state=DriftState.UNMANAGED)
    web = replace(web, direction=Direction.GIT, git_commit=pending)
    store.emit(run_of("shop", [drift("api"), web]))
    store.emit(run_of("other", status=RunStatus.FAILED))
    store.count_event("io.driftwatch.drift.detected")
    store.count_alertmanager_notification(0, success=True)
    store.count_watch_event("shop", "ADDED")
    store.count_watch_mismatch("shop")
    store.count_config_reload(success=False)
    store.watch_health = lambda: [("prod", "apps", "Deployment", True, 0)]
    return store


def test_every_documented_metric_is_exported_with_its_labels() -> None:
    documented = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\| `(driftwatch_\w+)` \| (\w+)[^|]*\|([^|]*)\|", line)
        if m:
            labels = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", m.group(3))))
            documented[m.group(1)] = (m.group(2), labels)
    assert len(documented) == 31
    # keyed by type too: the parser strips _total, so the gauge ..._series_dropped and the
    # counter ..._series_dropped_total share a family name
    exposed = text_string_to_metric_families(_full_store().exposition().decode())
    families = {(f.name, f.type): f for f in exposed}
    for name, (kind, labels) in documented.items():
        family_name = name.removesuffix("_total") if kind == "counter" else name
        assert (family_name, kind) in families, f"{name} ({kind}) missing"
        family = families[family_name, kind]
        assert family.samples, f"{name} has no sample in a populated store"
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == labels, (name, sample.labels, labels)
    undocumented = {f.name for f in families.values()} - {
        n.removesuffix("_total") for n in documented
    }
    assert undocumented == EXTRA_METRICS


def test_promtool_check_metrics_reports_nothing() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=_full_store().exposition(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        result.stdout.decode() + result.stderr.decode()
    )


def test_direction_labels_each_drift_series_and_the_oldest_pending_commit_is_exported() -> None:
    def moved(name: str, direction: Direction, when: str | None = None) -> ObjectDrift:
        commit = GitRevision("f" * 40, "", author="Ana", time=when, subject="s") if when else None
        return replace(drift(name), direction=direction, git_commit=commit)

    store = store_with("shop")
    store.emit(run_of("shop", [moved("api", Direction.CLUSTER)]))
    assert [s["direction"] for s in series(store, "driftwatch_resource_drift")] == ["cluster"]
    assert series(store, "driftwatch_git_pending_oldest_timestamp_seconds") == []

    store.emit(
        run_of(
            "shop",
            [
                moved("api", Direction.GIT, "2026-12-01T10:00:00+00:00"),
                moved("web", Direction.BOTH, "2026-12-01T09:00:00Z"),
                moved("db", Direction.UNKNOWN),
            ],
        )
    )
    directions = {s["name"]: s["direction"] for s in series(store, "driftwatch_resource_drift")}
    assert directions == {"api": "git", "web": "both", "db": "unknown"}
    oldest = value(store, "driftwatch_git_pending_oldest_timestamp_seconds", target="shop")
    assert oldest == datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp()

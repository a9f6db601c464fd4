"""The direct Alertmanager sink: which alerts it fires, keeps and resolves, and how it delivers.

These tests post to a recording HTTP server standing in for Alertmanager's
``/api/v2/alerts``; test_alertmanager_real.py does the same against a real one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from email.utils import formatdate
from typing import Any

import pytest

from driftwatch.config.model import AlertmanagerSink, Config
from driftwatch.model import ChangeKind, Direction, DriftState, FieldDrift, ObjectDrift
from driftwatch.run import RunStatus
from driftwatch.sinks.alertmanager import AlertmanagerNotifier
from driftwatch.sinks.alertmanager_delivery import display_url
from tests.alerts.procs import WebhookReceiver, free_port, wait_until, webhook_receiver
from tests.alerts.runs import (
    API,
    CONFIG,
    EDIT,
    FULL_FINGERPRINT,
    SECRET,
    in_sync,
    moved,
    partial,
    run,
    scaled,
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def notifier(
    *urls: str, clock: Clock | None = None, sync_lag: float = 3600, **kwargs: Any
) -> AlertmanagerNotifier:
    options = AlertmanagerSink(
        urls=urls,
        resend_interval=300,
        timeout=5,
        external_url="http://driftwatch.example:8080/",
        sync_lag=sync_lag,
    )
    kwargs.setdefault("backoff", 0.01)
    return AlertmanagerNotifier(options, instance="dw-test", clock=clock or Clock(), **kwargs)


def batches(receiver: WebhookReceiver, sink: AlertmanagerNotifier) -> list[list[dict[str, Any]]]:
    assert sink.flush(10), "deliveries did not finish"
    return receiver.snapshot()


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_drifted_object_fires_alert_with_identity_labels_links_and_field_paths(receiver):
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled(), in_sync(CONFIG)))
        [batch] = batches(receiver, sink)
    finally:
        sink.close()
    [alert] = batch
    assert alert["labels"] == {
        "alertname": "DriftwatchResourceDrifted",
        "severity": "warning",
        "target": "shop",
        "namespace": "shop",
        "group": "apps",
        "kind": "Deployment",
        "name": "shop-api",
        "drift_type": "modified",
        "direction": "unknown",
        "instance": "dw-test",
    }
    notes = alert["annotations"]
    assert notes["summary"] == "A Kubernetes object differs from what Git declares."
    assert "Deployment.apps shop/shop-api of target shop" in notes["description"]
    assert notes["changed_by"] == "kubectl-edit (Update) at 2026-11-30T05:00:00Z"
    assert notes["drifted_fields"] == "spec.replicas (changed): 2 -> 4 by kubectl-edit"
    link = (
        "http://driftwatch.example:8080/api/v1/drift"
        "?target=shop&namespace=shop&kind=Deployment.apps&name=shop-api"
    )
    assert notes["drift_url"] == link
    page = "http://driftwatch.example:8080/targets/shop/objects/apps/Deployment/shop/shop-api"
    assert notes["object_url"] == page
    assert alert["generatorURL"] == page  # Alertmanager's "Source" link opens the object page
    assert notes["runbook_url"].endswith("docs/runbooks.md#driftwatchresourcedrifted")
    assert ts(alert["endsAt"]) > ts(alert["startsAt"]), "a firing alert must end in the future"


def test_cleared_drift_resolves_with_ends_at_now_and_keeps_first_starts_at(receiver):
    clock = Clock()
    sink = notifier(receiver.url, clock=clock)
    try:
        sink.emit(run(scaled()))
        clock.now += 60
        sink.emit(run(scaled()))
        clock.now += 60
        sink.emit(run(in_sync(API)))
        first, again, cleared = batches(receiver, sink)
    finally:
        sink.close()
    assert first[0]["startsAt"] == again[0]["startsAt"], "startsAt must stay the first firing"
    assert ts(again[0]["endsAt"]) > clock.now
    [resolved] = cleared
    assert resolved["labels"] == first[0]["labels"]
    assert ts(resolved["endsAt"]) == clock.now
    assert sink.active_alerts() == []


def test_drift_changing_kind_resolves_old_alert_and_fires_new_one(receiver):
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled()))
        sink.emit(run(ObjectDrift(API, DriftState.MISSING)))
        _, second = batches(receiver, sink)
    finally:
        sink.close()
    by_name = {a["labels"]["alertname"]: a for a in second}
    assert set(by_name) == {"DriftwatchResourceMissing", "DriftwatchResourceDrifted"}
    assert by_name["DriftwatchResourceMissing"]["labels"]["drift_type"] == "missing"
    old = by_name["DriftwatchResourceDrifted"]
    assert ts(old["endsAt"]) <= ts(by_name["DriftwatchResourceMissing"]["startsAt"])


def test_unknown_object_neither_fires_nor_resolves(receiver):
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled()))
        sink.emit(partial(ObjectDrift(API, DriftState.UNKNOWN), unreadable=API.group_kind))
        sink.emit(partial(in_sync(CONFIG), unreadable=API.group_kind))  # not even listed
        sink.emit(partial(bad_file=True))
        _, *later = batches(receiver, sink)
    finally:
        sink.close()
    for batch in later:
        assert [a["labels"]["name"] for a in batch] == ["shop-api"], "only the old alert, re-sent"
        assert ts(batch[0]["endsAt"]) > ts(batch[0]["startsAt"]), "an unknown object resolved"
    assert len(sink.active_alerts()) == 1


def test_failed_run_changes_nothing(receiver):
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled()))
        sink.emit(run(status=RunStatus.FAILED))
        first, second = batches(receiver, sink)
    finally:
        sink.close()
    assert [a["labels"] for a in second] == [a["labels"] for a in first]
    assert ts(second[0]["endsAt"]) > ts(second[0]["startsAt"])


def test_object_gone_from_a_complete_report_resolves(receiver):
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled()))
        sink.emit(run(in_sync(CONFIG)))
        _, second = batches(receiver, sink)
    finally:
        sink.close()
    [resolved] = second
    assert resolved["labels"]["name"] == "shop-api"
    assert ts(resolved["endsAt"]) <= ts(resolved["startsAt"]) + 1


def test_secret_drift_alert_shows_paths_but_no_values_and_no_fingerprints(receiver):
    secret = ObjectDrift(
        SECRET,
        DriftState.MODIFIED,
        fields=(
            FieldDrift(
                "data.password", ChangeKind.CHANGED, FULL_FINGERPRINT, "hmac-sha256:ff", EDIT
            ),
        ),
    )
    annotated = ObjectDrift(
        CONFIG,
        DriftState.MODIFIED,
        fields=(
            FieldDrift(
                "metadata.annotations",
                ChangeKind.ADDED,
                None,
                {"example.com/token": FULL_FINGERPRINT},
                EDIT,
            ),
        ),
    )
    sink = notifier(receiver.url)
    try:
        sink.emit(run(secret, annotated))
        [batch] = batches(receiver, sink)
    finally:
        sink.close()
    text = json.dumps(batch)
    assert FULL_FINGERPRINT not in text
    by_kind = {a["labels"]["kind"]: a["annotations"]["drifted_fields"] for a in batch}
    assert by_kind["Secret"] == "data.password (changed) by kubectl-edit"
    assert by_kind["ConfigMap"] == (
        'metadata.annotations (added): (absent) -> {"example.com/token":"hmac-sha256:012345678'
        '9ab"} by kubectl-edit'
    )


def test_failed_post_is_retried_with_backoff_until_it_succeeds(receiver):
    outcomes: Counter[tuple[int, bool]] = Counter()
    receiver.refuse = 2
    sink = notifier(receiver.url, on_delivery=lambda i, o: outcomes.update([(i, o)]))
    try:
        sink.emit(run(scaled()))
        assert sink.flush(10)
    finally:
        sink.close()
    assert len(receiver.snapshot()) == 3
    assert outcomes == {(0, True): 1}


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_refused_post_waits_the_retry_after_alertmanager_asks_for(receiver, form):
    wait = 1.5
    receiver.refuse = 1
    receiver.retry_after = (
        f"{wait:g}" if form == "seconds" else formatdate(time.time() + wait + 1, usegmt=True)
    )
    sink = notifier(receiver.url, backoff=0.01)  # without Retry-After: ~10ms
    try:
        sink.emit(run(scaled()))
        assert sink.flush(20)
    finally:
        sink.close()
    first, second = receiver.arrivals
    assert second - first >= wait - 0.1, "the retry came before Retry-After said"


def test_retries_are_bounded_and_a_client_error_is_not_retried(receiver):
    outcomes: Counter[tuple[int, bool]] = Counter()
    receiver.status = 400
    sink = notifier(receiver.url, attempts=3, on_delivery=lambda i, o: outcomes.update([(i, o)]))
    dead = notifier(
        f"http://127.0.0.1:{free_port()}",
        attempts=3,
        on_delivery=lambda i, o: outcomes.update([(i + 10, o)]),
    )
    try:
        sink.emit(run(scaled()))
        dead.emit(run(scaled()))
        assert sink.flush(10) and dead.flush(10)
    finally:
        sink.close()
        dead.close()
    assert len(receiver.snapshot()) == 1, "a 400 answer must not be retried"
    assert outcomes == {(0, False): 1, (10, False): 1}


def test_emit_does_not_wait_for_a_slow_alertmanager(receiver):
    receiver.gate = threading.Event()
    sink = notifier(receiver.url)
    try:
        sink.emit(run(scaled()))
        sink.emit(run(scaled()))  # returns although the first POST is still unanswered
        assert receiver.snapshot() == []
        receiver.gate.set()
        assert len(batches(receiver, sink)) == 2
    finally:
        sink.close()


def test_firing_alerts_are_re_sent_without_a_new_run(receiver):
    options = AlertmanagerSink(urls=(receiver.url,), resend_interval=1)
    sink = AlertmanagerNotifier(options)
    try:
        sink.emit(run(scaled()))
        wait_until(lambda: len(receiver.snapshot()) >= 3, 20, "two re-sends")
    finally:
        sink.close()
    names = {a["labels"]["name"] for batch in receiver.snapshot() for a in batch}
    assert names == {"shop-api"}


def test_credentials_in_alertmanager_url_never_reach_logs(caplog):
    url = f"http://user:s3cr3t-pass@127.0.0.1:{free_port()}/"
    assert display_url(url + "api/v2/alerts").startswith("http://127.0.0.1:")
    caplog.set_level(logging.WARNING)
    sink = notifier(url, attempts=2)
    try:
        sink.emit(run(scaled()))
        assert sink.flush(10)
    finally:
        sink.close()
    assert "gave up" in caplog.text
    assert "s3cr3t-pass" not in caplog.text


def test_from_config_is_off_without_urls_and_names_the_instance():
    assert AlertmanagerNotifier.from_config(Config(targets=({"name": "a", "repo": "."},))) is None
    config = Config(
        targets=({"name": "a", "repo": "."},),
        alertmanager={"urls": ["http://127.0.0.1:1"]},
        instance="dw-1",
    )
    sink = AlertmanagerNotifier.from_config(config)
    assert sink is not None
    sink.close()


def test_a_hand_edit_fires_at_once_and_a_git_change_only_after_the_sync_lag(receiver):
    clock = Clock()
    first_seen = clock.now
    sink = notifier(receiver.url, clock=clock, sync_lag=3600)
    try:
        drift = run(moved(Direction.CLUSTER), moved(Direction.GIT, CONFIG))
        sink.emit(drift)
        assert sink.flush(10)
        clock.now += 1800  # a deploy in progress: still not an alert
        sink.emit(drift)
        assert sink.flush(10)
        early = [a["labels"]["alertname"] for b in receiver.snapshot() for a in b]
        clock.now += 1801
        sink.emit(drift)
        last = batches(receiver, sink)[-1]
    finally:
        sink.close()
    assert set(early) == {"DriftwatchHandEdit"}
    by_name = {a["labels"]["alertname"]: a for a in last}
    assert set(by_name) == {"DriftwatchHandEdit", "DriftwatchGitSyncLag"}
    edit, lag = by_name["DriftwatchHandEdit"], by_name["DriftwatchGitSyncLag"]
    assert (edit["labels"]["severity"], edit["labels"]["direction"]) == ("warning", "cluster")
    assert "changed in the cluster by kubectl-edit" in edit["annotations"]["description"]
    assert (lag["labels"]["severity"], lag["labels"]["direction"]) == ("info", "git")
    assert lag["labels"]["kind"] == "ConfigMap"
    assert ts(lag["startsAt"]) == first_seen, "the sync lag counts from when it was first seen"
    assert lag["annotations"]["git_commit"].startswith("4f1c2d3 'scale api to 3' by Ana Lima, ")
    assert lag["annotations"]["drifted_fields"].endswith("by kubectl-edit [git]")
    assert "@" not in json.dumps(last)


def test_a_git_change_applied_within_the_sync_lag_never_alerts(receiver):
    clock = Clock()
    sink = notifier(receiver.url, clock=clock, sync_lag=3600)
    try:
        sink.emit(run(moved(Direction.GIT)))
        clock.now += 600
        sink.emit(run(in_sync(API)))
        assert sink.flush(10)
    finally:
        sink.close()
    assert receiver.snapshot() == []

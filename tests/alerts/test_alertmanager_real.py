"""Direct delivery against a real Alertmanager, whose webhook receiver is a tiny test server.

Proves that Alertmanager accepts what the sink posts (API v2 validation), that
the alert reaches a receiver with the expected labels and annotations, that it
resolves once the drift clears, and that a dead first URL does not stop the
second one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from driftwatch.config.model import AlertmanagerSink
from driftwatch.sinks.alertmanager import AlertmanagerNotifier
from tests.alerts.procs import (
    alertmanager,
    free_port,
    needs_alertmanager,
    wait_until,
    webhook_receiver,
)
from tests.alerts.runs import API, in_sync, run, scaled

pytestmark = [needs_alertmanager, pytest.mark.e2e]


def _received(alerts: list[dict[str, Any]], status: str) -> dict[str, Any] | None:
    for alert in alerts:
        if alert["status"] == status and alert["labels"].get("name") == "shop-api":
            return alert
    return None


def test_drift_alert_reaches_receiver_through_real_alertmanager_and_resolves(tmp_path: Path):
    with webhook_receiver() as hook, alertmanager(tmp_path, hook.url + "/hook") as am_url:
        options = AlertmanagerSink(urls=(am_url,), external_url="http://127.0.0.1:8080")
        sink = AlertmanagerNotifier(options, instance="dw-e2e")
        try:
            sink.emit(run(scaled()))
            firing = wait_until(
                lambda: _received(hook.alerts(), "firing"), 30, "the firing alert at the receiver"
            )
            sink.emit(run(in_sync(API)))
            resolved = wait_until(
                lambda: _received(hook.alerts(), "resolved"), 30, "the resolved alert"
            )
        finally:
            sink.close()
    assert firing["labels"] == {
        "alertname": "DriftwatchResourceDrifted",
        "severity": "warning",
        "target": "shop",
        "namespace": "shop",
        "group": "apps",
        "kind": "Deployment",
        "name": "shop-api",
        "drift_type": "modified",
        "direction": "unknown",
        "instance": "dw-e2e",
    }
    notes = firing["annotations"]
    assert notes["drifted_fields"] == "spec.replicas (changed): 2 -> 4 by kubectl-edit"
    assert notes["changed_by"].startswith("kubectl-edit (Update)")
    assert notes["drift_url"] == (
        "http://127.0.0.1:8080/api/v1/drift?target=shop&namespace=shop&kind=Deployment.apps&name=shop-api"
    )
    assert firing["generatorURL"] == notes["object_url"] == (
        "http://127.0.0.1:8080/targets/shop/objects/apps/Deployment/shop/shop-api"
    )
    assert resolved["labels"] == firing["labels"]
    assert resolved["startsAt"] == firing["startsAt"]


def test_alert_still_arrives_when_the_first_alertmanager_url_is_down(tmp_path: Path):
    outcomes: Counter[tuple[int, bool]] = Counter()
    dead = f"http://127.0.0.1:{free_port()}"
    with webhook_receiver() as hook, alertmanager(tmp_path, hook.url + "/hook") as am_url:
        options = AlertmanagerSink(urls=(dead, am_url), timeout=2)
        sink = AlertmanagerNotifier(
            options, attempts=3, backoff=0.05, on_delivery=lambda i, o: outcomes.update([(i, o)])
        )
        try:
            sink.emit(run(scaled()))
            wait_until(lambda: _received(hook.alerts(), "firing"), 30, "the alert via the 2nd URL")
            assert sink.flush(30)
        finally:
            sink.close()
    assert outcomes[(1, True)] == 1
    assert outcomes[(0, False)] == 1, "the dead URL must be tried, retried, and given up"

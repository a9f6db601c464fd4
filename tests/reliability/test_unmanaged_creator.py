"""An unmanaged object says who created it and who changed it last, in every output.

The recorded ``stray`` case: a ConfigMap made with ``kubectl create`` and then
labelled with ``kubectl label`` into the shop target.  Its ``managedFields`` name
both, with times; the report, the JSON, the metric's ``manager`` label, the
alert and the event must carry them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.procs import webhook_receiver
from tests.eventlog.helpers import validate
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.conftest import LiveFactory
from tests.reliability.helpers import shop_repo
from tests.subprocess_cli import check_against, run_cli

CREATED = {
    "manager": "kubectl-create",
    "operation": "Update",
    "subresource": None,
    "time": "2026-11-30T04:32:50Z",
}
LABELLED = {**CREATED, "manager": "kubectl-label"}


def _posted(receiver: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alerts = [a for body in receiver.snapshot() for a in body]
        if alerts:
            return alerts
        time.sleep(0.05)
    raise AssertionError("no alert was posted")


def test_an_unmanaged_object_names_its_creator_and_last_writer_everywhere(
    kube_api_factory: Callable[..., KubeApiServer], live_service: LiveFactory, tmp_path: Path
) -> None:
    cluster = kube_api_factory("shop/stray")
    repo = shop_repo(tmp_path / "repo")

    kubeconfig = kubeconfig_for(cluster, tmp_path / "kubeconfig")
    quick = check_against(repo, kubeconfig, tmp_path / "cache")
    text = run_cli(*quick)
    assert text.returncode == 1, text.stdout + text.stderr
    assert (
        "UNMANAGED ConfigMap/shop/shop-stray, created by kubectl-create (Update) at "
        "2026-11-30T04:32:50Z, last changed by kubectl-label (Update) at 2026-11-30T04:32:50Z"
    ) in text.stdout
    document = json.loads(run_cli(*quick, "-o", "json").stdout)
    [stray] = [o for o in document["targets"][0]["report"]["objects"] if o["name"] == "shop-stray"]
    assert (stray["created_by"], stray["changed_by"]) == (CREATED, LABELLED)
    assert stray["attribution"] == CREATED

    with webhook_receiver() as alertmanager:
        service = live_service(cluster, repo, extra={"alertmanager": {"urls": [alertmanager.url]}})
        [alert] = [a for a in _posted(alertmanager) if a["labels"]["name"] == "shop-stray"]
    assert alert["labels"]["drift_type"] == "unmanaged"
    assert alert["annotations"]["created_by"] == "kubectl-create (Update) at 2026-11-30T04:32:50Z"
    assert "created by kubectl-create" in alert["annotations"]["description"]
    assert "last changed by kubectl-label" in alert["annotations"]["description"]

    managers = [
        s.labels["manager"]
        for family in text_string_to_metric_families(service.metrics())
        for s in family.samples
        if s.name == "driftwatch_resource_drift" and s.labels.get("name") == "shop-stray"
    ]
    assert managers == ["kubectl-create"]

    [event] = [e for e in service.events() if e["shorttype"] == "resource.unmanaged"]
    assert event["data"]["createdBy"] == CREATED and event["data"]["changedBy"] == LABELLED
    validate([event])  # the published event schema knows both

"""A manifest file that stops parsing, against the Kubernetes API test server: no false page.

The objects the broken file declared are missing from the desired set, yet their
live objects still carry the target's marker. They must be UNKNOWN (the file
named), never UNMANAGED; the drift they had must be neither resolved nor raised
again — not in the drift API, the events, the per-object metric that the alert
rules read, nor the alerts sent to Alertmanager.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.procs import webhook_receiver
from tests.cli.test_incomplete_inputs import DECLARED_IN_CONFIG, corrupt_config_file
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.conftest import LiveFactory
from tests.reliability.helpers import metric, shop_repo, short_types, write_config
from tests.subprocess_cli import run_cli


def _latest_batch(posted: Callable[[], list[Any]], since: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batches = posted()
        if len(batches) > since:
            return list(batches[-1])
        time.sleep(0.05)
    raise AssertionError("no alert batch was posted")


def _drift_series(text: str, name: str) -> list[dict[str, str]]:
    """The labels of every ``driftwatch_resource_drift`` series of object ``name``."""
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "driftwatch_resource_drift" and sample.labels.get("name") == name
    ]


def _ends(alert: dict[str, Any]) -> float:
    return datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00")).timestamp()


def test_a_corrupted_file_raises_and_resolves_nothing_against_a_live_cluster(
    kube_api_factory: Callable[..., KubeApiServer], live_service: LiveFactory, tmp_path: Path
) -> None:
    cluster = kube_api_factory("shop/edit-cm")  # shop-config edited by hand
    repo = shop_repo(tmp_path / "repo")
    with webhook_receiver() as alertmanager:
        service = live_service(
            cluster,
            repo,
            target={"unmanagedKinds": ["ConfigMap", "Secret"]},
            extra={"alertmanager": {"urls": [alertmanager.url], "resendInterval": "1h"}},
        )
        first = service.target_json()["last_run"]
        assert first["status"] == "success", first
        batch = _latest_batch(alertmanager.snapshot, 0)
        assert [a["labels"]["name"] for a in batch] == ["shop-config"]
        assert batch[0]["labels"]["drift_type"] == "modified"
        [series] = _drift_series(service.metrics(), "shop-config")
        assert series["drift_type"] == "modified"
        before, posted = len(service.events()), len(alertmanager.snapshot())

        corrupt_config_file(repo)
        run = service.run()
        assert run["status"] == "partial" and "10-config.yaml" in run["error"], run

        report = service.drift_report()["report"]
        states = {(o["kind"], o["name"]): o for o in report["objects"]}
        for kind, name in DECLARED_IN_CONFIG:
            entry = states[(kind, name)]
            assert entry["state"] == "unknown" and "10-config.yaml" in entry["reason"], entry
        assert report["totals"]["unmanaged"] == 0 and report["totals"]["modified"] == 0

        assert short_types(service.events()[before:]) == ["git.revision_changed", "source.error"]
        metrics = service.metrics()
        assert metric(metrics, "driftwatch_resources", target="shop", state="unmanaged") == 0
        # The alert rules read this series: it must not vanish (resolve) on unknown data.
        assert _drift_series(metrics, "shop-config") == [series]

        batch = _latest_batch(alertmanager.snapshot, posted)
        assert [(a["labels"]["name"], a["labels"]["drift_type"]) for a in batch] == [
            ("shop-config", "modified")
        ]
        assert _ends(batch[0]) > time.time() + 60  # still firing, not resolved
        every = [a for body in alertmanager.snapshot() for a in body]
        assert not [a for a in every if a["labels"]["drift_type"] == "unmanaged"]

    # `check` against the same cluster says the same, in its text output.
    config = write_config(
        tmp_path / "check.json",
        repo=str(repo),
        kubeconfig=kubeconfig_for(cluster, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "check-cache",
        target={"unmanagedKinds": ["ConfigMap", "Secret"]},
    )
    text = run_cli("check", "--config", str(config))
    assert text.returncode == 2, text.stdout + text.stderr
    assert "UNMANAGED" not in text.stdout
    for kind, name in DECLARED_IN_CONFIG:
        assert f"UNKNOWN {kind}/shop/{name} (not in Git as read, but 10-config.yaml" in text.stdout

"""With a state directory, serve records the audit log and serves it on /api/v1/events."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.model import DriftState
from driftwatch.service import open_audit
from tests.service.conftest import StartService
from tests.service.helpers import FakeRunner, config, drift, http_json, wait_for
from tests.service.test_reload import metric


def test_events_and_drift_age_come_from_the_audit_log(
    start_service: StartService, tmp_path: Path
) -> None:
    cfg = config("shop")
    audit = open_audit(cfg, tmp_path)
    assert audit is not None
    runner = FakeRunner({"shop": [drift("api"), drift("db", state=DriftState.MISSING)]})
    service, base = start_service(cfg, runner, audit=audit)
    wait_for(lambda: service.state.get("shop").report_run is not None, what="first run")

    status, body = http_json(base, "/api/v1/events?target=shop&limit=10")
    assert status == 200, body
    types = {e["type"] for e in body["events"]}
    assert any(t.endswith("drift.detected") for t in types), types
    assert http_json(base, "/api/v1/events?since=1h&type=drift.detected")[0] == 200
    assert http_json(base, "/api/v1/events?since=yesterday")[0] == 400
    assert http_json(base, "/api/v1/events?resource=nonsense")[0] == 400
    assert http_json(base, "/api/v1/events?limit=0")[0] == 400

    first_seen = audit.history.first_seen("shop", drift("api").key)
    assert first_seen is not None
    assert metric(base, "driftwatch_resource_drift_since_timestamp_seconds", name="api") == (
        pytest.approx(first_seen)
    )
    assert (metric(base, "driftwatch_events_total") or 0) >= 1
    assert metric(base, "driftwatch_event_log_write_errors_total") == 0

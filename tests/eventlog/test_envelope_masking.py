"""The event log's own Secret masking, on its own: defence in depth.

Upstream, redaction fingerprints every Secret value and the compare core shows
only fingerprints; here both are bypassed — drifted fields carry plain values,
at paths written exactly as the compare core renders them — and the event log
alone must keep the values out of what it stores.
"""

from __future__ import annotations

import base64
from pathlib import Path

from driftwatch.compare.paths import render
from driftwatch.history import Transition, TransitionType
from driftwatch.model import ChangeKind, DriftState, FieldDrift, ObjectDrift, ResourceKey
from driftwatch.redact import LAST_APPLIED, MASK
from driftwatch.run import RunStatus, TargetRun
from driftwatch.sinks.eventlog import EventLog
from driftwatch.sinks.eventlog.envelope import transition_event
from tests.eventlog.helpers import Clock, stored_records

PLAIN = "s3cr3t-Shop-Pa55"  # the recorded shop-db password
ENCODED = base64.b64encode(PLAIN.encode()).decode()
FINGERPRINT = "hmac-sha256:0123456789abcdef0123456789abcdef"


def _detected(key: ResourceKey, *fields: FieldDrift) -> Transition:
    drift = ObjectDrift(key, DriftState.MODIFIED, fields=fields, api_version="v1")
    return Transition(
        TransitionType.DRIFT_DETECTED, "shop", 1.0, key=key, state=DriftState.MODIFIED, drift=drift
    )


def _unmasked_secret_fields() -> tuple[FieldDrift, ...]:
    applied = '{"apiVersion":"v1","data":{"password":"' + ENCODED + '"},"kind":"Secret"}'
    return (
        FieldDrift(render(("data", "password")), ChangeKind.CHANGED, ENCODED, FINGERPRINT),
        FieldDrift(render(("stringData",)), ChangeKind.ADDED, None, {"password": PLAIN}),
        FieldDrift(
            render(("metadata", "annotations", LAST_APPLIED)), ChangeKind.CHANGED, applied, None
        ),
    )


def test_secret_values_are_masked_on_the_paths_reports_use(tmp_path: Path) -> None:
    key = ResourceKey("", "Secret", "shop", "shop-db")
    fields = _unmasked_secret_fields()
    assert fields[0].path == "/data/password"  # the notation the log must understand
    assert "~1" in fields[2].path

    run = TargetRun(target="shop", started_at=1.0, status=RunStatus.SUCCESS)
    event = transition_event(_detected(key, *fields), run, "test")
    written = {f["path"]: f for f in event["data"]["fields"]}
    assert written["/data/password"]["desired"] == MASK
    assert written["/data/password"]["live"] == FINGERPRINT  # fingerprints stay comparable
    assert written["/stringData"]["live"] == {"password": MASK}
    assert written[fields[2].path]["desired"] == MASK

    log = EventLog(tmp_path, instance="test", clock=Clock())
    log.append([event])
    stored = "".join(p.read_text() for p in (tmp_path / "events").glob("events-*.jsonl"))
    assert stored_records(tmp_path)
    assert PLAIN not in stored and ENCODED not in stored


def test_the_same_paths_of_other_kinds_are_written_as_they_are() -> None:
    key = ResourceKey("", "ConfigMap", "shop", "shop-config")
    field = FieldDrift(render(("data", "LOG_FORMAT")), ChangeKind.CHANGED, "json", "text")
    run = TargetRun(target="shop", started_at=1.0, status=RunStatus.SUCCESS)
    [written] = transition_event(_detected(key, field), run, "test")["data"]["fields"]
    assert (written["desired"], written["live"]) == ("json", "text")

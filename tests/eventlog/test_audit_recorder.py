"""AuditRecorder: each drift transition is written once, as a valid CloudEvent, across restarts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from driftwatch.config.model import EventLogOptions
from driftwatch.history import HistoryStore
from driftwatch.model import Attribution, ChangeKind, DriftState, FieldDrift
from driftwatch.redact import SecretHasher
from driftwatch.run import RunStatus
from driftwatch.sinks.eventlog import AuditRecorder, EventLogWriteError
from tests.eventlog.helpers import Clock, stored_records, validate
from tests.history.builders import API, CONFIG, REV_B, SECRET, TARGET, image, obj, replicas, run

M, S = DriftState.MODIFIED, DriftState.IN_SYNC


def recorder(state_dir: Path, clock: Clock, **kwargs: object) -> AuditRecorder:
    return AuditRecorder(state_dir, EventLogOptions(), "test-instance", clock=clock, **kwargs)  # type: ignore[arg-type]


def short_types(state_dir: Path) -> list[str]:
    return [r["shorttype"] for r in stored_records(state_dir)]


def test_a_drift_lifecycle_is_written_as_one_valid_cloudevent_per_transition(
    tmp_path: Path,
) -> None:
    clock = Clock()
    audit = recorder(tmp_path, clock)
    for r in [
        run(obj(API, S), obj(CONFIG, S)),
        run(obj(API, M, replicas(3)), obj(CONFIG, DriftState.MISSING)),
        run(obj(API, M, replicas(3)), obj(CONFIG, DriftState.MISSING)),
        run(obj(API, M, replicas(3), image("evil:1")), obj(CONFIG, S), revision=REV_B),
        run(status=RunStatus.FAILED, revision=REV_B),
        run(status=RunStatus.FAILED, revision=None),
        run(obj(API, S), obj(CONFIG, S), revision=REV_B),
    ]:
        audit.emit(r)
        clock.advance(60)
    records = stored_records(tmp_path)
    validate(records)
    assert [r["shorttype"] for r in records] == [
        "resource.missing",
        "drift.detected",  # object events in key order
        "git.revision_changed",
        "resource.restored",
        "drift.changed",
        "run.failed",
        "run.recovered",
        "drift.resolved",
    ]
    assert [r["seq"] for r in records] == list(range(1, 9))
    detected = records[1]
    assert detected["type"] == "io.driftwatch.drift.detected"
    assert detected["source"] == "driftwatch/test-instance"
    assert detected["subject"] == "shop/apps/Deployment/shop/api"
    assert detected["data"]["fields"] == [
        {
            "path": "spec.replicas",
            "change": "changed",
            "desired": 2,
            "live": 3,
            "attribution": {
                "manager": "kubectl",
                "operation": "Update",
                "subresource": "scale",
                "time": "2026-11-30T05:00:00Z",
            },
            "direction": "unknown",
        }
    ]
    assert detected["data"]["revision"] == {"sha": "a" * 40, "ref": "main"}
    assert detected["data"]["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert records[0]["subject"] == "shop//ConfigMap/shop/app-config"
    resolved = records[-1]["data"]
    assert resolved["timeToResolveSeconds"] == pytest.approx(300)
    assert resolved["previousPaths"] == [
        "spec.replicas",
        "spec.template.spec.containers[name=api].image",
    ]
    assert audit.events_written["io.driftwatch.drift.detected"] == 1
    assert sum(audit.events_written.values()) == 8
    assert audit.log.verify().ok


def test_a_restarted_recorder_does_not_repeat_events_and_keeps_drift_age(tmp_path: Path) -> None:
    clock = Clock()
    recorder(tmp_path, clock).emit(run(obj(API, M, replicas(3))))
    first_seen = clock.now
    clock.advance(600)
    again = recorder(tmp_path, clock)
    again.emit(run(obj(API, M, replicas(3))))
    assert again.history.first_seen(TARGET, API) == first_seen
    clock.advance(600)
    recorder(tmp_path, clock).emit(run(obj(API, S)))
    assert short_types(tmp_path) == ["drift.detected", "drift.resolved"]
    assert stored_records(tmp_path)[-1]["data"]["timeToResolveSeconds"] == pytest.approx(1200)
    assert HistoryStore(tmp_path).first_seen(TARGET, API) is None


def test_events_owed_by_a_failed_append_are_written_once_by_the_next_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    audit = recorder(tmp_path, clock)
    audit.emit(run(obj(API, M, replicas(3))))

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit.log, "_write", disk_full)
    with pytest.raises(EventLogWriteError, match="No space left"):
        audit.emit(run(obj(API, M, replicas(4))))
    assert audit.write_errors == 1
    assert short_types(tmp_path) == ["drift.detected"]
    monkeypatch.undo()
    clock.advance(60)
    audit.emit(run(obj(API, M, replicas(4))))  # nothing new: the owed event goes out now
    assert short_types(tmp_path) == ["drift.detected", "drift.changed"]
    clock.advance(60)
    audit.emit(run(obj(API, M, replicas(4))))
    assert short_types(tmp_path) == ["drift.detected", "drift.changed"]


def test_events_written_just_before_a_crash_are_not_written_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    audit = recorder(tmp_path, clock)
    writes = []
    real_write = audit.history.write

    def crash_on_second_write(stored: object) -> None:
        writes.append(stored)
        if len(writes) == 2:  # events appended, the outbox not yet cleared
            raise SystemExit("killed")
        real_write(stored)  # type: ignore[arg-type]

    monkeypatch.setattr(audit.history, "write", crash_on_second_write)
    with pytest.raises(SystemExit):
        audit.emit(run(obj(API, M, replicas(3))))
    monkeypatch.undo()
    restarted = recorder(tmp_path, clock)  # flushes the outbox: finds the event already written
    clock.advance(60)
    restarted.emit(run(obj(API, M, replicas(3))))
    assert short_types(tmp_path) == ["drift.detected"]
    assert restarted.history.read(TARGET).outbox == ()


def test_events_owed_at_a_crash_before_the_append_are_written_at_the_next_start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    audit = recorder(tmp_path, clock)

    def killed(events: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(audit.log, "append", killed)
    with pytest.raises(SystemExit):
        audit.emit(run(obj(API, M, replicas(3))))
    monkeypatch.undo()
    assert short_types(tmp_path) == []
    recorder(tmp_path, clock)
    assert short_types(tmp_path) == ["drift.detected"]


def test_a_secret_field_is_written_with_its_fingerprint_only(tmp_path: Path) -> None:
    hasher = SecretHasher(b"k" * 32)
    desired, live = hasher.fingerprint(b"hunter2"), hasher.fingerprint(b"s3cr3t-live")
    drift = FieldDrift(
        "data.password", ChangeKind.CHANGED, desired, live, Attribution("kubectl-edit", "Update")
    )
    leaked = FieldDrift("stringData.token", ChangeKind.ADDED, None, "plain-token-value")
    audit = recorder(tmp_path, Clock())
    audit.emit(run(obj(SECRET, M, drift, leaked)))
    text = "".join(p.read_text() for p in (tmp_path / "events").glob("events-*.jsonl"))
    fields = stored_records(tmp_path)[0]["data"]["fields"]
    assert fields[0]["desired"] == desired and fields[0]["live"] == live
    assert fields[1]["live"] == "<redacted>"
    for secret in ("hunter2", "s3cr3t-live", "plain-token-value"):
        assert secret not in text


def test_stdout_gets_the_same_lines_as_the_log(tmp_path: Path) -> None:
    out = io.StringIO()
    audit = AuditRecorder(tmp_path, EventLogOptions(stdout=True), "i", stdout=out, clock=Clock())
    audit.emit(run(obj(API, M, replicas(3)), obj(CONFIG, DriftState.MISSING)))
    file_lines = (tmp_path / "events" / "events-000000000001.jsonl").read_text().splitlines()
    assert out.getvalue().splitlines() == file_lines
    assert [json.loads(line)["seq"] for line in file_lines] == [1, 2]


def test_a_corrupt_history_file_is_set_aside_and_recording_goes_on(tmp_path: Path) -> None:
    clock = Clock()
    audit = recorder(tmp_path, clock)
    audit.emit(run(obj(API, M, replicas(3))))
    (tmp_path / "history" / "shop.json").write_text("{not json")
    clock.advance(60)
    audit.emit(run(obj(API, M, replicas(3))))
    assert short_types(tmp_path) == ["drift.detected", "drift.detected"]
    assert list((tmp_path / "history").glob("shop.json.corrupt-*"))

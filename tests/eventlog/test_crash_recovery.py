"""A writer killed with SIGKILL leaves a log that verifies; the next open records the incident."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from driftwatch.config.model import EventLogOptions
from driftwatch.sinks.eventlog import AuditRecorder, EventLog
from tests.eventlog.helpers import ROOT, Clock, run_failed_event, stored_records, validate


def start_writer(state_dir: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.eventlog.crash_writer", str(state_dir), mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def kill_when(proc: subprocess.Popen[str], marker: str) -> None:
    try:
        assert proc.stdout is not None
        said = []
        for line in proc.stdout:  # until the marker, or the writer's death (EOF)
            said.append(line.strip())
            if said[-1] == marker:
                break
        assert said[-1:] == [marker], f"writer said {said!r}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_writer_killed_mid_record_leaves_a_log_verifying_up_to_the_last_complete_record(
    tmp_path: Path,
) -> None:
    kill_when(start_writer(tmp_path, "tear"), "TORN")
    path = tmp_path / "events" / "events-000000000001.jsonl"
    assert not path.read_bytes().endswith(b"\n")
    result = EventLog(tmp_path).verify()
    assert result.ok and result.last_seq == 19 and result.partial_tail is not None

    audit = AuditRecorder(tmp_path, EventLogOptions(), "next", clock=Clock())
    records = stored_records(tmp_path)
    validate(records)
    incident = records[-1]
    assert incident["shorttype"] == "eventlog.recovered" and incident["seq"] == 20
    fragment = (tmp_path / "events" / incident["data"]["quarantine"]).read_bytes()
    assert len(fragment) == incident["data"]["bytes"] > 0
    assert fragment.startswith(b'{"specversion":"1.0"')
    after = audit.log.verify()
    assert after.ok and after.partial_tail is None and after.last_seq == 20
    audit.log.append([run_failed_event(Clock())])
    assert audit.log.verify().last_seq == 21
    assert EventLog(tmp_path).recover() is None  # nothing left to recover


def test_a_writer_killed_at_any_moment_leaves_a_verifiable_log(tmp_path: Path) -> None:
    kill_when(start_writer(tmp_path, "loop"), "READY")
    before = EventLog(tmp_path).verify()
    assert before.ok and before.records >= 10
    log = EventLog(tmp_path, instance="next")
    incident = log.recover()
    result = log.verify()
    assert result.ok and result.partial_tail is None
    assert result.last_seq == before.records + (1 if incident else 0)

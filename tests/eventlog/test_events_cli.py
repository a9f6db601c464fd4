"""`driftwatch events` and `driftwatch events verify` as a user runs them (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftwatch.config.model import EventLogOptions
from driftwatch.model import DriftState
from driftwatch.sinks.eventlog import AuditRecorder
from tests.eventlog.helpers import ROOT, Clock
from tests.history.builders import API, CONFIG, obj, replicas, run

M = DriftState.MODIFIED
HOUR = 3600.0


def driftwatch(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DRIFTWATCH_STATE_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "driftwatch", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 hours ago the Deployment drifted; now a ConfigMap is missing and the drift resolved."""
    path = tmp_path_factory.mktemp("state")
    clock = Clock(time.time() - 3 * HOUR)
    audit = AuditRecorder(path, EventLogOptions(rotate_bytes=4096), "cli-test", clock=clock)
    audit.emit(run(obj(API, M, replicas(3))))
    clock.now = time.time()
    audit.emit(run(obj(API, DriftState.IN_SYNC), obj(CONFIG, DriftState.MISSING)))
    return path


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_events_prints_json_lines_when_not_on_a_terminal(state_dir: Path) -> None:
    records = lines(driftwatch("events", "--state-dir", str(state_dir)))
    assert [r["shorttype"] for r in records] == [
        "drift.detected",
        "resource.missing",
        "drift.resolved",
    ]


def test_events_table_output_has_one_row_per_event(state_dir: Path) -> None:
    result = driftwatch("events", "--state-dir", str(state_dir), "-o", "table")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["TIME", "TYPE", "TARGET", "RESOURCE", "WHO", "DETAIL"]
    assert len(rows) == 4
    assert "Deployment.apps/shop/api" in rows[1] and "spec.replicas" in rows[1]
    who = rows[0].index("WHO")
    assert rows[1][who:].split()[0] == "kubectl"  # the manager that scaled it
    assert rows[2][who:].split()[0] == "-"  # a missing object: nobody to name
    assert "resolved after 3h00m" in rows[3]


def test_events_filters_by_type_target_resource_and_time(state_dir: Path) -> None:
    sd = str(state_dir)
    by_type = lines(
        driftwatch(
            "events",
            "--state-dir",
            sd,
            "--type",
            "drift.detected",
            "--type",
            "io.driftwatch.drift.resolved",
        )
    )
    assert [r["shorttype"] for r in by_type] == ["drift.detected", "drift.resolved"]
    by_resource = lines(
        driftwatch("events", "--state-dir", sd, "--resource", "configmap/shop/app-config")
    )
    assert [r["shorttype"] for r in by_resource] == ["resource.missing"]
    by_group = lines(driftwatch("events", "--state-dir", sd, "--resource", "Deployment.apps/api"))
    assert len(by_group) == 2
    assert lines(driftwatch("events", "--state-dir", sd, "--target", "blog")) == []
    recent = lines(driftwatch("events", "--state-dir", sd, "--since", "2h"))
    assert [r["shorttype"] for r in recent] == ["resource.missing", "drift.resolved"]
    first = lines(driftwatch("events", "--state-dir", sd))[0]
    old = lines(
        driftwatch(
            "events", "--state-dir", sd, "--from", str(first["time"]), "--to", str(first["time"])
        )
    )
    assert [r["id"] for r in old] == [first["id"]]
    assert len(lines(driftwatch("events", "--state-dir", sd, "--limit", "1"))) == 1


def test_bad_options_exit_2_with_a_message(state_dir: Path, tmp_path: Path) -> None:
    sd = str(state_dir)
    both = driftwatch(
        "events", "--state-dir", sd, "--since", "1h", "--from", "2026-01-01T00:00:00Z"
    )
    assert both.returncode == 2 and "not both" in both.stderr
    bad = driftwatch("events", "--state-dir", sd, "--resource", "just-a-name")
    assert bad.returncode == 2 and "kind/namespace/name" in bad.stderr
    missing = driftwatch("events", "--state-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no event log" in missing.stderr
    assert driftwatch("events").returncode == 2
    for flag, value in (("--since", "yesterday"), ("--from", "2h"), ("--to", "tomorrow")):
        wrong = driftwatch("events", "--state-dir", sd, flag, value)
        assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
        assert wrong.stderr.startswith(f"error: {flag} {value!r}: not ")
        assert "RFC 3339" in wrong.stderr and "isoformat" not in wrong.stderr
    typo = driftwatch("events", "--state-dir", sd, "--type", "foo.bar")
    assert typo.returncode == 2 and "unknown event type 'foo.bar'" in typo.stderr
    assert "drift.detected" in typo.stderr  # the known types are listed


def test_since_takes_days_and_rfc3339_times(state_dir: Path) -> None:
    sd = str(state_dir)
    week = lines(driftwatch("events", "--state-dir", sd, "--since", "7d"))
    assert len(week) == 3
    first = lines(driftwatch("events", "--state-dir", sd))[1]
    since_time = lines(driftwatch("events", "--state-dir", sd, "--since", str(first["time"])))
    assert [r["shorttype"] for r in since_time] == ["resource.missing", "drift.resolved"]


def test_verify_exits_0_when_intact_and_1_naming_the_broken_record(
    state_dir: Path,
    tmp_path: Path,
) -> None:
    ok = driftwatch("events", "verify", "--state-dir", str(state_dir))
    assert ok.returncode == 0 and "intact: 3 records" in ok.stdout
    tampered = tmp_path / "copy"
    (tampered / "events").mkdir(parents=True)
    source = state_dir / "events" / "events-000000000001.jsonl"
    data = source.read_bytes().splitlines(keepends=True)
    data[0] = data[0].replace(b'"live":3', b'"live":4')
    (tampered / "events" / source.name).write_bytes(b"".join(data))
    broken = driftwatch("events", "verify", "--state-dir", str(tampered))
    assert broken.returncode == 1
    assert "events-000000000001.jsonl:1 (seq 1)" in broken.stdout

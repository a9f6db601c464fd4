"""A failed write (disk full, file size limit) is reported; confirmed records stay intact."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from driftwatch.sinks.eventlog import EventLog, EventLogWriteError
from tests.eventlog.helpers import ROOT, Clock, filled_log, run_failed_event

LOG = "events-000000000001.jsonl"


def test_disk_full_raises_counts_and_keeps_earlier_records(tmp_path: Path) -> None:
    clock = Clock()
    log = filled_log(tmp_path, 5, clock)
    before = (tmp_path / "events" / LOG).read_bytes()
    calls = 0

    def half_then_full(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return os.write(fd, data[:100])  # a short write: part of a line reaches the disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    log._write = half_then_full
    with pytest.raises(EventLogWriteError, match="No space left on device") as caught:
        log.append([run_failed_event(clock, n=99), run_failed_event(clock, n=100)])
    assert "intact" in str(caught.value)
    assert log.write_errors == 1
    assert (tmp_path / "events" / LOG).read_bytes() == before
    assert log.verify().ok and log.verify().partial_tail is None

    log._write = os.write
    log.append([run_failed_event(clock, n=6)])
    result = log.verify()
    assert result.ok and result.last_seq == 6
    assert log.write_errors == 1


CHILD = textwrap.dedent("""
    import json, os, resource, sys
    from driftwatch.sinks.eventlog import EventLog, EventLogWriteError
    from tests.eventlog.helpers import Clock, run_failed_event

    clock = Clock()
    log = EventLog(sys.argv[1], instance="child", clock=clock)
    log.append([run_failed_event(clock, n=n) for n in range(5)])
    size = os.path.getsize(os.path.join(sys.argv[1], "events", "events-000000000001.jsonl"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))
    try:
        log.append([run_failed_event(clock, n=n) for n in range(5, 8)])
    except EventLogWriteError as e:
        print(json.dumps({"error": str(e), "write_errors": log.write_errors}))
    else:
        print(json.dumps({"error": None}))
""")


def test_a_file_size_limit_mid_batch_leaves_the_confirmed_records_intact(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome = json.loads(done.stdout)
    assert outcome["error"] and "File too large" in outcome["error"]
    assert outcome["write_errors"] == 1
    result = EventLog(tmp_path).verify()
    assert result.ok and result.records == 5 and result.partial_tail is None
    assert (tmp_path / "events" / LOG).read_bytes().endswith(b"\n")

"""Several writers on one state directory (check + serve, threads) keep one intact chain."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from driftwatch.config.model import EventLogOptions
from driftwatch.sinks.eventlog import EventLog
from tests.eventlog.helpers import ROOT, Clock, run_failed_event

CHILD = textwrap.dedent("""
    import sys
    from driftwatch.config.model import EventLogOptions
    from driftwatch.sinks.eventlog import EventLog
    from tests.eventlog.helpers import Clock, run_failed_event

    clock = Clock()
    log = EventLog(sys.argv[1], EventLogOptions(rotate_bytes=4096), instance=sys.argv[2])
    for n in range(40):
        log.append([run_failed_event(clock, target=sys.argv[2], n=n)])
""")


def test_two_processes_appending_at_once_produce_one_valid_chain(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), name], cwd=ROOT, env=env)
        for name in ("check", "serve")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    log = EventLog(tmp_path)
    result = log.verify()
    assert result.ok and result.records == 80, result.display()
    assert len(log.query(target="check")) == len(log.query(target="serve")) == 40


def test_threads_sharing_one_log_produce_one_valid_chain(tmp_path: Path) -> None:
    log = EventLog(tmp_path, EventLogOptions(rotate_bytes=4096))
    other = EventLog(tmp_path, EventLogOptions(rotate_bytes=4096))
    clock = Clock()

    def writer(target: EventLog, name: str) -> None:
        for n in range(15):
            target.append([run_failed_event(clock, target=name, n=n)])

    threads = [
        threading.Thread(target=writer, args=(log if i % 2 else other, f"t{i}")) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = log.verify()
    assert result.ok and result.records == 60, result.display()

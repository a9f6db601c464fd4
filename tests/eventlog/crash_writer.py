"""A process that appends events forever; killed with SIGKILL by test_crash_recovery.

``python -m tests.eventlog.crash_writer STATE_DIR loop|tear``: prints READY after
10 events; in ``tear`` mode the 20th write stores only half of its line, prints
TORN and hangs, so the kill lands mid-record deterministically.
"""

from __future__ import annotations

import os
import sys
import time

from driftwatch.sinks.eventlog import EventLog
from tests.eventlog.helpers import Clock, run_failed_event


def main() -> None:
    state_dir, mode = sys.argv[1], sys.argv[2]
    writes = 0

    def write(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if mode == "tear" and writes == 20:
            written = os.write(fd, data[: len(data) // 2])
            print("TORN", flush=True)
            time.sleep(120)
            return written
        return os.write(fd, data)

    log = EventLog(state_dir, instance="child", write=write)
    clock = Clock()
    count = 0
    while True:
        log.append([run_failed_event(clock, n=count)])
        clock.advance(1)
        count += 1
        if count == 10:
            print("READY", flush=True)


if __name__ == "__main__":
    main()

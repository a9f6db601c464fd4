"""The audit sink: drift history + event log behind the ``Sink`` protocol.

``AuditRecorder.emit(run)`` computes the run's transitions against the target's
stored history, writes the events and saves the new history, so that each change
is recorded exactly once, across restarts and crashes:

1. the new history is saved together with its not-yet-written events (the
   *outbox*) in one atomic file replace;
2. the events are appended to the log (skipping any that an earlier, interrupted
   attempt already wrote: outbox events are matched by id);
3. the history is saved again with an empty outbox.

A failure at 2 or 3 (disk full) raises, leaves the events owed in the outbox and
they are written with the target's next run (or by ``flush_pending``); a failure
at 1 leaves everything as before.  Either way no confirmed record is lost.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from driftwatch.config.model import EventLogOptions
from driftwatch.errors import DriftwatchError
from driftwatch.history import (
    KEEP_RESOLVED,
    HistoryError,
    HistoryStore,
    StoredHistory,
    TargetHistory,
    transitions,
)
from driftwatch.run import TargetRun
from driftwatch.sinks.eventlog.envelope import transition_event
from driftwatch.sinks.eventlog.log import EventLog

logger = logging.getLogger(__name__)


class AuditRecorder:
    """Records drift transitions of every run in the event log (implements ``Sink``)."""

    def __init__(
        self,
        state_dir: str | Path,
        options: EventLogOptions | None = None,
        instance: str | None = None,
        *,
        stdout: TextIO | None = None,
        clock: Callable[[], float] = time.time,
        keep_resolved: float = KEEP_RESOLVED,
        log: EventLog | None = None,
    ) -> None:
        self.instance = instance or socket.gethostname()
        self.history = HistoryStore(state_dir)
        """Drift state per target; ``history.first_seen(target, key)`` gives drift age."""
        self.log = log or EventLog(
            state_dir, options, instance=self.instance, stdout=stdout, clock=clock
        )
        self.state_write_errors = 0
        """Failed writes of history state files."""
        self._clock = clock
        self._keep_resolved = keep_resolved
        self._lock = threading.Lock()
        try:
            self.log.recover()
            self.flush_pending()
        except DriftwatchError as e:
            logger.error("audit log not ready: %s", e)

    def emit(self, run: TargetRun) -> None:
        """Record ``run``'s transitions.

        Raises ``EventLogWriteError`` or ``HistoryError`` (``DriftwatchError``s)
        when the disk refuses a write; the events stay owed and are written later.
        """
        now = self._clock()
        with self._lock, self.log.lock():
            stored = self._read(run.target)
            history, found = transitions(
                stored.history, run, now=now, keep_resolved=self._keep_resolved
            )
            events = [transition_event(t, run, self.instance) for t in found]
            outbox = (*stored.outbox, *events)
            if not outbox:
                self._write(StoredHistory(history))
                return
            after = stored.outbox_after_seq if stored.outbox else self.log.head_seq
            self._write(StoredHistory(history, outbox, after))
            self._deliver(history, outbox, after)

    def flush_pending(self) -> int:
        """Write events owed from interrupted runs (all targets); how many were written."""
        written = 0
        with self._lock, self.log.lock():
            for target in self.history.targets():
                stored = self._read(target)
                if stored.outbox:
                    written += self._deliver(stored.history, stored.outbox, stored.outbox_after_seq)
        return written

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        """``EventLog.query`` on this recorder's log."""
        return self.log.query(**filters)

    @property
    def events_written(self) -> Counter[str]:
        """Confirmed events by CloudEvents type (for ``driftwatch_events_total``)."""
        return self.log.events_written

    @property
    def write_errors(self) -> int:
        """Failed event log appends (for ``driftwatch_event_log_write_errors_total``)."""
        return self.log.write_errors

    def close(self) -> None:
        """Nothing to release (every append is already durable); for symmetry with other sinks."""

    def _read(self, target: str) -> StoredHistory:
        try:
            return self.history.read(target)
        except HistoryError as e:
            aside = self.history.set_aside(target)
            logger.error(
                "%s; starting the history of %s afresh (old file kept as %s)", e, target, aside
            )
            return StoredHistory(TargetHistory(target))

    def _write(self, stored: StoredHistory) -> None:
        try:
            self.history.write(stored)
        except HistoryError:
            self.state_write_errors += 1
            raise

    def _deliver(
        self, history: TargetHistory, outbox: Sequence[Mapping[str, Any]], after_seq: int
    ) -> int:
        already = self.log.ids_after(after_seq)
        todo = [e for e in outbox if e.get("id") not in already]
        self.log.append(todo)
        self._write(StoredHistory(history))
        return len(todo)

"""The service's handle on the audit log: one ``AuditRecorder`` per state directory.

Every run goes through :meth:`Audit.emit` (drift transitions into the event log,
history saved); ``/api/v1/events`` through :meth:`Audit.query`; drift age through
:attr:`Audit.history`; the metrics read the recorder's own write counts at scrape
time.  Without a state directory the service runs without it.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftwatch.config.model import Config
from driftwatch.errors import DriftwatchError, truncate
from driftwatch.history import HistoryStore
from driftwatch.run import TargetRun
from driftwatch.sinks.eventlog import AuditRecorder


class AuditUnavailableError(DriftwatchError):
    """The audit log cannot be opened in the state directory."""


class Audit:
    """The service's view of the audit recorder."""

    def __init__(self, recorder: AuditRecorder) -> None:
        self.recorder = recorder

    @property
    def history(self) -> HistoryStore:
        """The drift history (``first_seen`` lookups for drift age)."""
        return self.recorder.history

    def emit(self, run: TargetRun) -> None:
        """Record a run's transitions; raises a ``DriftwatchError`` on a failed write."""
        self.recorder.emit(run)

    def query(self, **filters: Any) -> list[dict[str, Any]]:
        """Events matching the events CLI's filters, as JSON-ready mappings."""
        return self.recorder.events(**filters)

    def counts(self) -> tuple[Mapping[str, int], int]:
        """(events written by type, failed writes), for the metrics.

        Failed writes include failed saves of the history file: it holds the events
        owed to the log (the outbox), so a full disk there is a failed log write too.
        """
        recorder = self.recorder
        return recorder.events_written, recorder.write_errors + recorder.state_write_errors

    def close(self) -> None:
        """Flush and close the recorder."""
        self.recorder.close()


def open_audit(config: Config, state_dir: Path | None) -> Audit | None:
    """The audit recorder for ``state_dir`` (None without a state directory)."""
    if state_dir is None:
        return None
    instance = config.instance or socket.gethostname()
    try:
        return Audit(AuditRecorder(state_dir, config.event_log, instance))
    except OSError as e:
        raise AuditUnavailableError(
            f"cannot open the audit log in {state_dir}: {truncate(str(e))}"
        ) from e

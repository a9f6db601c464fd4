"""Optional wiring of the audit log (``AuditRecorder``) into the service.

The recorder is another component (``driftwatch.sinks.eventlog``, formerly
planned as ``driftwatch.history``); this adapter is the only place that knows its
shape, and everything degrades to "no audit" when it is absent.  Relied on:

* ``AuditRecorder(state_dir, options, instance)`` with ``options`` the config's
  ``event_log`` section;
* ``recorder.emit(run)`` (a ``Sink``; raises a ``DriftwatchError`` on a failed write);
* ``recorder.history.first_seen(target, key) -> float | None``;
* an event log at ``recorder.log`` (or ``.event_log``) with
  ``query(since=, type=, target=, resource=, limit=)`` returning mappings;
* optionally ``recorder.events_written`` (Counter by CloudEvents type) and
  ``recorder.write_errors`` (int), read at scrape time for the metrics.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftwatch.config.model import Config
from driftwatch.errors import DriftwatchError, truncate
from driftwatch.run import TargetRun

log = logging.getLogger(__name__)


class AuditUnavailableError(DriftwatchError):
    """The audit log cannot answer (no state directory, or the component is missing)."""


class Audit:
    """The service's view of the audit recorder."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    @property
    def history(self) -> Any:
        """The drift history (``first_seen`` lookups), or None."""
        return getattr(self.recorder, "history", None)

    def emit(self, run: TargetRun) -> list[str]:
        """Record a run; the CloudEvents types of the events written (if the recorder says)."""
        written = self.recorder.emit(run)
        types: list[str] = []
        for event in written or ():
            value = (
                event.get("type") if isinstance(event, Mapping) else getattr(event, "type", None)
            )
            if value is not None:
                types.append(str(value))
        return types

    def query(self, **filters: Any) -> list[dict[str, Any]]:
        """Events matching the events CLI's filters, as JSON-ready mappings."""
        log_ = next(
            (
                getattr(self.recorder, a)
                for a in ("event_log", "events", "log")
                if callable(getattr(getattr(self.recorder, a, None), "query", None))
            ),
            None,
        )
        if log_ is None:
            raise AuditUnavailableError("the audit log cannot be queried")
        return [_event_json(e) for e in log_.query(**filters)]

    def counts(self) -> tuple[Mapping[str, int], int] | None:
        """(events written by type, failed writes) if the recorder keeps them, else None.

        Failed writes include failed saves of the history file: it holds the events
        owed to the log (the outbox), so a full disk there is a failed log write too.
        """
        written = getattr(self.recorder, "events_written", None)
        errors = getattr(self.recorder, "write_errors", None)
        if isinstance(written, Mapping) and isinstance(errors, int):
            state_errors = getattr(self.recorder, "state_write_errors", 0)
            return written, errors + (state_errors if isinstance(state_errors, int) else 0)
        return None

    def close(self) -> None:
        """Flush and close the recorder if it can."""
        close = getattr(self.recorder, "close", None)
        if callable(close):
            close()


def open_audit(config: Config, state_dir: Path | None) -> Audit | None:
    """The audit recorder for ``state_dir``, or None without a state dir or the component."""
    if state_dir is None:
        return None
    try:
        from driftwatch.sinks.eventlog import AuditRecorder
    except ImportError:
        log.warning("audit log not available in this build; events and drift history are off")
        return None
    instance = config.instance or socket.gethostname()
    try:
        return Audit(AuditRecorder(state_dir, config.event_log, instance))
    except DriftwatchError:
        raise
    except Exception as e:
        raise AuditUnavailableError(
            f"cannot open the audit log in {state_dir}: {truncate(str(e))}"
        ) from e


def _event_json(event: Any) -> dict[str, Any]:
    if isinstance(event, Mapping):
        return dict(event)
    for name in ("to_json", "to_dict", "model_dump"):
        method = getattr(event, name, None)
        if callable(method):
            value = method()
            if isinstance(value, Mapping):
                return dict(value)
    raise TypeError(f"cannot serialise event of type {type(event).__name__}")

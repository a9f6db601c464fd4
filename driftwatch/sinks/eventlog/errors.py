"""Errors of the audit event log (a family under ``DriftwatchError``)."""

from __future__ import annotations

from driftwatch.errors import DriftwatchError


class EventLogError(DriftwatchError):
    """The event log could not be read or is in a state driftwatch cannot continue from."""


class EventLogWriteError(EventLogError):
    """Appending to the event log failed (e.g. disk full); records written before are intact.

    The events of the failed batch are not confirmed; ``AuditRecorder`` keeps them
    owed and writes them with the next run.
    """

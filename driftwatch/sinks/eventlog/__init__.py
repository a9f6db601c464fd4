"""The audit event log: CloudEvents in hash-chained, rotated JSON Lines files.

``AuditRecorder`` is the sink the pipeline calls; ``EventLog`` appends, queries
and verifies; see docs/events.md for the format.
"""

from driftwatch.sinks.eventlog.envelope import (
    DATASCHEMA,
    TYPE_PREFIX,
    cloud_type,
    short_type,
    subject_for,
    transition_event,
)
from driftwatch.sinks.eventlog.errors import EventLogError, EventLogWriteError
from driftwatch.sinks.eventlog.log import EventLog
from driftwatch.sinks.eventlog.query import parse_resource
from driftwatch.sinks.eventlog.recorder import AuditRecorder
from driftwatch.sinks.eventlog.segments import GENESIS
from driftwatch.sinks.eventlog.verify import BrokenRecord, VerifyResult

__all__ = [
    "DATASCHEMA",
    "GENESIS",
    "TYPE_PREFIX",
    "AuditRecorder",
    "BrokenRecord",
    "EventLog",
    "EventLogError",
    "EventLogWriteError",
    "VerifyResult",
    "cloud_type",
    "parse_resource",
    "short_type",
    "subject_for",
    "transition_event",
]

"""Drift state across runs: what each object's drift was, and which events a run raises.

``transitions`` is the pure core (previous history + run -> new history + events);
``HistoryStore`` keeps one JSON file per target under ``<state_dir>/history/`` and
answers drift-age lookups (``first_seen``) for metrics.
"""

from driftwatch.history.state import ObjectHistory, TargetHistory, fields_fingerprint
from driftwatch.history.store import HistoryError, HistoryStore, StoredHistory
from driftwatch.history.transitions import (
    KEEP_RESOLVED,
    Transition,
    TransitionType,
    run_revision,
    transitions,
)

__all__ = [
    "KEEP_RESOLVED",
    "HistoryError",
    "HistoryStore",
    "ObjectHistory",
    "StoredHistory",
    "TargetHistory",
    "Transition",
    "TransitionType",
    "fields_fingerprint",
    "run_revision",
    "transitions",
]

"""When each drifted object was first seen drifted, for drift age in metrics and the API.

The audit history (``driftwatch.history``) knows this across restarts; when it is
not available, :class:`DriftAgeTracker` remembers it in memory from the reports
the service sees (ages then restart with the process).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from driftwatch.model import DRIFT_STATES, DriftState, ResourceKey
from driftwatch.run import RunStatus, TargetRun

log = logging.getLogger(__name__)


class DriftAgeTracker:
    """In-memory first-seen times (a ``Sink``), keyed by target, object and drift state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[str, dict[ResourceKey, tuple[DriftState, float]]] = {}

    def emit(self, run: TargetRun) -> None:
        """Update from a run's report; failed runs change nothing (unknown is not in sync)."""
        report = run.report
        if report is None or run.status is RunStatus.FAILED:
            return
        seen_at = _parse_time(report.snapshot_time) or run.finished_at
        with self._lock:
            before = self._since.get(run.target, {})
            after: dict[ResourceKey, tuple[DriftState, float]] = {}
            for obj in report.objects:
                previous = before.get(obj.key)
                if obj.state in DRIFT_STATES:
                    same = previous is not None and previous[0] is obj.state
                    after[obj.key] = previous if same and previous else (obj.state, seen_at)
                elif obj.state is DriftState.UNKNOWN and previous is not None:
                    after[obj.key] = previous
            self._since[run.target] = after

    def forget(self, keep: set[str]) -> None:
        """Drop targets no longer configured."""
        with self._lock:
            for name in [n for n in self._since if n not in keep]:
                del self._since[name]

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        """Unix time ``key`` was first seen in ``state`` (None if not tracked)."""
        with self._lock:
            entry = self._since.get(target, {}).get(key)
        return entry[1] if entry is not None and entry[0] is state else None


class HistoryFirstSeen:
    """First-seen times from the audit history, falling back to the in-memory tracker.

    Assumes ``history.first_seen(target, key)`` returning a Unix time, an RFC 3339
    string, a ``datetime`` or None.  Any other shape or any error uses the fallback.
    """

    def __init__(self, history: Any, fallback: DriftAgeTracker) -> None:
        self._history = history
        self._fallback = fallback
        self._broken = not callable(getattr(history, "first_seen", None))

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        """The history's answer when it has one, else the tracker's."""
        if not self._broken:
            try:
                value = self._history.first_seen(target, key)
            except Exception as e:
                log.warning(
                    "drift history lookup failed, using in-memory ages: %s", type(e).__name__
                )
                self._broken = True
            else:
                seen = _to_unix(value)
                if seen is not None:
                    return seen
        return self._fallback.first_seen(target, key, state)


def _to_unix(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return _parse_time(value)
    return None


def _parse_time(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None

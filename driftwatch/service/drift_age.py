"""When each drifted object was first seen drifted, for drift age in metrics and the API.

The audit history (``driftwatch.history``) knows this across restarts; without a
state directory, or for an object the history does not know, :class:`DriftAgeTracker`
remembers it in memory from the reports the service sees (ages then restart with
the process).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Protocol

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


class DriftHistory(Protocol):
    """What drift age needs of the audit history (``driftwatch.history.HistoryStore``)."""

    def first_seen(self, target: str, key: ResourceKey) -> float | None:
        """Unix time ``key`` was first seen drifted in its current episode (None: unknown)."""


class HistoryFirstSeen:
    """First-seen times from the audit history, falling back to the in-memory tracker.

    A failed lookup answers from the tracker for that lookup only: the next one asks
    the history again.  The failure is logged when it starts and when it ends, not
    once per object per scrape.
    """

    def __init__(self, history: DriftHistory, fallback: DriftAgeTracker) -> None:
        self._history = history
        self._fallback = fallback
        self._failing = False

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        """The history's answer when it has one, else the tracker's."""
        try:
            seen = self._history.first_seen(target, key)
        except Exception:  # drift age must not take /metrics or the API down
            if not self._failing:
                self._failing = True
                log.exception("drift history lookup failed; using in-memory drift ages")
            seen = None
        else:
            if self._failing:
                self._failing = False
                log.info("drift history lookups work again")
        return seen if seen is not None else self._fallback.first_seen(target, key, state)


def _parse_time(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None

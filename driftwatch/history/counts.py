"""Drift counts over time: a bounded per-run series per target, in memory and on disk.

The overview page draws it as a small chart.  Every run with a report adds a
point (its time and the count of objects per drift state).  A run whose counts
equal the two points before it replaces the newer of them, so a flat stretch
costs two points however many runs it spans: the series is an exact step
function, and a bound of ``max_points`` covers days of runs, not hours.  Points
older than ``max_age`` are dropped.  With a state directory each target's series
is also kept in ``<state_dir>/series/<target>.json`` (replaced atomically), so a
restart keeps the chart.  A failed run adds nothing: unknown is not in sync.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from driftwatch.errors import truncate
from driftwatch.history.store import atomic_write, target_file
from driftwatch.model import DriftState
from driftwatch.run import RunStatus, TargetRun

log = logging.getLogger(__name__)

SERIES_STATES: tuple[DriftState, ...] = (
    DriftState.MODIFIED,
    DriftState.MISSING,
    DriftState.UNMANAGED,
    DriftState.UNKNOWN,
)
"""The states a point counts, in this order (in-sync objects are not charted)."""
MAX_POINTS = 2000
MAX_AGE = 14 * 86400.0


@dataclass(frozen=True, slots=True)
class CountPoint:
    """The counts of one run: ``counts[i]`` objects in ``SERIES_STATES[i]``."""

    time: float
    counts: tuple[int, ...]

    @property
    def drifted(self) -> int:
        """Modified + missing + unmanaged."""
        return sum(self.counts[:3])


class DriftCountSeries:
    """Per-target count series (a ``Sink``); thread-safe."""

    def __init__(
        self,
        state_dir: str | Path | None = None,
        *,
        max_points: int = MAX_POINTS,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = Path(state_dir) / "series" if state_dir is not None else None
        self._max_points = max(3, max_points)
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._series: dict[str, list[CountPoint]] = {}
        self._warned = False

    def emit(self, run: TargetRun) -> None:
        """Add the run's counts (runs without a report, or failed, add nothing)."""
        if run.report is None or run.status is RunStatus.FAILED:
            return
        totals = run.report.totals()
        point = CountPoint(
            run.finished_at or self._clock(), tuple(totals[s] for s in SERIES_STATES)
        )
        with self._lock:
            series = self._load(run.target)
            if len(series) >= 2 and series[-1].counts == series[-2].counts == point.counts:
                series[-1] = point
            else:
                series.append(point)
            horizon = self._clock() - self._max_age
            while series and (len(series) > self._max_points or series[0].time < horizon):
                series.pop(0)
            snapshot = list(series)
        self._save(run.target, snapshot)

    def points(self, target: str) -> list[CountPoint]:
        """The series of ``target``, oldest first (a copy)."""
        with self._lock:
            return list(self._load(target))

    def forget(self, keep: Iterable[str]) -> None:
        """Drop the in-memory series of targets no longer configured (files stay)."""
        kept = set(keep)
        with self._lock:
            for name in [n for n in self._series if n not in kept]:
                del self._series[name]

    def _load(self, target: str) -> list[CountPoint]:
        series = self._series.get(target)
        if series is None:
            series = self._series[target] = self._read(target)
        return series

    def _read(self, target: str) -> list[CountPoint]:
        if self.directory is None:
            return []
        path = target_file(self.directory, target)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("target") != target:
                raise ValueError(f"belongs to {data.get('target')!r}")
            width = len(SERIES_STATES)
            return [
                CountPoint(float(t), tuple(int(c) for c in counts))
                for t, *counts in data["points"]
                if len(counts) == width
            ]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning(
                "drift count series %s unreadable, starting anew: %s", path, truncate(str(e))
            )
            return []

    def _save(self, target: str, series: list[CountPoint]) -> None:
        if self.directory is None:
            return
        data = {
            "target": target,
            "states": [s.value for s in SERIES_STATES],
            "points": [[round(p.time, 3), *p.counts] for p in series],
        }
        path = target_file(self.directory, target)
        try:
            atomic_write(path, json.dumps(data, separators=(",", ":")).encode())
        except OSError as e:
            if not self._warned:
                log.error("cannot write drift count series %s: %s", path, truncate(str(e)))
                self._warned = True

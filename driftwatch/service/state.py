"""What the service knows now: per target, the last run and the last run with a report.

Written by the scheduler's worker threads after each run, read by HTTP requests
at any moment; one lock guards it and readers get immutable snapshots (runs are
never mutated after they are recorded).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from driftwatch.run import RunStatus, TargetRun


@dataclass(frozen=True, slots=True)
class TargetState:
    """A consistent view of one target."""

    name: str
    last_run: TargetRun | None
    report_run: TargetRun | None
    """The last run that produced a report (success or partial)."""
    running_since: float | None
    """Unix time the current run started, or None when idle."""


class LatestState:
    """Thread-safe latest-run store (a ``Sink``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, TargetRun] = {}
        self._report: dict[str, TargetRun] = {}
        self._running: dict[str, float] = {}
        self._targets: tuple[str, ...] = ()
        self._ever_reported = False

    def set_targets(self, names: Iterable[str]) -> None:
        """The configured targets; state of the others is forgotten."""
        with self._lock:
            self._targets = tuple(names)
            for store in (self._last, self._report, self._running):
                for name in [n for n in store if n not in self._targets]:
                    del store[name]

    def started(self, name: str) -> None:
        """A run of ``name`` began."""
        with self._lock:
            self._running[name] = time.time()

    def finished(self, name: str) -> None:
        """The run of ``name`` ended (whether or not it was recorded)."""
        with self._lock:
            self._running.pop(name, None)

    def emit(self, run: TargetRun) -> None:
        """Record a finished run (dropped if its target was removed meanwhile)."""
        with self._lock:
            if run.target not in self._targets:
                return
            self._last[run.target] = run
            if run.report is not None and run.status is not RunStatus.FAILED:
                self._report[run.target] = run
                self._ever_reported = True

    @property
    def ever_reported(self) -> bool:
        """Whether any target has produced a report since the service started."""
        with self._lock:
            return self._ever_reported

    def get(self, name: str) -> TargetState:
        """The state of one target (all None if it has not run yet)."""
        with self._lock:
            return TargetState(
                name, self._last.get(name), self._report.get(name), self._running.get(name)
            )

    def all(self) -> list[TargetState]:
        """Every configured target's state, in configuration order."""
        with self._lock:
            names = self._targets
        return [self.get(name) for name in names]

"""What one run of one target produced: the report plus how the run went.

The pipeline fills a ``TargetRun``; every sink (CLI output, event log, metrics,
traces, alerts, HTTP API) reads it.  Plain data, no I/O.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from driftwatch.model import GitRevision, TargetReport


class Stage(enum.StrEnum):
    """The stages of a run, in order (metric and span names use these values)."""

    GIT = "git"
    RENDER = "render"
    SNAPSHOT = "snapshot"
    COMPARE = "compare"
    EMIT = "emit"


class RunStatus(enum.StrEnum):
    """How a run ended."""

    SUCCESS = "success"
    """Everything compared."""
    PARTIAL = "partial"
    """A report was made, but some input or type could not be read (exit code 2)."""
    FAILED = "failed"
    """No report: a stage failed for the whole target."""


@dataclass(slots=True)
class TargetRun:
    """The outcome of one run of one target."""

    target: str
    started_at: float
    """Unix time the run started."""
    finished_at: float = 0.0
    status: RunStatus = RunStatus.FAILED
    report: TargetReport | None = None
    durations: dict[Stage, float] = field(default_factory=dict)
    """Seconds spent per stage."""
    error: str | None = None
    """Why the run failed (or is partial), already redacted and truncated."""
    failed_stage: Stage | None = None
    revision: GitRevision | None = None
    git_stale: bool = False
    """Git could not be fetched: the last good commit was compared instead."""
    cluster_unreachable: bool = False
    render_skipped: bool = False
    """The Git inputs were unchanged, so the cached render was reused."""
    api_requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Kubernetes API requests made, by (verb, HTTP status code)."""
    trace_id: str | None = None
    watch_update: bool = False
    """A watch-driven re-compare patching the last report, not a run of its own: it is not
    counted in ``driftwatch_runs_total`` or the run duration, and fetched nothing from Git."""

    @property
    def duration(self) -> float:
        """Wall time of the whole run in seconds."""
        return max(0.0, self.finished_at - self.started_at)


class Sink(Protocol):
    """Anything that consumes finished runs: event log, metrics store, alerts."""

    def emit(self, run: TargetRun) -> None:
        """Take one finished run (called once per run, after compare)."""

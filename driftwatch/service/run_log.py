"""The one log line ``serve`` writes per finished run, readable in the text format too.

A failed or partial run is a WARNING naming the stage and the reason (the text
log format shows only the message, so the reason must be in it); a successful
run is INFO with its drift counts.
"""

from __future__ import annotations

import logging
from typing import Any

from driftwatch.model import DriftState
from driftwatch.run import RunStatus, TargetRun


def _counts(run: TargetRun) -> str:
    if run.report is None:
        return ""
    totals = run.report.totals()
    drift = (DriftState.MODIFIED, DriftState.MISSING, DriftState.UNMANAGED)
    drifted = sum(totals[s] for s in drift)
    parts = ", ".join(f"{totals[s]} {s.value}" for s in (*drift, DriftState.UNKNOWN))
    return f"{drifted} drifted ({parts})"


def log_run(log: logging.Logger, run: TargetRun) -> None:
    """Log ``run``'s outcome once (target and trace id come from the log context)."""
    extra: dict[str, Any] = {"status": run.status.value, "error": run.error}
    if run.failed_stage is not None:
        extra["stage"] = run.failed_stage.value
    counts = _counts(run)
    if run.status is RunStatus.SUCCESS:
        log.info("run success in %.1fs: %s", run.duration, counts, extra=extra)
        return
    stage = run.failed_stage.value if run.failed_stage else "run"
    outcome = "failed" if run.status is RunStatus.FAILED else "partial"
    tail = f"; {counts}" if counts else ""
    log.warning(
        "run %s at %s in %.1fs: %s%s",
        outcome,
        stage,
        run.duration,
        run.error or "no reason given",
        tail,
        extra=extra,
    )

"""``serve`` logs one line per run: a failure warns with stage and reason, a success counts."""

from __future__ import annotations

import io
import logging

from driftwatch.logs import setup_logging
from driftwatch.model import DriftState, ObjectDrift, ResourceKey, TargetReport
from driftwatch.run import RunStatus, Stage, TargetRun
from driftwatch.service.run_log import log_run


def _text_log(run: TargetRun) -> str:
    stream = io.StringIO()
    handler = setup_logging("info", "text", stream)
    try:
        log_run(logging.getLogger("driftwatch.serve"), run)
    finally:
        logging.getLogger().removeHandler(handler)
    return stream.getvalue()


def test_a_successful_run_logs_its_drift_counts() -> None:
    objects = [
        ObjectDrift(ResourceKey("", "ConfigMap", "shop", "a"), DriftState.MODIFIED),
        ObjectDrift(ResourceKey("", "ConfigMap", "shop", "b"), DriftState.UNMANAGED),
        ObjectDrift(ResourceKey("", "ConfigMap", "shop", "c"), DriftState.IN_SYNC),
    ]
    run = TargetRun("shop", 0.0, 2.0, RunStatus.SUCCESS, TargetReport("shop", objects=objects))
    line = _text_log(run)
    assert " INFO " in line
    assert "run success in 2.0s: 2 drifted (1 modified, 0 missing, 1 unmanaged, 0 unknown)" in line


def test_a_failed_run_is_a_warning_naming_the_stage_and_the_reason() -> None:
    run = TargetRun(
        "shop",
        0.0,
        5.7,
        RunStatus.FAILED,
        error="cannot reach the cluster at https://10.0.0.1: connection refused",
        failed_stage=Stage.SNAPSHOT,
    )
    line = _text_log(run)
    assert " WARNING " in line
    assert "run failed at snapshot in 5.7s: cannot reach the cluster" in line
    assert "connection refused" in line

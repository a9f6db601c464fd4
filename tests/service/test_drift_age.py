"""Drift age from the audit history: a failed lookup falls back once, never for good."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from driftwatch.config.model import Config
from driftwatch.model import DriftState, ResourceKey
from driftwatch.service import open_audit
from driftwatch.service.audit import AuditUnavailableError
from driftwatch.service.drift_age import DriftAgeTracker, HistoryFirstSeen
from tests.service.helpers import drift, run_of


class FlakyHistory:
    """Answers from ``since``, except while ``failing`` (a disk hiccup, a defect)."""

    def __init__(self, since: float) -> None:
        self.since = since
        self.failing = False

    def first_seen(self, target: str, key: ResourceKey) -> float | None:
        if self.failing:
            raise OSError("read failed")
        return self.since


def test_a_failed_history_lookup_uses_the_in_memory_age_for_that_lookup_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = DriftAgeTracker()
    run = run_of("shop", [drift("api")])
    tracker.emit(run)
    in_memory = tracker.first_seen("shop", drift("api").key, DriftState.MODIFIED)
    assert in_memory is not None
    history = FlakyHistory(since=1_000.0)
    lookup = HistoryFirstSeen(history, tracker)
    key = drift("api").key

    assert lookup.first_seen("shop", key, DriftState.MODIFIED) == 1_000.0
    history.failing = True
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert lookup.first_seen("shop", key, DriftState.MODIFIED) == in_memory
        history.failing = False
        assert lookup.first_seen("shop", key, DriftState.MODIFIED) == 1_000.0
    failures = [r for r in caplog.records if "lookup failed" in r.getMessage()]
    assert len(failures) == 1, "one log line per failure streak, not one per lookup"
    assert any("work again" in r.getMessage() for r in caplog.records)


def test_an_audit_log_that_cannot_be_opened_says_where(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "state"
    not_a_dir.write_text("a file where the state directory should be")
    with pytest.raises(AuditUnavailableError, match=str(not_a_dir)):
        open_audit(Config(targets=()), not_a_dir)

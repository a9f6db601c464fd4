"""The drift count series behind the overview's chart: bounded, compact, kept across restarts."""

from __future__ import annotations

from pathlib import Path

from driftwatch.history.counts import DriftCountSeries
from driftwatch.model import DriftState
from driftwatch.run import RunStatus
from tests.service.helpers import drift, run_of


def runs(*modified_counts: int, start: float = 1_000_000.0) -> list:  # type: ignore[type-arg]
    return [
        run_of("shop", [drift(f"o{i}") for i in range(n)], finished_at=start + 60 * k)
        for k, n in enumerate(modified_counts)
    ]


def test_flat_stretches_keep_two_points_and_the_steps_stay_exact(tmp_path: Path) -> None:
    series = DriftCountSeries(tmp_path, clock=lambda: 1_000_000.0 + 3600)
    for run in runs(1, 1, 1, 1, 3, 3, 0):
        series.emit(run)
    points = series.points("shop")
    assert [p.drifted for p in points] == [1, 1, 3, 3, 0]
    assert points[1].time == 1_000_000.0 + 180  # the flat stretch's last run


def test_failed_runs_add_nothing_and_unknown_is_counted_apart(tmp_path: Path) -> None:
    series = DriftCountSeries(tmp_path, clock=lambda: 1_000_000.0)
    series.emit(run_of("shop", status=RunStatus.FAILED, finished_at=1_000_000.0))
    assert series.points("shop") == []
    series.emit(run_of("shop", [drift("a", state=DriftState.UNKNOWN)], finished_at=1_000_000.0))
    (point,) = series.points("shop")
    assert point.drifted == 0 and point.counts[3] == 1


def test_bounded_by_points_and_age(tmp_path: Path) -> None:
    now = 1_000_000.0 + 60 * 20
    series = DriftCountSeries(tmp_path, max_points=5, max_age=600, clock=lambda: now)
    for run in runs(*[k % 2 for k in range(21)]):
        series.emit(run)
    points = series.points("shop")
    assert len(points) <= 5 and all(p.time >= now - 600 for p in points)


def test_kept_in_the_state_directory_across_restarts(tmp_path: Path) -> None:
    first = DriftCountSeries(tmp_path, clock=lambda: 1_000_100.0)
    for run in runs(2, 0):
        first.emit(run)
    again = DriftCountSeries(tmp_path, clock=lambda: 1_000_100.0)
    assert [p.drifted for p in again.points("shop")] == [2, 0]
    (tmp_path / "series" / "shop.json").write_text("{not json")
    assert DriftCountSeries(tmp_path).points("shop") == []  # unreadable: starts anew

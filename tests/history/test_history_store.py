"""Drift history on disk: one atomically replaced JSON file per target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwatch.history import HistoryError, HistoryStore, StoredHistory, TargetHistory, transitions
from driftwatch.model import DriftState
from tests.history.builders import API, CONFIG, REV_A, TARGET, obj, replicas, run


def drifted_history() -> TargetHistory:
    history, _ = transitions(
        TargetHistory(TARGET),
        run(
            obj(API, DriftState.MODIFIED, replicas(3)),
            obj(CONFIG, DriftState.MISSING),
            at=10,
        ),
        now=11,
    )
    return history


def test_history_survives_a_restart_with_drift_start_times(tmp_path: Path) -> None:
    HistoryStore(tmp_path).write(StoredHistory(drifted_history()))
    fresh = HistoryStore(tmp_path)
    assert fresh.first_seen(TARGET, API) == 11.0
    assert fresh.drifting_since(TARGET) == {API: 11.0, CONFIG: 11.0}
    loaded, original = fresh.read(TARGET).history, drifted_history()
    assert loaded.objects == original.objects
    assert loaded.last_run_at == original.last_run_at
    assert loaded.revision is not None
    assert (loaded.revision.sha, loaded.revision.ref) == (REV_A.sha, REV_A.ref)
    assert fresh.targets() == [TARGET]


def test_an_unknown_target_has_no_history_and_no_drift_age(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    assert store.read("nobody").history == TargetHistory("nobody")
    assert store.first_seen("nobody", API) is None


def test_writes_leave_no_temporary_files_and_keep_the_outbox(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    owed = ({"id": "e1", "type": "io.driftwatch.drift.detected"},)
    store.write(StoredHistory(drifted_history(), owed, 7))
    store.write(StoredHistory(drifted_history(), owed, 7))
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["shop.json"]
    stored = HistoryStore(tmp_path).read(TARGET)
    assert stored.outbox == owed and stored.outbox_after_seq == 7


def test_a_corrupt_history_file_is_named_in_the_error_and_can_be_set_aside(
    tmp_path: Path,
) -> None:
    store = HistoryStore(tmp_path)
    store.write(StoredHistory(drifted_history()))
    path = store.path(TARGET)
    path.write_text('{"version": 1, "target": "shop", "objects": [{"kind": ')
    with pytest.raises(HistoryError, match=str(path)):
        store.read(TARGET)
    aside = store.set_aside(TARGET)
    assert aside is not None and aside.exists() and not path.exists()
    assert store.read(TARGET).history == TargetHistory(TARGET)


def test_target_names_that_are_not_file_names_get_a_hashed_file(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.write(StoredHistory(TargetHistory("../escape")))
    files = [p.name for p in (tmp_path / "history").iterdir()]
    assert len(files) == 1 and files[0].startswith("target-")
    assert json.loads((tmp_path / "history" / files[0]).read_text())["target"] == "../escape"
    assert store.targets() == ["../escape"]

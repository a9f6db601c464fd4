"""Rotation and retention keep the chain verifiable; queries read every rotated file."""

from __future__ import annotations

import json
from pathlib import Path

from driftwatch.config.model import EventLogOptions
from driftwatch.sinks.eventlog import EventLog
from driftwatch.sinks.eventlog.segments import format_time
from tests.eventlog.helpers import Clock, filled_log, stored_records, validate

SMALL = EventLogOptions(rotate_bytes=4096)
DAY = 86400.0


def files(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "events").glob("events-*.jsonl"))


def test_rotation_by_size_starts_new_files_that_continue_the_chain(tmp_path: Path) -> None:
    log = filled_log(tmp_path, 60, Clock(), options=SMALL)
    paths = files(tmp_path)
    assert len(paths) >= 5
    for path in paths[:-1]:
        assert 0 < path.stat().st_size <= 4096
    for path in paths:  # each file is named after the seq of its first record
        first = json.loads(path.read_text().splitlines()[0])
        assert path.name == f"events-{first['seq']:012d}.jsonl"
    result = log.verify()
    assert result.ok and result.records == 60 and result.files == len(paths)


def test_rotation_by_time_starts_a_new_file_per_period(tmp_path: Path) -> None:
    filled_log(tmp_path, 9, Clock(), step=1200, rotate_seconds=3600)
    assert [len(p.read_text().splitlines()) for p in files(tmp_path)] == [3, 3, 3]
    assert EventLog(tmp_path).verify().ok


def test_queries_read_rotated_files_oldest_first_with_filters(tmp_path: Path) -> None:
    clock = Clock()
    start = clock.now
    log = filled_log(tmp_path, 60, clock, options=SMALL)
    everything = log.query()
    assert [r["seq"] for r in everything] == list(range(1, 61))
    window = log.query(since=start + 600, until=format_time(start + 1200))
    assert [r["seq"] for r in window] == list(range(11, 22))
    newest = log.query(target="blog", limit=3)
    assert [r["seq"] for r in newest] == [56, 58, 60]
    assert log.query(types=["drift.detected"]) == []
    assert len(log.query(types=["io.driftwatch.run.failed"], since=start + 59 * 60)) == 1
    assert len(log.query(type="run.failed")) == 60


def test_retention_by_size_removes_oldest_files_and_verify_still_passes(tmp_path: Path) -> None:
    options = EventLogOptions(rotate_bytes=4096, retention_bytes=12_000)
    log = filled_log(tmp_path, 100, Clock(), options=options)
    log.apply_retention()
    paths = files(tmp_path)
    assert paths[0].name != "events-000000000001.jsonl"
    assert sum(p.stat().st_size for p in paths[:-1]) <= 12_000
    result = log.verify()
    assert result.ok and result.anchored, result.display()
    retention = [r for r in stored_records(tmp_path) if r["shorttype"] == "eventlog.retention"]
    assert retention and "size" in retention[-1]["data"]["reasons"]
    validate(stored_records(tmp_path))
    assert log.query()[0]["seq"] == result.first_seq


def test_retention_by_age_removes_only_files_whose_newest_record_is_too_old(
    tmp_path: Path,
) -> None:
    clock = Clock()
    options = EventLogOptions(retention_days=3)
    log = filled_log(tmp_path, 10, clock, step=DAY, options=options, rotate_seconds=DAY)
    log.apply_retention()
    # one event a day, one file a day; now is day 10, so the cut-off is day 7: a file goes
    # when the next file (its newest possible record) starts before day 7
    remaining = log.query(types=["run.failed"])
    assert [r["data"]["errors"] for r in remaining] == [[f"failure {n}"] for n in (6, 7, 8, 9)]
    result = log.verify()
    assert result.ok and result.anchored


def test_deleting_a_record_after_retention_is_still_caught(tmp_path: Path) -> None:
    options = EventLogOptions(rotate_bytes=4096, retention_bytes=12_000)
    log = filled_log(tmp_path, 100, Clock(), options=options)
    log.apply_retention()
    victim = files(tmp_path)[1]
    lines = victim.read_bytes().splitlines(keepends=True)
    del lines[2]
    victim.write_bytes(b"".join(lines))
    broken = log.verify().broken
    assert broken is not None and broken.file == victim.name and broken.line == 3


def test_removing_an_old_file_by_hand_after_retention_is_caught(tmp_path: Path) -> None:
    options = EventLogOptions(rotate_bytes=4096, retention_bytes=12_000)
    log = filled_log(tmp_path, 100, Clock(), options=options)
    log.apply_retention()
    files(tmp_path)[0].unlink()
    broken = log.verify().broken
    assert broken is not None and "retention" in broken.reason


def test_writing_continues_across_a_restart_after_rotation(tmp_path: Path) -> None:
    clock = Clock()
    filled_log(tmp_path, 30, clock, options=SMALL)
    reopened = filled_log(tmp_path, 30, clock, options=SMALL)
    result = reopened.verify()
    assert result.ok and result.records == 60

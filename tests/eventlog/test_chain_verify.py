"""verify: an intact log passes; an edited, deleted or reordered record is named."""

from __future__ import annotations

import json
from pathlib import Path

from driftwatch.sinks.eventlog import GENESIS, EventLog
from tests.eventlog.helpers import Clock, filled_log, stored_records, validate

LOG = "events-000000000001.jsonl"


def lines_of(state_dir: Path) -> list[bytes]:
    return (state_dir / "events" / LOG).read_bytes().splitlines(keepends=True)


def rewrite(state_dir: Path, lines: list[bytes]) -> None:
    (state_dir / "events" / LOG).write_bytes(b"".join(lines))


def test_an_untouched_log_verifies_and_chains_from_genesis(tmp_path: Path) -> None:
    log = filled_log(tmp_path, 10, Clock())
    result = log.verify()
    assert result.ok and result.records == 10 and (result.first_seq, result.last_seq) == (1, 10)
    records = stored_records(tmp_path)
    assert records[0]["prevhash"] == GENESIS
    validate(records)
    assert "intact" in result.display()


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    result = EventLog(tmp_path).verify()
    assert result.ok and result.records == 0


def test_editing_a_middle_record_is_caught_and_the_record_named(tmp_path: Path) -> None:
    filled_log(tmp_path, 10, Clock())
    lines = lines_of(tmp_path)
    lines[4] = lines[4].replace(b"failure 4", b"failure X")
    rewrite(tmp_path, lines)
    result = EventLog(tmp_path).verify()
    assert not result.ok and result.broken is not None
    assert (result.broken.file, result.broken.line, result.broken.seq) == (LOG, 5, 5)
    assert "altered" in result.broken.reason


def test_editing_a_records_prevhash_is_blamed_on_that_record(tmp_path: Path) -> None:
    filled_log(tmp_path, 10, Clock())
    lines = lines_of(tmp_path)
    record = json.loads(lines[6])
    record["prevhash"] = "sha256:" + "f" * 64
    lines[6] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    rewrite(tmp_path, lines)
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None and (broken.line, broken.seq) == (7, 7)


def test_deleting_a_middle_record_is_caught_and_the_gap_named(tmp_path: Path) -> None:
    filled_log(tmp_path, 10, Clock())
    lines = lines_of(tmp_path)
    del lines[3]
    rewrite(tmp_path, lines)
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None
    assert (broken.file, broken.line, broken.seq) == (LOG, 4, 5)
    assert broken.reason == "record seq 4 is missing"


def test_deleting_a_record_and_renumbering_the_rest_is_still_caught(tmp_path: Path) -> None:
    filled_log(tmp_path, 6, Clock())
    lines = lines_of(tmp_path)
    del lines[2]
    renumbered = []
    for n, raw in enumerate(lines, start=1):
        record = json.loads(raw)
        record["seq"] = n
        renumbered.append(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    rewrite(tmp_path, renumbered)
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None and broken.line in (2, 3)


def test_swapping_two_records_is_caught(tmp_path: Path) -> None:
    filled_log(tmp_path, 6, Clock())
    lines = lines_of(tmp_path)
    lines[2], lines[3] = lines[3], lines[2]
    rewrite(tmp_path, lines)
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None and broken.line == 3


def test_a_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    filled_log(tmp_path, 5, Clock())
    lines = lines_of(tmp_path)
    lines[1] = b"garbage\n"
    rewrite(tmp_path, lines)
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None and broken.line == 2 and "not a valid event record" in broken.reason


def test_removing_the_oldest_records_without_retention_is_caught(tmp_path: Path) -> None:
    filled_log(tmp_path, 5, Clock())
    lines = lines_of(tmp_path)
    rewrite(tmp_path, lines[2:])
    broken = EventLog(tmp_path).verify().broken
    assert broken is not None and broken.seq == 3 and "retention" in broken.reason

"""Checking the event log's hash chain: the first record that breaks it, and why.

Each record must carry ``seq`` one more than the record before it and a
``prevhash`` equal to the hash of that record's stored line; the chain runs
across files in name order.  An edited record is caught by the next record's
``prevhash``, a deleted one by the gap in ``seq``.  The log may start after seq 1
only where an ``eventlog.retention`` record inside the chain vouches for exactly
that start (retention removed the files before it); otherwise the first record
must chain to ``GENESIS``.

Limits of an unkeyed chain: removing records at the very end, or editing the
newest record, leaves nothing behind that could disagree.  Ship the log elsewhere
(``eventLog.stdout``) to anchor it externally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwatch.sinks.eventlog.envelope import EVENTLOG_RETENTION, cloud_type
from driftwatch.sinks.eventlog.segments import GENESIS, line_hash, list_segments


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    """Where the chain breaks: file name, 1-based line, the record's seq (if known), why."""

    file: str
    line: int
    seq: int | None
    reason: str

    def display(self) -> str:
        """``events-000000000001.jsonl:17 (seq 17): reason``."""
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{self.file}:{self.line}{seq}: {self.reason}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of ``verify``; ``ok`` is False exactly when ``broken`` is set."""

    ok: bool
    records: int
    files: int
    first_seq: int | None = None
    last_seq: int | None = None
    broken: BrokenRecord | None = None
    partial_tail: str | None = None
    """An incomplete last line (a crashed or in-progress write): not a break."""
    anchored: bool = False
    """The log starts after seq 1 and a retention record vouches for it."""

    def display(self) -> str:
        """One line for people."""
        if self.broken is not None:
            return f"event log BROKEN at {self.broken.display()}"
        if not self.records:
            return "event log is empty"
        text = (
            f"event log intact: {self.records} records (seq {self.first_seq}..{self.last_seq})"
            f" in {self.files} file(s)"
        )
        if self.anchored:
            text += f"; records before seq {self.first_seq} removed by retention"
        if self.partial_tail:
            text += f"; {self.partial_tail}"
        return text


@dataclass(slots=True)
class _Pos:
    file: str
    line: int
    seq: int
    hash: str


def verify(directory: Path) -> VerifyResult:
    """Walk every file of the log in order and check the chain (read only)."""
    segments = list_segments(directory)
    count = 0
    first: tuple[_Pos, str] | None = None
    prev: _Pos | None = None
    suspect: tuple[_Pos, _Pos] | None = None  # (record whose hash disagreed, the next one)
    anchors: set[tuple[int, str]] = set()
    partial: str | None = None

    def result(broken: BrokenRecord | None = None, anchored: bool = False) -> VerifyResult:
        return VerifyResult(
            broken is None,
            count,
            len(segments),
            first[0].seq if first else None,
            prev.seq if prev else None,
            broken,
            partial,
            anchored,
        )

    for index, segment in enumerate(segments):
        with segment.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                name = segment.path.name
                if not raw.endswith(b"\n"):
                    if index == len(segments) - 1:
                        partial = (
                            f"{name}: incomplete last line ({len(raw)} bytes)"
                            f" after line {number - 1}"
                        )
                        break
                    return result(BrokenRecord(name, number, None, "incomplete line in the log"))
                line = raw[:-1]
                record = _parse(line)
                if record is None:
                    return result(BrokenRecord(name, number, None, "not a valid event record"))
                seq, prevhash = record["seq"], record["prevhash"]
                pos = _Pos(name, number, seq, line_hash(line))
                if suspect is not None:
                    edited, after = suspect
                    # If this record also disagrees with the one before, that one was edited.
                    culprit = after if prevhash != after.hash else edited
                    return result(_altered(culprit))
                if prev is None:
                    first = (pos, prevhash)
                    if seq == 1 and prevhash != GENESIS:
                        reason = "first record does not chain to the genesis value"
                        return result(BrokenRecord(name, number, seq, reason))
                elif seq != prev.seq + 1:
                    return result(BrokenRecord(name, number, seq, _gap(prev.seq, seq)))
                elif prevhash != prev.hash:
                    suspect = (prev, pos)
                if record.get("type") == cloud_type(EVENTLOG_RETENTION):
                    anchor = _anchor(record)
                    if anchor is not None:
                        anchors.add(anchor)
                count += 1
                prev = pos
    if suspect is not None:
        return result(_altered(suspect[0], also=suspect[1]))
    if first is not None and first[0].seq != 1:
        start, prevhash = first
        if (start.seq - 1, prevhash) not in anchors:
            return result(
                BrokenRecord(
                    start.file,
                    start.line,
                    start.seq,
                    f"the log starts at seq {start.seq} but no eventlog.retention record accounts "
                    f"for removing seq 1..{start.seq - 1}",
                )
            )
        return result(anchored=True)
    return result()


def _gap(before: int, seq: int) -> str:
    if seq <= before:
        return f"seq {seq} after seq {before}: duplicated or reordered"
    if seq == before + 2:
        return f"record seq {before + 1} is missing"
    return f"records seq {before + 1}..{seq - 1} are missing"


def _altered(pos: _Pos, also: _Pos | None = None) -> BrokenRecord:
    reason = "record was altered: its hash differs from the prevhash stored in the next record"
    if also is not None:
        reason = (
            f"record seq {pos.seq} or the newest record seq {also.seq} was altered: "
            "their link does not match"
        )
    return BrokenRecord(pos.file, pos.line, pos.seq, reason)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if not isinstance(record.get("seq"), int) or not isinstance(record.get("prevhash"), str):
        return None
    return record


def _anchor(record: dict[str, Any]) -> tuple[int, str] | None:
    data = record.get("data")
    if not isinstance(data, dict):
        return None
    through, anchor = data.get("removedThroughSeq"), data.get("anchor")
    if isinstance(through, int) and isinstance(anchor, str):
        return through, anchor
    return None

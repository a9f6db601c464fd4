"""Which whole files retention removes, and the anchor that keeps the chain verifiable.

Retention never edits a file: it removes the oldest files, never the one being
written, while the newest record of a file is older than ``retentionDays`` or
the log is larger than ``retentionBytes``.  Before removing anything the log
appends an ``eventlog.retention`` record naming the files and the *anchor*: the
sequence number and hash of the last removed record, which the first kept record
chains to.  ``verify`` accepts a log that starts after seq 1 only when such a
record, itself inside the verified chain, vouches for exactly that start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from driftwatch.config.model import EventLogOptions
from driftwatch.sinks.eventlog.segments import Segment, first_time, read_first_line


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """Files to remove and the chain anchor after them."""

    remove: tuple[Segment, ...]
    through_seq: int
    """Sequence number of the last removed record."""
    anchor: str | None
    """``prevhash`` of the first kept record (None: it is not written yet -> the log head)."""
    reasons: tuple[str, ...]
    removed_bytes: int


def plan_retention(
    segments: list[Segment], now: float, options: EventLogOptions
) -> RetentionPlan | None:
    """What retention would remove from ``segments`` (oldest first) at ``now``; None: nothing."""
    if len(segments) < 2:
        return None
    cutoff = now - options.retention_days * 86400
    sizes = [s.size() for s in segments]
    total = sum(sizes)
    remove: list[Segment] = []
    reasons: set[str] = set()
    removed_bytes = 0
    for index, segment in enumerate(segments[:-1]):
        newest_bound = first_time(segments[index + 1])
        too_old = newest_bound is not None and newest_bound < cutoff
        too_big = options.retention_bytes is not None and total > options.retention_bytes
        if not (too_old or too_big):
            break
        reasons.update(r for r, hit in (("age", too_old), ("size", too_big)) if hit)
        remove.append(segment)
        total -= sizes[index]
        removed_bytes += sizes[index]
    if not remove:
        return None
    kept = segments[len(remove)]
    line = read_first_line(kept.path)
    if line is None:
        return RetentionPlan(
            tuple(remove), kept.first_seq - 1, None, tuple(sorted(reasons)), removed_bytes
        )
    record = json.loads(line)
    return RetentionPlan(
        tuple(remove),
        int(record["seq"]) - 1,
        str(record["prevhash"]),
        tuple(sorted(reasons)),
        removed_bytes,
    )

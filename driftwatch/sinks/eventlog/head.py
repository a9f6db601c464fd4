"""Finding where the event log ends, and setting aside what a crashed writer left there.

The *head* is the last complete record: its ``seq`` and hash are what the next
record chains to.  Only the writer holding the log's lock calls this, so an
incomplete last line cannot be a write in progress: it is a crashed writer's
fragment, moved to ``<file>.<offset>.partial`` before the file is cut back to its
last complete line.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwatch.errors import truncate
from driftwatch.history.store import fsync_dir
from driftwatch.sinks.eventlog.errors import EventLogError
from driftwatch.sinks.eventlog.segments import (
    GENESIS,
    Segment,
    first_time,
    line_hash,
    list_segments,
    read_tail,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Head:
    """The end of the log as the writer sees it."""

    seq: int
    hash: str
    segment: Path | None
    """The file new records go to (None: no file yet)."""
    size: int
    first_time: float | None
    """Time of the first record of ``segment`` (for time-based rotation)."""


def find_head(directory: Path, cached: Head | None) -> tuple[Head, dict[str, Any] | None]:
    """The current head (``cached`` if no other writer moved it) and a recovery incident, if any.

    Raises ``EventLogError`` when the last record cannot be parsed.
    """
    segments = list_segments(directory)
    if not segments:
        return Head(0, GENESIS, None, 0, None), None
    last = segments[-1]
    size = last.size()
    if cached is not None and cached.segment == last.path and cached.size == size:
        return cached, None
    tail = read_tail(last.path)
    incident = None
    if tail.fragment:
        incident = quarantine(last, tail.end, tail.fragment)
        size = tail.end
    for segment in reversed(segments):
        line = tail.last_line if segment is last else read_tail(segment.path).last_line
        if line is None:
            continue
        try:
            seq = int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError) as e:
            raise EventLogError(
                f"cannot continue the event log: the last record of {segment.path} is "
                f"unreadable ({truncate(str(e))}); run `driftwatch events verify`"
            ) from e
        return Head(seq, line_hash(line), last.path, size, first_time(last)), incident
    if last.first_seq != 1:
        raise EventLogError(f"cannot continue the event log: {directory} holds no record")
    return Head(0, GENESIS, last.path, size, None), incident


def quarantine(segment: Segment, end: int, fragment: bytes) -> dict[str, Any]:
    """Move the bytes after ``end`` to a ``.partial`` file, cut ``segment`` back; the incident."""
    aside = segment.path.with_name(f"{segment.path.name}.{end}.partial")
    with aside.open("ab") as handle:
        handle.write(fragment)
        handle.flush()
        os.fsync(handle.fileno())
    fd = os.open(segment.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, end)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(segment.path.parent)
    logger.warning(
        "event log %s ended in an incomplete record (%d bytes); moved to %s",
        segment.path,
        len(fragment),
        aside.name,
    )
    return {
        "file": segment.path.name,
        "offset": end,
        "bytes": len(fragment),
        "quarantine": aside.name,
    }

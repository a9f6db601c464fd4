"""The on-disk layout of the event log: numbered JSON Lines files and the hash chain.

Files are ``<state_dir>/events/events-<first seq, 12 digits>.jsonl``; every line
is one CloudEvent whose ``prevhash`` is ``sha256:<hex>`` of the previous line's
bytes (the first record of all chains to ``GENESIS``), so the chain runs across
files in name order.  Helpers here read the first and last lines of a file
without reading the whole of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "sha256:" + "0" * 64
"""The ``prevhash`` of the very first record."""

_SEGMENT = re.compile(r"^events-(\d{12})\.jsonl$")
_CHUNK = 64 * 1024


def line_hash(line: bytes) -> str:
    """The chain hash of one stored line (without its newline)."""
    return "sha256:" + hashlib.sha256(line).hexdigest()


def encode(record: Mapping[str, Any]) -> bytes:
    """The stored form of a record: compact ASCII JSON, no newline."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def segment_name(first_seq: int) -> str:
    """File name of the segment whose first record has ``first_seq``."""
    return f"events-{first_seq:012d}.jsonl"


@dataclass(frozen=True, slots=True)
class Segment:
    """One file of the log."""

    path: Path
    first_seq: int

    def size(self) -> int:
        """Current size in bytes (0 if the file vanished)."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0


def list_segments(directory: Path) -> list[Segment]:
    """The log's files, oldest first (quarantined ``.partial`` files and others ignored)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = _SEGMENT.match(name)
        if match:
            found.append(Segment(directory / name, int(match.group(1))))
    return sorted(found, key=lambda s: s.first_seq)


def read_first_line(path: Path) -> bytes | None:
    """The first complete line of ``path`` (None if it has none)."""
    try:
        with path.open("rb") as handle:
            line = handle.readline()
    except FileNotFoundError:
        return None
    return line[:-1] if line.endswith(b"\n") else None


@dataclass(frozen=True, slots=True)
class Tail:
    """The end of a file: its last complete line and any incomplete fragment after it."""

    last_line: bytes | None
    end: int
    """Offset just after the last newline (where the complete part ends)."""
    fragment: bytes


def read_tail(path: Path) -> Tail:
    """Find the last complete line and the trailing fragment of ``path``, reading backwards."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        pos, buf = size, b""
        while pos > 0 and buf.count(b"\n") < 2:
            start = max(0, pos - _CHUNK)
            handle.seek(start)
            buf = handle.read(pos - start) + buf
            pos = start
    last_nl = buf.rfind(b"\n")
    if last_nl < 0:
        return Tail(None, 0, buf)
    before = buf.rfind(b"\n", 0, last_nl)
    return Tail(buf[before + 1 : last_nl], pos + last_nl + 1, buf[last_nl + 1 :])


def format_time(epoch: float) -> str:
    """RFC 3339 UTC with microseconds: ``2026-01-02T03:04:05.123456Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """Unix time of an RFC 3339 timestamp (``Z`` or offset; naive means UTC)."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def record_time(record: Mapping[str, Any]) -> float | None:
    """The ``time`` of a record as Unix time (None when absent or malformed)."""
    text = record.get("time")
    if not isinstance(text, str):
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def first_time(segment: Segment) -> float | None:
    """Time of the first record of ``segment`` (None if it has none or it is unreadable)."""
    line = read_first_line(segment.path)
    if line is None:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record_time(record) if isinstance(record, dict) else None

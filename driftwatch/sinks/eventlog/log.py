"""The append-only, hash-chained audit event log (JSON Lines under ``<state_dir>/events/``).

Writing: each batch is appended under an exclusive ``flock`` (so ``driftwatch
check`` and ``serve`` can share a state directory), then fsync'ed; only then are
its records *confirmed* (counted, echoed to stdout when asked).  A failed write
(disk full, file size limit) truncates the file back to its confirmed end and
raises ``EventLogWriteError``: records written before stay intact.

Crash safety: a crash mid-write leaves at most one incomplete last line.  The
next writer to take the lock moves that fragment to ``<file>.<n>.partial``,
truncates the file to its last complete line and records ``eventlog.recovered``.

Rotation starts a new file when the current one would exceed ``rotateBytes`` or
its first record is older than ``rotate_seconds``; retention removes whole oldest
files (see ``retention``).  Reading: ``query``/``verify`` never modify anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from driftwatch.config.model import EventLogOptions
from driftwatch.errors import truncate
from driftwatch.history.store import fsync_dir
from driftwatch.sinks.eventlog import envelope as env
from driftwatch.sinks.eventlog.errors import EventLogError, EventLogWriteError
from driftwatch.sinks.eventlog.head import Head, find_head
from driftwatch.sinks.eventlog.query import ResourceFilter, TimeBound, iter_records, query
from driftwatch.sinks.eventlog.retention import plan_retention
from driftwatch.sinks.eventlog.segments import (
    encode,
    line_hash,
    list_segments,
    segment_name,
)
from driftwatch.sinks.eventlog.verify import VerifyResult, verify

logger = logging.getLogger(__name__)

ROTATE_SECONDS = 86400.0
RETENTION_CHECK_SECONDS = 3600.0


class EventLog:
    """One event log directory: append (one writer at a time), query, verify."""

    def __init__(
        self,
        state_dir: str | Path,
        options: EventLogOptions | None = None,
        *,
        instance: str = "driftwatch",
        stdout: TextIO | None = None,
        rotate_seconds: float = ROTATE_SECONDS,
        clock: Callable[[], float] = time.time,
        write: Callable[[int, bytes], int] = os.write,
    ) -> None:
        self.directory = Path(state_dir) / "events"
        self.options = options or EventLogOptions()
        self.instance = instance
        self.rotate_seconds = rotate_seconds
        self.events_written: Counter[str] = Counter()
        """Confirmed records by CloudEvents type (``driftwatch_events_total``)."""
        self.write_errors = 0
        """Failed appends (``driftwatch_event_log_write_errors_total``)."""
        if stdout is None and self.options.stdout:
            stdout = sys.stdout
        self._stdout = stdout
        self._clock = clock
        self._write = write
        self._rlock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None
        self._head: Head | None = None
        self._incident: dict[str, Any] | None = None
        self._retention_checked = 0.0

    # ------------------------------------------------------------------ locking and head

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the log exclusively (threads and processes); re-entrant within a thread."""
        with self._rlock:
            if self._depth == 0:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:
                    os.close(fd)
                    raise
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    fd, self._lock_fd = self._lock_fd, None
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)

    @property
    def head_seq(self) -> int:
        """Sequence number of the last confirmed record (0 for an empty log)."""
        with self.lock():
            return self._refresh().seq

    def _refresh(self) -> Head:
        """Re-read the head if another writer moved it; quarantine a crashed writer's fragment."""
        self._head, incident = find_head(self.directory, self._head)
        if incident is not None:
            self._incident = incident
        return self._head

    # ------------------------------------------------------------------ writing

    def recover(self) -> dict[str, Any] | None:
        """Check the log's end now; a recovered fragment is recorded at once. Its record."""
        with self.lock():
            self._refresh()
            if self._incident is None:
                return None
            return self.append([])[0]

    def append(self, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Chain, write and fsync ``events`` (CloudEvents without seq/prevhash); the records.

        Raises ``EventLogWriteError`` when the write fails; the log then ends at
        its last confirmed record.
        """
        with self.lock():
            head = self._refresh()
            batch = list(events)
            if self._incident is not None:
                incident, self._incident = self._incident, None
                batch.insert(0, self._log_event(env.EVENTLOG_RECOVERED, incident))
            if not batch:
                return []
            now = self._clock()
            records: list[dict[str, Any]] = []
            pending: list[bytes] = []
            seq, prev, segment, size = head.seq, head.hash, head.segment, head.size
            started = head.first_time
            for event in batch:
                record = {**event, "seq": seq + 1, "prevhash": prev}
                line = encode(record) + b"\n"
                if segment is None or (
                    size > 0
                    and (
                        size + len(line) > self.options.rotate_bytes
                        or (started is not None and now - started >= self.rotate_seconds)
                    )
                ):
                    if segment is not None and pending:
                        self._write_batch(segment, size - sum(map(len, pending)), pending)
                    segment = self.directory / segment_name(seq + 1)
                    size, started, pending = 0, now, []
                pending.append(line)
                size += len(line)
                records.append(record)
                seq, prev = seq + 1, line_hash(line[:-1])
            assert segment is not None
            self._write_batch(segment, size - sum(map(len, pending)), pending)
            self._head = Head(seq, prev, segment, size, started)
            self._confirmed(records)
            if now - self._retention_checked >= RETENTION_CHECK_SECONDS:
                try:
                    self.apply_retention()
                except EventLogError as e:  # the batch itself is confirmed
                    logger.warning("event log retention failed: %s", e)
            return records

    def _write_batch(self, path: Path, offset: int, lines: list[bytes]) -> None:
        created = not path.exists()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as e:
            self.write_errors += 1
            raise EventLogWriteError(f"cannot open event log {path}: {e.strerror}") from e
        try:
            if created:
                fsync_dir(self.directory)
            view = memoryview(b"".join(lines))
            while view:
                view = view[self._write(fd, bytes(view)) :]
            os.fsync(fd)
        except OSError as e:
            self.write_errors += 1
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
                os.fsync(fd)
            self._head = None  # re-read from disk next time
            raise EventLogWriteError(
                f"cannot append to event log {path}: {e.strerror or e}; "
                "records written before are intact"
            ) from e
        finally:
            os.close(fd)

    def _confirmed(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.events_written[str(record.get("type"))] += 1
        if self._stdout is not None:
            try:
                for record in records:
                    self._stdout.write(encode(record).decode("ascii") + "\n")
                self._stdout.flush()
            except (OSError, ValueError) as e:
                logger.warning("cannot echo events to stdout: %s", e)

    def _log_event(self, short: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return env.envelope(
            short,
            instance=self.instance,
            subject=env.EVENTLOG_SUBJECT,
            data=data,
            time=self._clock(),
        )

    def apply_retention(self, now: float | None = None) -> list[str]:
        """Remove whole oldest files past ``retentionDays``/``retentionBytes``; their names."""
        with self.lock():
            now = self._clock() if now is None else now
            self._retention_checked = now
            head = self._refresh()
            try:
                plan = plan_retention(list_segments(self.directory), now, self.options)
            except (ValueError, KeyError, TypeError) as e:
                logger.warning("event log retention skipped: %s", truncate(str(e)))
                return []
            if plan is None:
                return []
            names = [s.path.name for s in plan.remove]
            self.append(
                [
                    self._log_event(
                        env.EVENTLOG_RETENTION,
                        {
                            "removedFiles": names,
                            "removedThroughSeq": plan.through_seq if plan.anchor else head.seq,
                            "anchor": plan.anchor or head.hash,
                            "removedBytes": plan.removed_bytes,
                            "reasons": list(plan.reasons),
                        },
                    )
                ]
            )
            for segment in plan.remove:
                with contextlib.suppress(FileNotFoundError):
                    segment.path.unlink()
            fsync_dir(self.directory)
            logger.info("event log retention removed %s", ", ".join(names))
            return names

    # ------------------------------------------------------------------ reading

    def query(
        self,
        *,
        since: TimeBound = None,
        until: TimeBound = None,
        types: Sequence[str] = (),
        target: str | None = None,
        resource: ResourceFilter = None,
        limit: int | None = None,
        type: str | None = None,  # the HTTP API passes one type under this name
    ) -> list[dict[str, Any]]:
        """Matching records, oldest first; with ``limit`` the newest ``limit`` of them.

        ``types`` (or a single ``type``) match the short (``drift.detected``) or the
        CloudEvents type; ``resource`` is ``kind/namespace/name`` or ``kind/name``
        (ValueError otherwise); ``since``/``until`` are inclusive.
        """
        wanted = [*types, type] if type else list(types)
        return query(
            self.directory,
            since=since,
            until=until,
            types=wanted,
            target=target,
            resource=resource,
            limit=limit,
        )

    def ids_after(self, seq: int) -> set[str]:
        """Event ids of the records after ``seq`` (to tell which owed events were written)."""
        return {str(r.get("id")) for r in iter_records(self.directory, after_seq=seq)}

    def verify(self) -> VerifyResult:
        """Check the whole chain; see ``VerifyResult``."""
        return verify(self.directory)

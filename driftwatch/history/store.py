"""Drift history on disk: one JSON file per target under ``<state_dir>/history/``.

Each file is replaced atomically (temp file, fsync, rename, fsync of the
directory), so a crash leaves either the old or the new state, never a mix, and
a restarted driftwatch continues where it stopped instead of announcing every
drift again.  A file also carries an *outbox*: events computed from the state
it holds that were not yet confirmed written to the event log (see
``driftwatch.sinks.eventlog.recorder``); keeping both in one file makes "state
advanced" and "its events are owed" a single atomic step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwatch.errors import DriftwatchError, truncate
from driftwatch.history.state import TargetHistory
from driftwatch.model import ResourceKey

_SAFE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")


class HistoryError(DriftwatchError):
    """A history state file could not be read or written."""


@dataclass(frozen=True, slots=True)
class StoredHistory:
    """A target's history plus the events still owed to the event log."""

    history: TargetHistory
    outbox: tuple[Mapping[str, Any], ...] = ()
    outbox_after_seq: int = 0
    """The event log's last sequence number when the oldest outbox event was computed."""


class HistoryStore:
    """Per-target drift history files, with an in-memory copy for lookups (thread-safe)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.directory = Path(state_dir) / "history"
        self._entries: dict[str, StoredHistory] = {}
        self._lock = threading.Lock()

    def path(self, target: str) -> Path:
        """The state file of ``target`` (names that are not safe file names are hashed)."""
        return target_file(self.directory, target)

    def targets(self) -> list[str]:
        """Targets that have a state file (read from the files; unreadable ones skipped)."""
        names = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                names.append(str(json.loads(path.read_text())["target"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return names

    def read(self, target: str) -> StoredHistory:
        """The stored state of ``target`` from disk (empty when there is none).

        Raises ``HistoryError`` naming the file when it exists but cannot be read.
        """
        path = self.path(target)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            stored = StoredHistory(TargetHistory(target))
        except OSError as e:
            raise HistoryError(f"cannot read drift history {path}: {truncate(str(e))}") from e
        else:
            try:
                data = json.loads(text)
                stored = StoredHistory(
                    TargetHistory.from_json(data),
                    tuple(data.get("outbox") or ()),
                    int(data.get("outboxAfterSeq") or 0),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise HistoryError(f"drift history {path} is malformed: {truncate(str(e))}") from e
            if stored.history.target != target:
                raise HistoryError(f"drift history {path} belongs to {stored.history.target!r}")
        with self._lock:
            self._entries[target] = stored
        return stored

    def set_aside(self, target: str) -> Path | None:
        """Move an unreadable state file out of the way (``.corrupt-<time>``); its new name."""
        path = self.path(target)
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise HistoryError(f"cannot move aside {path}: {truncate(str(e))}") from e
        with self._lock:
            self._entries.pop(target, None)
        return aside

    def write(self, stored: StoredHistory) -> None:
        """Replace the state file atomically; raises ``HistoryError`` (state on disk unchanged)."""
        data = stored.history.to_json()
        data["outbox"] = [dict(e) for e in stored.outbox]
        data["outboxAfterSeq"] = stored.outbox_after_seq
        payload = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        path = self.path(stored.history.target)
        try:
            atomic_write(path, payload)
        except OSError as e:
            raise HistoryError(f"cannot write drift history {path}: {truncate(str(e))}") from e
        with self._lock:
            self._entries[stored.history.target] = stored

    def get(self, target: str) -> TargetHistory:
        """The last known history of ``target`` (memory first, then disk; empty if none)."""
        with self._lock:
            cached = self._entries.get(target)
        if cached is not None:
            return cached.history
        try:
            return self.read(target).history
        except HistoryError:
            return TargetHistory(target)

    def first_seen(self, target: str, key: ResourceKey) -> float | None:
        """Unix time ``key`` was first seen drifted in its current episode (None: not drifted)."""
        return self.get(target).first_seen(key)

    def drifting_since(self, target: str) -> dict[ResourceKey, float]:
        """Every currently drifted object of ``target`` with its drift start (for metrics)."""
        return {
            k: o.first_seen_drifted
            for k, o in self.get(target).objects.items()
            if o.drifted and o.first_seen_drifted is not None
        }


def target_file(directory: Path, target: str) -> Path:
    """``directory/<target>.json``; names that are not safe file names are hashed."""
    if _SAFE_NAME.match(target) and target not in {".", ".."}:
        return directory / f"{target}.json"
    digest = hashlib.sha256(target.encode()).hexdigest()[:24]
    return directory / f"target-{digest}.json"


def atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via temp file + fsync + rename + directory fsync."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or file creation in ``directory`` durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

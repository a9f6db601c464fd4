"""Skip rendering when nothing that shapes the result has changed.

A render is a pure function of: the commit, the target's path, renderer,
default namespace, Helm release and ``set`` values, the content of every values
file (those outside the repository included: the commit does not cover them),
the Kustomize command, and driftwatch's own version.  ``RenderCache`` keys a
stored ``DesiredSet`` by a SHA-256 over exactly those.

Entries are pickles (protocol 5) on disk, written atomically, so a restarted
service reuses them; the latest entry per target is also kept in memory.  The
cache directory is driftwatch's own (created 0700): a pickle is code, never
load one from a directory others can write.

**No Secret value is ever written here.**  A rendered set can hold values the
repository does not (Helm values files outside it, ``helm.set``), so only a set
whose Secret data and sensitive annotations were already replaced by keyed
fingerprints (``driftwatch.redact``) goes to disk, and its key names the
redaction (key id and sensitive annotations), so a set fingerprinted under
another key is never served.  An unredacted set (``driftwatch render
--show-secrets``) is kept in memory only.  Kustomize remote bases and Helm
``lookup`` are not inputs driftwatch can see; a kustomization that pulls
remote bases is re-rendered only when the commit changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from driftwatch import __version__
from driftwatch.gcpause import paused_gc
from driftwatch.model import DesiredSet

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
_SUFFIX = ".desired.pickle"


def cache_key(inputs: dict[str, Any]) -> str:
    """SHA-256 over the render inputs (plus driftwatch's version and the cache format)."""
    material = {"driftwatch": __version__, "format": CACHE_FORMAT, **inputs}
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content, streamed; ``missing`` when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "missing"
    return digest.hexdigest()


class RenderCache:
    """Rendered desired sets on disk under ``cache_dir``, keyed by ``cache_key``."""

    def __init__(self, cache_dir: str | Path, *, max_entries: int = 256) -> None:
        self.directory = Path(cache_dir)
        self.max_entries = max_entries
        self._memory: dict[str, tuple[str, DesiredSet]] = {}
        self._lock = threading.Lock()

    def load(self, key: str, target: str) -> DesiredSet | None:
        """The stored set for ``key`` (marked ``from_cache``), or None."""
        with self._lock:
            held = self._memory.get(target)
        if held is not None and held[0] == key:
            return _copy(held[1])
        path = self.directory / f"{key}{_SUFFIX}"
        try:
            with path.open("rb") as handle, paused_gc():
                stored = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as e:
            log.warning("ignoring unreadable render cache entry %s: %s", path.name, e)
            path.unlink(missing_ok=True)
            return None
        if not isinstance(stored, DesiredSet):
            path.unlink(missing_ok=True)
            return None
        with self._lock:
            self._memory[target] = (key, stored)
        return _copy(stored)

    def store(self, key: str, desired: DesiredSet, *, persist: bool = True) -> None:
        """Keep ``desired`` for ``key`` (best effort: a full disk only costs a re-render).

        ``persist=False`` keeps it in memory only: the caller passes it for any
        set that may still hold Secret values (see the module doc).
        """
        stored = replace(desired, from_cache=False)
        with self._lock:
            self._memory[desired.target] = (key, stored)
        if not persist:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(stored, handle, protocol=5)
                os.replace(tmp, self.directory / f"{key}{_SUFFIX}")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            log.warning("cannot write render cache entry: %s", e)
            return
        self._prune()

    def _prune(self) -> None:
        try:
            entries = sorted(
                (
                    p
                    for p in self.directory.iterdir()
                    if p.name.endswith(_SUFFIX) and not p.name.startswith(".")
                ),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
        except OSError:
            return
        for old in entries[self.max_entries :]:
            old.unlink(missing_ok=True)


def _copy(stored: DesiredSet) -> DesiredSet:
    """A set the caller may re-key or extend without touching the cached one."""
    return DesiredSet(
        target=stored.target,
        objects=dict(stored.objects),
        errors=list(stored.errors),
        revision=stored.revision,
        from_cache=True,
    )

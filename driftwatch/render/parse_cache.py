"""Parse each Git blob once: documents cached by blob SHA, in memory and on disk.

A blob's SHA names its content, so the same file at a new commit (or under
another path) costs nothing: a new commit re-parses only the files it changed.

* **In memory** (``serve``, and every run of one process): entries are kept in
  least-recently-used order and bounded by the **size of the YAML they were
  parsed from** (``max_memory_bytes``, default 64 MiB of source; the parsed
  objects take a few times that).  An entry of the current commit is shared
  with the desired set built from it, so it costs nothing beyond it; the bound
  caps what superseded commits leave behind.
* **On disk** (``check``, one process per run): one *pack* per source (the
  repository, the target's path and the parse limits), a ``marshal`` file
  holding exactly the entries of the last commit rendered from it, replaced
  atomically after each render that parsed anything.

An entry is the documents of one file, already split into objects (``*List``
documents flattened) and, when a redactor is given, with every Secret value
and sensitive annotation replaced by its keyed fingerprint
(``driftwatch.redact``) — **before** it is cached anywhere.  Without a
redactor (``driftwatch render --show-secrets``) nothing is written to disk, so
no Secret value ever is.  The pack records the redaction (key id and sensitive
annotations) it was made with and is used only under the same one, so
fingerprints made under another key are never served (a process with a
throw-away key replaces the pack rather than adding one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from driftwatch import __version__
from driftwatch.model import SourceError
from driftwatch.redact import SecretHasher
from driftwatch.render.assemble import RenderedDoc, flatten_lists
from driftwatch.render.plain import parse_blob
from driftwatch.render.yamlload import DEFAULT_LIMITS, Limits, YamlLoadError
from driftwatch.source.tree import TreeEntry

log = logging.getLogger(__name__)

PACK_FORMAT = 1
_SUFFIX = ".blobs.marshal"
DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024

Entry = tuple[list[tuple[int, int | None, Any]], list[tuple[str, int | None]]]
"""(documents as (document index, line, body), errors as (message, line)) of one file."""


def redaction_id(redactor: SecretHasher | None) -> str | None:
    """Names what a redactor does (key id and sensitive annotations); None for no redaction."""
    if redactor is None:
        return None
    material = redactor.key_id + "\0" + "\0".join(sorted(redactor.sensitive_annotations))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def pack_key(repository: str, path: str, limits: Limits) -> str:
    """The disk pack's name for one source (not the commit: a new commit reuses the pack)."""
    material = {
        "driftwatch": __version__,
        "format": PACK_FORMAT,
        "repository": repository,
        "path": path,
        "limits": [limits.max_file_bytes, limits.max_depth, limits.max_expanded_nodes],
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ParseCache:
    """Parsed documents per blob (see the module doc); safe to share between threads."""

    def __init__(
        self,
        directory: str | Path | None,
        *,
        max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
        max_packs: int = 64,
    ) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.max_memory_bytes = max_memory_bytes
        self.max_packs = max_packs
        self._memory: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._memory_bytes = 0
        self._lock = threading.Lock()
        self.parsed = 0
        """Files parsed (not served from a cache) since this cache was made."""

    @property
    def memory_bytes(self) -> int:
        """Source bytes of the entries held in memory (what ``max_memory_bytes`` bounds)."""
        return self._memory_bytes

    def documents(
        self,
        files: Sequence[TreeEntry],
        read: Callable[[Iterable[str]], dict[str, bytes]],
        *,
        pack: str | None,
        redactor: SecretHasher | None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> tuple[list[RenderedDoc], list[SourceError]]:
        """The documents of ``files`` in order, parsing only blobs no cache holds.

        ``read`` fetches blob contents by SHA; ``pack`` names the disk pack (None:
        memory only; it is ignored without a redactor, see the module doc).
        """
        pack = pack if redactor is not None and self.directory is not None else None
        redaction = redaction_id(redactor) or ""
        keys = [_blob_key(f) for f in files]
        scope = f"/{redaction}/{limits.max_file_bytes}/{limits.max_depth}"
        scope += f"/{limits.max_expanded_nodes}"
        found: dict[str, Entry] = {}
        with self._lock:
            for key in keys:
                held = self._memory.get(key + scope)
                if held is not None:
                    self._memory.move_to_end(key + scope)
                    found[key] = held[0]
        stored: dict[str, Entry] = {}
        if pack is not None and len(found) < len(set(keys)):
            stored = self._load_pack(pack, redaction)
            found.update((k, stored[k]) for k in keys if k not in found and k in stored)
        missing = [f for f, k in zip(files, keys, strict=True) if k not in found]
        if missing:
            found.update(self._parse(missing, read, redactor, limits))
        self._remember(files, [k + scope for k in keys], found, keys)
        if pack is not None and (missing or set(stored) != set(keys)):
            self._write_pack(pack, redaction, {k: found[k] for k in keys})
        docs: list[RenderedDoc] = []
        errors: list[SourceError] = []
        for entry, key in zip(files, keys, strict=True):
            file_docs, file_errors = found[key]
            docs.extend(RenderedDoc(entry.path, d, line, body) for d, line, body in file_docs)
            errors.extend(SourceError(entry.path, message, line) for message, line in file_errors)
        return docs, errors

    # ------------------------------------------------------------------ parsing

    def _parse(
        self,
        files: Sequence[TreeEntry],
        read: Callable[[Iterable[str]], dict[str, bytes]],
        redactor: SecretHasher | None,
        limits: Limits,
    ) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        readable = [f for f in files if f.size <= limits.max_file_bytes]
        contents = read(f.sha for f in readable)
        redact = redactor.redact if redactor is not None else None
        for f in files:
            if f.size > limits.max_file_bytes:
                error = YamlLoadError.too_large(f.path, f.size, limits)
                out[_blob_key(f)] = ([], [(error.message, error.line)])
                continue
            parsed, errors = parse_blob(contents[f.sha], f.path, limits)
            docs = [
                (d.document, d.line, redact(d.body) if redact and type(d.body) is dict else d.body)
                for d in flatten_lists(parsed)
            ]
            out[_blob_key(f)] = (docs, [(e.message, e.line) for e in errors])
        self.parsed += len(files)
        return out

    # ------------------------------------------------------------------ memory

    def _remember(
        self,
        files: Sequence[TreeEntry],
        memory_keys: list[str],
        found: dict[str, Entry],
        keys: list[str],
    ) -> None:
        with self._lock:
            for f, memory_key, key in zip(files, memory_keys, keys, strict=True):
                if memory_key in self._memory or f.size > self.max_memory_bytes:
                    continue
                self._memory[memory_key] = (found[key], f.size)
                self._memory_bytes += f.size
            while self._memory_bytes > self.max_memory_bytes and self._memory:
                _, (_, size) = self._memory.popitem(last=False)
                self._memory_bytes -= size

    # ------------------------------------------------------------------ disk

    def _pack_path(self, pack: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{pack}{_SUFFIX}"

    def _load_pack(self, pack: str, redaction: str) -> dict[str, Entry]:
        path = self._pack_path(pack)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            log.warning("cannot read parse cache %s: %s", path.name, e)
            return {}
        try:
            stored = marshal.loads(data)
        except (EOFError, ValueError, TypeError) as e:
            log.warning("ignoring unreadable parse cache %s: %s", path.name, e)
            path.unlink(missing_ok=True)
            return {}
        if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == PACK_FORMAT):
            path.unlink(missing_ok=True)
            return {}
        _, made_with, entries = stored
        if made_with != redaction or not isinstance(entries, dict):
            return {}  # fingerprints under another key: parse again, then replace it
        return entries

    def _write_pack(self, pack: str, redaction: str, entries: dict[str, Entry]) -> None:
        """Best effort: a full disk only costs parsing again next time."""
        assert self.directory is not None
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as handle:
                    marshal.dump((PACK_FORMAT, redaction, entries), handle)
                os.replace(tmp, self._pack_path(pack))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, ValueError) as e:
            log.warning("cannot write parse cache: %s", e)
            return
        self._prune()

    def _prune(self) -> None:
        assert self.directory is not None
        try:
            packs = sorted(
                (p for p in self.directory.iterdir() if p.name.endswith(_SUFFIX)),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
        except OSError:
            return
        for old in packs[self.max_packs :]:
            if not old.name.startswith(".tmp-"):
                old.unlink(missing_ok=True)


def _blob_key(entry: TreeEntry) -> str:
    """The blob SHA, and how it is parsed (the same bytes as ``.json`` parse differently)."""
    return entry.sha + (":j" if entry.path.lower().endswith(".json") else ":y")

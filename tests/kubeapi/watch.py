"""Watch streams: a chunked JSON-lines answer of ADDED/MODIFIED/DELETED/BOOKMARK events.

As kube-apiserver does: without a resourceVersion (or with ``0``) the stream starts
with an ADDED event per current object; a resourceVersion from before the last
compaction answers 200 and a single ERROR event carrying a 410 ``Status``; the
stream ends after ``timeoutSeconds``.  Bookmarks (when allowed) are sent after
``bookmark_interval`` seconds without events.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .handlers import _with_version, status_body
from .recordings import TypeDef
from .store import Stored, _dumps

if TYPE_CHECKING:
    from .handlers import ResourceHandler


def _line(kind: str, obj: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj + b"}\n"


def serve_watch(handler: ResourceHandler, td: TypeDef, version: str, namespace: str | None) -> None:
    """Stream events until the timeout, the server stopping or the client leaving."""
    matchers = handler.matchers()
    if matchers is None:
        return
    labels, fields = matchers
    api, store, http, query = handler.api, handler.store, handler.http, handler.query
    try:
        timeout = float(query.get("timeoutSeconds") or api.max_watch_seconds)
    except ValueError:
        timeout = api.max_watch_seconds
    deadline = time.monotonic() + min(timeout, api.max_watch_seconds)
    bookmarks = query.get("allowWatchBookmarks") in ("1", "true", "True")
    typeid = (td.group, td.plural)
    custom = store.is_custom(typeid)
    api_version = f"{td.group}/{version}" if td.group else version

    def wanted(key: tuple[str, str], stored: Stored) -> bool:
        if namespace is not None and key[0] != namespace:
            return False
        if labels and not labels(stored.labels):
            return False
        return not (fields and not fields(stored.meta))

    requested = query.get("resourceVersion") or ""
    lines: list[bytes] = []
    with store.lock:
        if requested not in ("", "0"):
            try:
                since = int(requested)
            except ValueError:
                http.send_status(400, "BadRequest", f"invalid resource version: {requested}")
                return
            if since < store.compacted:
                http.start_chunked()
                message = f"too old resource version: {since} ({store.compacted})"
                http.send_chunk(_line("ERROR", status_body(410, "Expired", message)))
                http.send_chunk(b"")
                return
        else:
            since = store.resource_version
            bucket = store.bucket(typeid)
            for key in bucket.keys if bucket else []:
                stored = bucket.objects[key] if bucket else None
                if stored is not None and wanted(key, stored):
                    lines.append(
                        _line("ADDED", _with_version(stored, td, version, full=True, custom=custom))
                    )
    http.start_chunked()
    for line in lines:
        http.send_chunk(line)
    last_sent = time.monotonic()
    while not api.stopping.is_set():
        now = time.monotonic()
        if now >= deadline:
            break
        batch: list[bytes] = []
        with store.changed:
            bucket = store.bucket(typeid)
            events = [e for e in (bucket.events if bucket else []) if e.rv > since]
            if not events:
                wait = min(deadline - now, api.bookmark_interval if bookmarks else deadline - now)
                store.changed.wait(timeout=max(0.01, wait))
                bucket = store.bucket(typeid)
                events = [e for e in (bucket.events if bucket else []) if e.rv > since]
            for event in events:
                since = max(since, event.rv)
                if wanted(event.key, event.stored):
                    batch.append(
                        _line(
                            event.type,
                            _with_version(event.stored, td, version, full=True, custom=custom),
                        )
                    )
            current = store.resource_version
        for line in batch:
            http.send_chunk(line)
        if batch:
            last_sent = time.monotonic()
        elif bookmarks and time.monotonic() - last_sent >= api.bookmark_interval:
            mark: dict[str, Any] = {
                "apiVersion": api_version,
                "kind": td.kind,
                "metadata": {"resourceVersion": str(current)},
            }
            http.send_chunk(_line("BOOKMARK", _dumps(mark)))
            since = max(since, current)
            last_sent = time.monotonic()
    http.send_chunk(b"")

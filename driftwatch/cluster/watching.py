"""Watch streams that keep a target's live objects current between full snapshots.

A full snapshot lists every type a target needs and records, per type, the list's
resourceVersion.  Watch mode then opens one watch per *scope* — a type in one
namespace, or across all of them — from that resourceVersion, with
``allowWatchBookmarks`` and a server-side ``timeoutSeconds``, so the cluster tells
driftwatch what changed instead of being listed again.  Only ``get``/``list``/
``watch`` are ever sent, through the same read-only client as a snapshot.

A :class:`ScopeWatch` is one thread per scope.  It hands every object change,
already redacted (Secret values become fingerprints before anything else sees
them) and filtered as a snapshot filters (``keep``), to a :class:`WatchSink`, and
handles the protocol's other cases itself:

* ``BOOKMARK``: the resourceVersion moves on (nothing changed);
* ``ERROR`` with code 410 (or an HTTP 410): the version is too old — the scope is
  listed again (a fresh snapshot of that type and namespace) and the sink is
  given the whole new list, then watching resumes from the new version;
* a dropped connection or another error: resume from the last version seen,
  after an exponential backoff with jitter;
* the server ending the watch at its timeout: resume at once.

:meth:`ScopeWatch.stop` cuts the open stream (so no thread lingers until the
server's timeout) and guarantees the sink is not called afterwards.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from driftwatch.backoff import equal_jitter
from driftwatch.cluster.api_errors import ApiRequestError
from driftwatch.cluster.cache import trimmed
from driftwatch.cluster.client import Query, ReadOnlyClient
from driftwatch.cluster.discovery import collection_path
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.cluster.snapshot import SnapshotRequest, TypeRequest, Wanted, take_snapshot
from driftwatch.errors import ClusterError, truncate
from driftwatch.model import (
    LiveSnapshot,
    Manifest,
    ReadState,
    ResourceKey,
    ResourceType,
    TypeRead,
    key_of,
)

log = logging.getLogger(__name__)

Redact = Callable[[Manifest], Manifest]
OBJECT_EVENTS = frozenset({"ADDED", "MODIFIED", "DELETED"})


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """How watches are kept open."""

    timeout_seconds: int = 300
    """Server-side ``timeoutSeconds`` (randomised up to 1.5x so streams do not end together)."""
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    page_size: int = 500
    """Page size of a re-list after a 410."""


@dataclass(frozen=True, slots=True)
class WatchScope:
    """One watch stream: a resource type in one namespace, or in all (``namespace`` None)."""

    read: TypeRead
    resource: ResourceType
    namespace: str | None

    @property
    def path(self) -> str:
        """The collection URL path the watch is opened on."""
        return collection_path(self.resource, self.namespace)

    def covers(self, key: ResourceKey) -> bool:
        """Whether an object with ``key`` would be seen by this scope."""
        return (
            key.group_kind == self.read.group_kind
            and (self.namespace is None or key.namespace == self.namespace)
            and self.read.covers(key.namespace)
        )

    def display(self) -> str:
        """``Deployment.apps in shop`` for logs."""
        where = f" in {self.namespace}" if self.namespace is not None else ""
        return f"{self.read.group_kind.display()}{where}"


def scopes_of(live: LiveSnapshot) -> list[WatchScope]:
    """The scopes to watch after ``live``: every completely read type with a resourceVersion."""
    scopes: list[WatchScope] = []
    for read in live.types.values():
        resource = read.resource
        if read.state is not ReadState.COMPLETE or resource is None or not read.resource_version:
            continue
        if resource.namespaced and read.namespaces is not None:
            scopes.extend(WatchScope(read, resource, ns) for ns in read.namespaces)
        else:
            scopes.append(WatchScope(read, resource, None))
    return scopes


class WatchSink(Protocol):
    """Where a scope's changes go (the service's per-target watch state)."""

    def changed(
        self, scope: WatchScope, key: ResourceKey, body: Manifest | None, version: str
    ) -> None:
        """``key`` now has ``body`` (redacted), or is gone / no longer needed (None).

        ``version`` is the event's resourceVersion.
        """

    def relisted(
        self, scope: WatchScope, read: TypeRead, objects: dict[ResourceKey, Manifest]
    ) -> None:
        """The scope was listed again (after a 410): ``objects`` replace all it held."""

    def seen(self, scope: WatchScope, event_type: str) -> None:
        """One watch event arrived (``ADDED`` ... ``BOOKMARK``, ``ERROR``), for the metrics."""


class WatchClient(ReadOnlyClient):
    """A ``ReadOnlyClient`` that remembers its open watch stream so another thread can cut it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream: urllib3.BaseHTTPResponse | None = None
        self._stream_lock = threading.Lock()
        self._cut = False
        self.on_open: Callable[[], None] | None = None
        """Called when a watch answered 200 (the stream is open)."""

    def _send(
        self, verb: str, path: str, query: Query | None, timeout: float | tuple[float, float | None]
    ) -> urllib3.BaseHTTPResponse:
        raw = super()._send(verb, path, query, timeout)
        if verb == "watch":
            with self._stream_lock:
                self._stream = raw
                cut = self._cut
            if cut:
                _shutdown(raw)
            elif self.on_open is not None:
                self.on_open()
        return raw

    def cut(self) -> None:
        """End the open watch stream now (its reader sees the stream end or break)."""
        with self._stream_lock:
            self._cut = True
            stream = self._stream
        if stream is not None:
            _shutdown(stream)


def _shutdown(stream: urllib3.BaseHTTPResponse) -> None:
    try:
        stream.shutdown()
    except (ValueError, RuntimeError, OSError, NotImplementedError):
        try:
            stream.close()
        except Exception:  # already closed or released: nothing left to cut
            log.debug("closing a watch stream failed", exc_info=True)


class _GoneError(Exception):
    """The resourceVersion is too old: list the scope again."""


def relist_scope(
    client: ReadOnlyClient,
    scope: WatchScope,
    *,
    keep: Wanted | None,
    redact: Redact,
    page_size: int = 500,
) -> tuple[TypeRead, dict[ResourceKey, Manifest]]:
    """A fresh list of one scope, as a snapshot would read it (redacted, filtered).

    Raises ``ClusterError`` when it cannot be read completely.
    """
    read = scope.read
    namespaces = (scope.namespace,) if scope.namespace is not None else read.namespaces
    request = SnapshotRequest(
        types=(
            TypeRequest(
                read.group_kind, scope.resource.api_version, namespaces, read.label_selector
            ),
        ),
        page_size=page_size,
        concurrency=1,
        openapi=False,
    )
    snapshot = take_snapshot(
        client,
        request,
        wanted=keep,
        hold=lambda body: redact(trimmed(body)),
        retry=RetryPolicy(attempts=3),
    )
    fresh = snapshot.types.get(read.group_kind)
    if fresh is None or fresh.state is not ReadState.COMPLETE or not fresh.resource_version:
        error = fresh.error if fresh is not None else None
        raise ClusterError(f"re-listing {scope.display()} failed: {error or 'not read'}")
    return fresh, snapshot.objects


class ScopeWatch:
    """Watches one scope on its own thread until :meth:`stop`."""

    def __init__(
        self,
        client: WatchClient,
        scope: WatchScope,
        resource_version: str | None,
        sink: WatchSink,
        *,
        keep: Wanted | None,
        redact: Redact,
        settings: WatchSettings = WatchSettings(),
        name: str = "",
    ) -> None:
        self.client = client
        self.scope = scope
        self.sink = sink
        self.keep = keep
        self.redact = redact
        self.settings = settings
        self._rv: str | None = resource_version
        self._healthy = False
        self._stop = threading.Event()
        self._gate = threading.Lock()
        self._counted: Counter[tuple[str, str]] = Counter()
        client.on_open = self._opened
        self._thread = threading.Thread(
            target=self._run, name=f"driftwatch-watch-{name}", daemon=True
        )

    @property
    def resource_version(self) -> str | None:
        """The last resourceVersion seen (None while a re-list is due)."""
        return self._rv

    @property
    def healthy(self) -> bool:
        """True while the stream is open and no error happened since it opened."""
        return self._healthy

    @property
    def alive(self) -> bool:
        """Whether its thread runs (False once it ended, for whatever reason)."""
        return self._thread.is_alive()

    def start(self) -> ScopeWatch:
        """Start watching."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop: cut the stream; once this returns the sink is never called again."""
        with self._gate:
            self._stop.set()
        self.client.cut()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (after :meth:`stop`)."""
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.client.close()

    def request_counts(self) -> Counter[tuple[str, str]]:
        """API requests made since the last call, by (verb, code)."""
        now = self.client.request_counts()
        delta = now - self._counted
        self._counted = now
        return delta

    # ------------------------------------------------------------------ thread

    def _opened(self) -> None:
        self._healthy = True

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # ended for a reason of its own: whoever supervises restarts it
            log.exception("watch of %s ended unexpectedly", self.scope.display())
        finally:
            self._healthy = False

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self._rv is None:
                    self._relist()
                if self._stream():
                    failures = 0
                    continue
                failures += 1  # ended at once with nothing in it: not a timeout
            except _GoneError:
                log.info(
                    "watch of %s: resourceVersion too old, listing again", self.scope.display()
                )
                self._rv = None
                failures = 0
                continue
            except ClusterError as e:
                if self._stop.is_set():
                    break
                if isinstance(e, ApiRequestError) and e.status == 410:
                    self._rv = None
                    continue
                self._healthy = False
                failures += 1
                log.warning(
                    "watch of %s failed (attempt %d), resuming: %s",
                    self.scope.display(),
                    failures,
                    truncate(str(e), 200),
                )
            self._stop.wait(self._backoff(max(failures, 1)))
        self._healthy = False

    def _backoff(self, failures: int) -> float:
        return equal_jitter(failures, self.settings.backoff_base, self.settings.backoff_max)

    def _stream(self) -> bool:
        """One watch request until it ends; True when it delivered anything."""
        timeout = int(self.settings.timeout_seconds * random.uniform(1.0, 1.5))
        query: dict[str, str | int | bool] = {
            "resourceVersion": self._rv or "",
            "allowWatchBookmarks": True,
        }
        if self.scope.read.label_selector:
            query["labelSelector"] = self.scope.read.label_selector
        started = time.monotonic()
        delivered = False
        for event in self.client.watch(self.scope.path, query, timeout_seconds=timeout):
            if self._stop.is_set():
                break
            self._event(event)
            del event  # frees the unredacted object now (the raw line goes at the next event)
            delivered = True
        return delivered or time.monotonic() - started >= 1.0

    def _event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type") or "")
        obj = event.get("object")
        body: Manifest = obj if isinstance(obj, dict) else {}
        with self._gate:
            if self._stop.is_set():
                return
            self.sink.seen(self.scope, kind)
            if kind == "ERROR":
                self._healthy = False
                code = body.get("code")
                if code == 410:
                    raise _GoneError()
                message = truncate(str(body.get("message") or "watch error"), 200)
                raise ApiRequestError(
                    f"watch {self.scope.path}: ERROR {code}: {message}",
                    status=code if isinstance(code, int) else None,
                )
            version = str((body.get("metadata") or {}).get("resourceVersion") or "")
            if kind in OBJECT_EVENTS:
                redacted = self.redact(body)
                del body, obj, event  # not freed yet: _stream's loop drops the last reference
                key = key_of(redacted)
                wanted = kind != "DELETED" and (
                    self.keep is None or self.keep(key, redacted.get("metadata") or {})
                )
                self.sink.changed(self.scope, key, redacted if wanted else None, version)
            if version:
                self._rv = version

    def _relist(self) -> None:
        read, objects = relist_scope(
            self.client,
            self.scope,
            keep=self.keep,
            redact=self.redact,
            page_size=self.settings.page_size,
        )
        with self._gate:
            if self._stop.is_set():
                return
            self.sink.relisted(self.scope, read, objects)
            self._rv = read.resource_version


def stop_all(watches: Iterable[ScopeWatch]) -> None:
    """Stop every watch (cuts streams; the threads end on their own)."""
    for watch in watches:
        watch.stop()

"""Shared watches: one watch per (cluster, type), feeding every watching target of that cluster.

A watch per target and namespace costs targets x types x namespaces connections
and threads; here a :class:`SharedWatch` watches one type across all namespaces
(one per namespace only where the server refused the cluster-wide list: RBAC
decides, as for lists) and keeps its own current copy of that type, held as the
cluster cache holds objects (trimmed, Secret values fingerprinted, never changed
afterwards).  Each watching target is a :class:`Subscription`: it gets the
changes in its namespaces, filtered by its pure ``wanted(key, metadata)``, and
never an event older than the full run it builds on.  A target whose full run
read the type at an older version than the watch has reached gets its slice of
the watch's copy at once (nothing between is missed).

Reconnects, bookmarks and 410 re-lists are the :class:`ScopeWatch`'s, per watch.
A watch whose thread ended for any reason is restarted by :meth:`SharedWatches.check`
with the shared equal-jitter backoff; while it is down, its subscribers see it
unhealthy (mismatch excuses do not apply) and ``driftwatch_watch_up`` is 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from driftwatch.backoff import equal_jitter
from driftwatch.cluster import ClusterCache, TypeRequest
from driftwatch.cluster.connect import api_client_for, connect
from driftwatch.cluster.snapshot import SnapshotRequest
from driftwatch.cluster.watching import (
    Redact,
    ScopeWatch,
    WatchClient,
    WatchScope,
    WatchSettings,
    WatchSink,
)
from driftwatch.config.model import Cluster
from driftwatch.errors import DriftwatchError, truncate
from driftwatch.model import (
    GroupKind,
    Manifest,
    ReadState,
    ResourceKey,
    ResourceType,
    TypeRead,
)
from driftwatch.service.watch_report import Keep, newer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WatchKey:
    """What one shared watch watches."""

    cluster: str
    group_kind: GroupKind
    label_selector: str | None
    namespace: str | None
    """None: across all namespaces (or a cluster-scoped type)."""


@dataclass(frozen=True, slots=True)
class WatchHealth:
    """One watch's health, for ``driftwatch_watch_up`` and ``/readyz``."""

    cluster: str
    group: str
    kind: str
    namespace: str | None
    up: bool
    restarts: int


class Subscription:
    """One target's feed from one shared watch."""

    def __init__(
        self,
        watch: SharedWatch,
        sink: WatchSink,
        scope: WatchScope,
        wanted: Keep,
        floor: str | None,
    ) -> None:
        self.watch = watch
        self.sink = sink
        self.scope = scope
        self.wanted = wanted
        self.floor = floor
        """No event at or before this resourceVersion reaches the target (its full run saw it)."""

    @property
    def healthy(self) -> bool:
        """Whether the shared watch is up now."""
        return self.watch.healthy

    @property
    def resource_version(self) -> str | None:
        """Where the target's view stands: the watch's version, or its own floor if later."""
        current = self.watch.resource_version
        return self.floor if newer(self.floor, current) or current is None else current

    def close(self) -> None:
        """Stop the feed; once this returns the sink is not called again."""
        self.watch.unsubscribe(self)

    def covers(self, key: ResourceKey) -> bool:
        """Whether ``key`` is in the target's namespaces (and this watch's type)."""
        return self.scope.covers(key)

    def slice(self, objects: Mapping[ResourceKey, Manifest]) -> dict[ResourceKey, Manifest]:
        """The objects of ``objects`` this target holds."""
        wanted = self.wanted
        return {
            key: body
            for key, body in objects.items()
            if self.covers(key) and wanted(key, body.get("metadata") or {})
        }


class SharedWatch:
    """One (cluster, type[, namespace]) watch and its current copy of the objects (a WatchSink)."""

    def __init__(
        self,
        key: WatchKey,
        cluster: Cluster,
        resource: ResourceType,
        hold: Redact,
        settings: WatchSettings,
        cache: ClusterCache,
    ) -> None:
        self.key = key
        self.cluster = cluster
        self.cache = cache
        """The cluster cache whose lists of this type a change makes stale (the latest one)."""
        self._unguard = cache.guard(key.group_kind, lambda: self.healthy)
        self.resource = resource
        self.hold = hold
        self.settings = settings
        self.scope = WatchScope(
            TypeRead(
                key.group_kind,
                ReadState.COMPLETE,
                resource,
                (key.namespace,) if key.namespace is not None else None,
                label_selector=key.label_selector,
            ),
            resource,
            key.namespace,
        )
        self._lock = threading.RLock()
        self._objects: dict[ResourceKey, Manifest] = {}
        self._rv: str | None = None
        self._subs: list[Subscription] = []
        self._watch: ScopeWatch | None = None
        self._counted: Counter[tuple[str, str]] = Counter()
        self._stopped = False
        self.restarts = 0
        self._failures = 0
        self._retry_at = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self, objects: dict[ResourceKey, Manifest], version: str | None) -> SharedWatch:
        """Watch from ``version`` with ``objects`` as the current copy (None: list first)."""
        with self._lock:
            self._objects, self._rv = dict(objects), version
        self._spawn()
        return self

    def _spawn(self) -> None:
        try:
            client = WatchClient(api_client_for(self.cluster), timeout=self.cluster.timeout)
        except DriftwatchError as e:
            log.error("cannot watch %s: %s", self.scope.display(), truncate(str(e)))
            return
        with self._lock:
            if self._stopped:
                client.close()
                return
            old = self._watch
            if old is not None:
                self._counted.update(old.request_counts())
            self._watch = ScopeWatch(
                client,
                self.scope,
                self._rv,
                self,
                keep=None,
                redact=self.hold,
                settings=self.settings,
                name=f"{self.key.cluster}-{self.key.group_kind.kind}",
            ).start()

    def use_cache(self, cache: ClusterCache) -> None:
        """Keep ``cache`` (a reloaded configuration's) current instead of the earlier one."""
        if cache is self.cache:
            return
        self._unguard()
        self.cache = cache
        self._unguard = cache.guard(self.key.group_kind, lambda: self.healthy)

    def stop(self) -> None:
        """Stop watching for good."""
        self._unguard()
        with self._lock:
            self._stopped = True
            watch, self._watch = self._watch, None
            self._subs.clear()
        if watch is not None:
            watch.stop()

    @property
    def alive(self) -> bool:
        """Whether its thread runs (it may still be reconnecting)."""
        watch = self._watch
        return watch is not None and watch.alive

    @property
    def healthy(self) -> bool:
        """Whether the stream is open and its thread alive."""
        watch = self._watch
        return watch is not None and watch.alive and watch.healthy

    @property
    def resource_version(self) -> str | None:
        """The last version the watch saw (None while a re-list is due)."""
        watch = self._watch
        return watch.resource_version if watch is not None else self._rv

    def check(self, now: float) -> bool:
        """Restart the thread if it ended (with backoff); True when restarted now."""
        if self._stopped or self.alive:
            if self.healthy:
                self._failures = 0
            return False
        if now < self._retry_at:
            return False
        self._failures += 1
        self._retry_at = now + equal_jitter(
            self._failures, self.settings.backoff_base, self.settings.backoff_max
        )
        with self._lock:
            watch = self._watch
            if watch is not None:
                self._rv = watch.resource_version
        log.warning(
            "watch of %s on %s ended; restarting (restart %d)",
            self.scope.display(),
            self.key.cluster,
            self.restarts + 1,
        )
        self.restarts += 1
        self._spawn()
        return True

    def request_counts(self) -> Counter[tuple[str, str]]:
        """API requests made since the last call, by (verb, code)."""
        with self._lock:
            counted, self._counted = self._counted, Counter()
            watch = self._watch
        if watch is not None:
            counted.update(watch.request_counts())
        return counted

    # ------------------------------------------------------------------ subscribers

    def subscribe(
        self, sink: WatchSink, read: TypeRead, wanted: Keep, namespace: str | None
    ) -> Subscription:
        """Feed ``sink`` from now on; it built on ``read`` (its full run's read of the type)."""
        scope = WatchScope(read, self.resource, namespace)
        sub = Subscription(self, sink, scope, wanted, read.resource_version)
        with self._lock:
            current = self._rv if self._watch is None else self._watch.resource_version
            if current is not None and current != sub.floor and not newer(sub.floor, current):
                # the watch is ahead of the target's list: hand it the current copy now
                sub.floor = current
                caught_up = replace(read, resource_version=current)
                sink.relisted(scope, caught_up, sub.slice(self._objects))
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop feeding ``sub``."""
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscribers(self) -> int:
        """How many targets it feeds."""
        with self._lock:
            return len(self._subs)

    # ------------------------------------------------------------------ WatchSink

    def changed(
        self, scope: WatchScope, key: ResourceKey, body: Manifest | None, version: str
    ) -> None:
        """Keep the copy current and pass the change to every target it concerns."""
        self.cache.changed(self.key.group_kind)
        with self._lock:
            if body is None:
                self._objects.pop(key, None)
            else:
                self._objects[key] = body
            for sub in self._subs:
                if not sub.covers(key) or _not_after(version, sub.floor):
                    continue
                wanted = body is not None and sub.wanted(key, body.get("metadata") or {})
                sub.sink.changed(sub.scope, key, body if wanted else None, version)

    def relisted(
        self, scope: WatchScope, read: TypeRead, objects: dict[ResourceKey, Manifest]
    ) -> None:
        """The type was listed again (410): every target gets its slice of the new list."""
        self.cache.changed(self.key.group_kind)
        with self._lock:
            self._objects = dict(objects)
            for sub in self._subs:
                sub.floor = read.resource_version
                sub.sink.relisted(
                    sub.scope,
                    replace(sub.scope.read, resource_version=read.resource_version),
                    sub.slice(objects),
                )

    def seen(self, scope: WatchScope, event_type: str) -> None:
        """Count the event once per target it feeds."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.sink.seen(sub.scope, event_type)


class SharedWatches:
    """Every shared watch of the service, with a supervisor that restarts dead ones."""

    def __init__(self, settings: WatchSettings, *, check_interval: float = 0.5) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._watches: dict[WatchKey, SharedWatch] = {}
        self._closed = threading.Event()
        self._interval = check_interval
        self._thread = threading.Thread(
            target=self._supervise, name="driftwatch-watch-supervisor", daemon=True
        )
        self._thread.start()

    def subscribe(
        self,
        cluster: Cluster,
        cache: ClusterCache,
        read: TypeRead,
        sink: WatchSink,
        wanted: Keep,
        hold: Redact,
    ) -> list[Subscription]:
        """Feed ``sink`` with the changes of one completely read type (one or more watches)."""
        resource = read.resource
        if resource is None or read.state is not ReadState.COMPLETE or not read.resource_version:
            return []
        selector = read.label_selector
        if resource.namespaced and read.namespaces is not None and cache.refused(
            read.group_kind, selector
        ):
            places: list[str | None] = list(read.namespaces)  # namespaced RBAC
        else:
            places = [None]
        subs = []
        for namespace in places:
            key = WatchKey(cluster.name, read.group_kind, selector, namespace)
            watch = self._watch(key, cluster, cache, resource, hold)
            subs.append(watch.subscribe(sink, read, wanted, namespace))
        return subs

    def _watch(
        self,
        key: WatchKey,
        cluster: Cluster,
        cache: ClusterCache,
        resource: ResourceType,
        hold: Redact,
    ) -> SharedWatch:
        with self._lock:
            watch = self._watches.get(key)
            if watch is not None and watch.resource == resource and watch.cluster == cluster:
                watch.use_cache(cache)
                return watch
            if watch is not None:
                watch.stop()
            objects, version = _initial(cluster, cache, key, resource)  # before it guards
            watch = SharedWatch(key, cluster, resource, hold, self.settings, cache)
            self._watches[key] = watch.start(objects, version)
            return watch

    def prune(self, clusters: Iterable[str] | None = None) -> None:
        """Stop watches nobody subscribes to (or whose cluster is no longer configured)."""
        keep = set(clusters) if clusters is not None else None
        with self._lock:
            for key, watch in list(self._watches.items()):
                if watch.subscribers == 0 or (keep is not None and key.cluster not in keep):
                    watch.stop()
                    del self._watches[key]

    def health(self) -> list[WatchHealth]:
        """Each watch's health, sorted."""
        with self._lock:
            watches = list(self._watches.values())
        out = [
            WatchHealth(
                w.key.cluster,
                w.key.group_kind.group,
                w.key.group_kind.kind,
                w.key.namespace,
                w.healthy,
                w.restarts,
            )
            for w in watches
        ]
        return sorted(out, key=lambda h: (h.cluster, h.group, h.kind, h.namespace or ""))

    def watches(self) -> list[SharedWatch]:
        """The shared watches now."""
        with self._lock:
            return list(self._watches.values())

    def request_counts(self) -> Counter[tuple[str, str]]:
        """Watch requests made since the last call, over every watch."""
        total: Counter[tuple[str, str]] = Counter()
        for watch in self.watches():
            total.update(watch.request_counts())
        return total

    def check(self) -> None:
        """Restart every watch whose thread ended (each on its own backoff)."""
        now = time.monotonic()
        for watch in self.watches():
            try:
                watch.check(now)
            except Exception:  # the supervisor must outlive any one watch
                log.exception("restarting a watch failed")

    def _supervise(self) -> None:
        while not self._closed.wait(self._interval):
            self.check()

    def close(self) -> None:
        """Stop every watch and the supervisor."""
        self._closed.set()
        with self._lock:
            watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            watch.stop()


def _not_after(version: str, floor: str | None) -> bool:
    """Whether an event at ``version`` is known to be at or before ``floor`` (decimal only)."""
    if not floor or not version or not (version.isdigit() and floor.isdigit()):
        return False
    return int(version) <= int(floor)


def _initial(
    cluster: Cluster, cache: ClusterCache, key: WatchKey, resource: ResourceType
) -> tuple[dict[ResourceKey, Manifest], str | None]:
    """The watch's first copy, from the cluster cache (reused when the full run just listed it)."""
    request = SnapshotRequest(
        types=(
            TypeRequest(
                key.group_kind,
                resource.api_version,
                (key.namespace,) if key.namespace is not None else None,
                key.label_selector,
            ),
        ),
        openapi=False,
        page_size=cluster.page_size,
    )
    try:
        with connect(cluster) as client:
            snapshot = cache.read(client, request)
    except DriftwatchError as e:
        log.warning("watch of %s starts by listing: %s", key.group_kind.display(), truncate(str(e)))
        return {}, None
    read = snapshot.types.get(key.group_kind)
    if read is None or read.state is not ReadState.COMPLETE or not read.resource_version:
        return {}, None
    return snapshot.objects, read.resource_version


def health_rows(health: Iterable[WatchHealth]) -> list[dict[str, Any]]:
    """``/readyz`` detail: one row per watch."""
    return [
        {
            "cluster": h.cluster,
            "group": h.group,
            "kind": h.kind,
            **({"namespace": h.namespace} if h.namespace is not None else {}),
            "up": h.up,
            "restarts": h.restarts,
        }
        for h in health
    ]


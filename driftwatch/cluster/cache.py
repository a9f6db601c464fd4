"""One cache per cluster: each type listed once per refresh, every target reading its slice.

A platform team points driftwatch at one cluster with hundreds of targets.
Listing each target's types for each target costs targets x types requests;
this cache makes it about *types*:

* **What is listed.** A list is keyed by (type, served version, label selector,
  namespace): namespaced types are listed across all namespaces, and a type
  whose cluster-wide list the server refused (401/403, namespaced RBAC) is listed
  one namespace at a time — decided from that answer, remembered for
  ``forbidden_retry`` seconds, then tried again (RBAC may have been granted).
* **Reuse.** A list younger than ``max_age`` seconds is reused by any read,
  whatever asked for it: a scheduled run, a Git-poll run or ``POST
  /api/v1/refresh`` — unless a watch saw that type change since (:meth:`changed`),
  or a watch of that type is down (:meth:`guard`: what nobody watches may have
  changed unseen, so the next run lists it again: the safety net holds).
  Reads that want a list being made right now wait for it
  (single flight) instead of listing it again.  With ``max_age`` 0 nothing is
  reused, but concurrent reads still share a list in flight.  Failures are
  reused too: a type that failed is unknown for every target needing it in that
  refresh, and a failing apiserver is not asked once per target.
* **What is held.** ``hold`` turns each listed object into the body the cache
  keeps (the pipeline trims ``status`` and status-subresource managedFields and
  fingerprints Secret values, so nothing unredacted is held).  Held bodies are
  shared by every reader and never changed: a reader that wants a smaller or
  different body builds a new one (its page consumer).  With ``retain`` off
  (one target per cluster) no list is kept after the read that made it.
* **Each reader's slice.** Its namespaces, then its pure ``wanted(key,
  metadata)`` filter, then its page consumer, called as pages arrive for a list
  made for it and all at once for a reused one.

Discovery, the server version and OpenAPI documents are refreshed on the same
``max_age``; the server version is asked whenever anything is listed, so an
unreachable cluster still fails the run (``ClusterError``).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftwatch.cluster.api_errors import ApiRequestError
from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.discovery import Discovery, DiscoveryError, collection_path
from driftwatch.cluster.openapi import cached_openapi
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.cluster.snapshot import (
    Consume,
    Hold,
    OpenAPIReady,
    SnapshotRequest,
    TypeRequest,
    Wanted,
    merge_requests,
)
from driftwatch.errors import ClusterError, truncate
from driftwatch.gcpause import paused_gc
from driftwatch.model import (
    GroupKind,
    LiveSnapshot,
    Manifest,
    ReadState,
    ResourceKey,
    ResourceType,
    TypeRead,
    key_of,
)

FORBIDDEN_RETRY = 600.0
"""Seconds a refused cluster-wide list stays refused before it is tried again."""

Take = Callable[[ResourceKey, Manifest], None]


def trimmed(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without what no comparison or attribution reads.

    Changed in place: call it only on a body nobody else holds yet (a freshly
    parsed page item).
    """
    body.pop("status", None)
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        entries = metadata.get("managedFields")
        if isinstance(entries, list) and entries:
            metadata["managedFields"] = [
                e for e in entries if not (isinstance(e, dict) and e.get("subresource") == "status")
            ]
    return body


def identity_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """A new body holding only what says the object exists (apiVersion, kind, name, namespace)."""
    metadata = body.get("metadata") or {}
    kept = {k: metadata[k] for k in ("name", "namespace") if k in metadata}
    return {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": kept}


@dataclass(frozen=True, slots=True)
class ListKey:
    """One list the cache makes: a type at a served version, a selector, a namespace or all."""

    group_kind: GroupKind
    api_version: str
    label_selector: str | None
    namespace: str | None
    """None: across all namespaces (or a cluster-scoped type)."""


@dataclass(slots=True)
class Listed:
    """The outcome of one list: held objects (when retained), or why it failed."""

    key: ListKey
    complete: bool
    objects: dict[ResourceKey, Manifest] | None
    resource_version: str | None = None
    error: str | None = None
    forbidden: bool = False
    at: float = 0.0
    """``time.monotonic()`` when the list ended."""
    wall: float = 0.0
    """Unix time when the list ended."""
    _by_namespace: dict[str, list[ResourceKey]] | None = None

    def keys_in(self, namespaces: frozenset[str]) -> list[ResourceKey]:
        """The held keys in ``namespaces``.

        The index is built on first use, so a reader of a few namespaces does not
        walk the whole cluster's list.
        """
        index = self._by_namespace
        if index is None:
            index = {}
            for key in self.objects or {}:
                index.setdefault(key.namespace, []).append(key)
            self._by_namespace = index
        return [key for ns in sorted(namespaces) for key in index.get(ns, ())]


@dataclass(slots=True)
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    result: Listed | None = None


@dataclass(slots=True)
class _Session:
    at: float
    server_version: str | None
    discovery: Discovery
    resolved: dict[tuple[GroupKind, str | None], ResourceType | DiscoveryError | None] = field(
        default_factory=dict
    )


class ClusterCache:
    """Lists of one cluster, shared by every read within ``max_age`` (thread-safe)."""

    def __init__(
        self,
        *,
        max_age: float = 0.0,
        retain: bool = False,
        hold: Hold | None = None,
        retry: RetryPolicy | None = None,
        wide_for_one_namespace: bool = True,
        forbidden_retry: float = FORBIDDEN_RETRY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.retain = retain
        self.hold: Hold = hold or (lambda body: body)
        self.retry = retry or RetryPolicy()
        self.wide_for_one_namespace = wide_for_one_namespace
        """False: a type wanted in one namespace only is listed there (no reuse to win)."""
        self.forbidden_retry = forbidden_retry
        self._clock = clock
        self._lock = threading.Lock()
        self._lists: dict[ListKey, Listed] = {}
        self._flights: dict[ListKey, _Flight] = {}
        self._refused: dict[tuple[GroupKind, str | None], float] = {}
        self._guards: dict[GroupKind, list[Callable[[], bool]]] = {}
        self._session: _Session | None = None
        self._session_lock = threading.Lock()
        self._openapi: dict[str, Any] = {}
        self._openapi_server: str | None = None
        self.lists_made = 0
        """Lists made (for tests and the benchmark)."""

    # ------------------------------------------------------------------ reading

    def read(
        self,
        client: ReadOnlyClient,
        request: SnapshotRequest,
        *,
        wanted: Wanted | None = None,
        consume: Consume | None = None,
        max_age: float | None = None,
        openapi_ready: OpenAPIReady | None = None,
    ) -> LiveSnapshot:
        """The snapshot ``request`` asks for, from lists younger than the max age or made now.

        ``max_age`` (seconds) can only narrow the cache's own.  The OpenAPI documents
        are read (cached per server version) before any list starts and handed to
        ``openapi_ready``.  Raises ``ClusterError`` only when the cluster cannot be
        reached at all.
        """
        age = self.max_age if max_age is None else min(max_age, self.max_age)
        resolved = self._resolve(client, request, age)
        snapshot = LiveSnapshot(server_version=resolved[0])
        reader = _Reader(self, client, request, age, wanted, consume)
        resources: list[ResourceType] = []
        with (
            paused_gc(),
            ThreadPoolExecutor(
                max_workers=max(1, request.concurrency), thread_name_prefix="driftwatch-list"
            ) as pool,
        ):
            futures: dict[GroupKind, Future[tuple[TypeRead, dict[ResourceKey, Manifest]]]] = {}
            listed: list[tuple[GroupKind, TypeRequest, ResourceType]] = []
            for group_kind, (req, outcome) in resolved[1].items():
                if isinstance(outcome, TypeRead):
                    snapshot.types[group_kind] = outcome
                    continue
                resources.append(outcome)
                listed.append((group_kind, req, outcome))
            if request.openapi:
                snapshot.openapi = self._openapi_for(client, resources, snapshot.server_version)
            if openapi_ready is not None:
                openapi_ready(snapshot.openapi)
            for group_kind, req, resource in listed:
                futures[group_kind] = pool.submit(reader.read_type, req, resource)
            for group_kind, future in futures.items():
                read, objects = future.result()
                snapshot.types[group_kind] = read
                snapshot.objects.update(objects)
        oldest = min(reader.walls, default=time.time())
        snapshot.taken_at = datetime.fromtimestamp(oldest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return snapshot

    def held(self) -> dict[ListKey, Listed]:
        """The lists held now (a copy of the index; the bodies are the shared ones)."""
        with self._lock:
            return dict(self._lists)

    def changed(self, group_kind: GroupKind) -> None:
        """Objects of ``group_kind`` changed (a watch saw it): drop its held lists.

        They are no longer current, so the next read lists the type again.
        """
        with self._lock:
            for key in [k for k in self._lists if k.group_kind == group_kind]:
                del self._lists[key]

    def guard(self, group_kind: GroupKind, up: Callable[[], bool]) -> Callable[[], None]:
        """Reuse lists of ``group_kind`` only while ``up()`` (its watch is healthy).

        Returns the function that removes the guard (the watch stopped).
        """
        with self._lock:
            self._guards.setdefault(group_kind, []).append(up)

        def remove() -> None:
            with self._lock:
                guards = self._guards.get(group_kind, [])
                if up in guards:
                    guards.remove(up)

        return remove

    def forget(self) -> None:
        """Drop every held list (the next read lists everything again)."""
        with self._lock:
            self._lists.clear()
            self._session = None

    # ------------------------------------------------------------------ discovery

    def _resolve(
        self, client: ReadOnlyClient, request: SnapshotRequest, age: float
    ) -> tuple[str | None, dict[GroupKind, tuple[TypeRequest, ResourceType | TypeRead]]]:
        out: dict[GroupKind, tuple[TypeRequest, ResourceType | TypeRead]] = {}
        with self._session_lock:
            session = self._session
            now = self._clock()
            if session is None or now - session.at > age or not self.retain:
                session = self._session = self._new_session(client, now)
            else:
                session.discovery.use(client)
            for group_kind, req in merge_requests(request.types).items():
                memo = (group_kind, req.api_version)
                if memo not in session.resolved:
                    try:
                        session.resolved[memo] = session.discovery.resolve(
                            group_kind, req.api_version
                        )
                    except DiscoveryError as e:
                        session.resolved[memo] = e
                found = session.resolved[memo]
                if isinstance(found, DiscoveryError):
                    error = explain(group_kind, "", found)
                    out[group_kind] = (
                        req,
                        TypeRead(group_kind, ReadState.FAILED, None, req.namespaces, error),
                    )
                elif found is None:
                    message = f"the cluster does not serve {group_kind.display()}"
                    out[group_kind] = (
                        req,
                        TypeRead(group_kind, ReadState.NOT_SERVED, None, req.namespaces, message),
                    )
                else:
                    out[group_kind] = (req, found)
            return session.server_version, out

    def _new_session(self, client: ReadOnlyClient, now: float) -> _Session:
        version = server_version(client, self.retry)
        discovery = Discovery(client, self.retry)
        try:
            discovery.groups()
        except DiscoveryError as e:
            raise ClusterError(f"cannot read the API discovery of {client.host}: {e}") from e
        return _Session(now, version, discovery)

    def _openapi_for(
        self, client: ReadOnlyClient, resources: list[ResourceType], version: str | None
    ) -> dict[str, Any]:
        from driftwatch.cluster.discovery import openapi_path

        paths = {openapi_path(r.group, r.version) for r in resources}
        with self._lock:
            if self._openapi_server != version or not self.retain:
                self._openapi, self._openapi_server = {}, version
            held = {p: self._openapi[p] for p in paths if p in self._openapi}
        missing = [r for r in resources if openapi_path(r.group, r.version) not in held]
        if missing:
            fetched = cached_openapi(client, missing, version, self.retry)
            held.update(fetched)
            with self._lock:
                if self._openapi_server == version:
                    self._openapi.update(fetched)
        return held

    # ------------------------------------------------------------------ lists

    def refused(self, group_kind: GroupKind, selector: str | None) -> bool:
        """Whether a cluster-wide list of this type was refused lately (namespaced RBAC)."""
        with self._lock:
            when = self._refused.get((group_kind, selector))
        return when is not None and self._clock() - when < self.forbidden_retry

    def list_once(
        self,
        key: ListKey,
        age: float,
        make: Callable[[Take], Listed],
        take: Take,
        namespaces: frozenset[str] | None = None,
    ) -> Listed:
        """The list ``key``: reused when younger than ``age``, joined when in flight, else made.

        ``take`` gets every object of the list (held bodies), as pages arrive when
        made here; from a held list, only those in ``namespaces`` when given.
        """
        while True:
            with self._lock:
                held = self._lists.get(key)
                guards = self._guards.get(key.group_kind, ())
                if (
                    held is not None
                    and self._clock() - held.at <= age
                    and all(up() for up in guards)
                ):
                    flight = None
                    mine = False
                else:
                    held = None
                    flight = self._flights.get(key) if self.retain else None
                    mine = flight is None
                    if mine and self.retain:
                        flight = self._flights[key] = _Flight()
            if held is not None:
                _deliver(held, take, namespaces)
                return held
            if not mine and flight is not None:
                flight.done.wait()
                if flight.result is not None and flight.result.objects is not None:
                    _deliver(flight.result, take, namespaces)
                    return flight.result
                if flight.result is not None and not flight.result.complete:
                    return flight.result
                continue
            result: Listed | None = None
            try:
                result = make(take)
                return result
            finally:
                with self._lock:
                    self.lists_made += 1
                    if result is not None and self.retain and self.max_age > 0:
                        self._lists[key] = result  # (max age 0: shared only while in flight)
                    if result is not None and result.forbidden and key.namespace is None:
                        self._refused[(key.group_kind, key.label_selector)] = self._clock()
                    if flight is not None:
                        flight.result = result
                        self._flights.pop(key, None)
                if flight is not None:
                    flight.done.set()


def _deliver(listed: Listed, take: Take, namespaces: frozenset[str] | None) -> None:
    objects = listed.objects or {}
    if namespaces is None:
        for key, body in objects.items():
            take(key, body)
        return
    with _INDEX_LOCK:
        keys = listed.keys_in(namespaces)
    for key in keys:
        take(key, objects[key])


_INDEX_LOCK = threading.Lock()


class _Reader:
    """One read of a ``ClusterCache``: lists what it must, selects the reader's slice."""

    def __init__(
        self,
        cache: ClusterCache,
        client: ReadOnlyClient,
        request: SnapshotRequest,
        age: float,
        wanted: Wanted | None,
        consume: Consume | None,
    ) -> None:
        self.cache = cache
        self.client = client
        self.request = request
        self.age = age
        self.wanted = wanted
        self.consume = consume
        self.walls: list[float] = []
        self._lock = threading.Lock()

    def read_type(
        self, req: TypeRequest, resource: ResourceType
    ) -> tuple[TypeRead, dict[ResourceKey, Manifest]]:
        """The reader's slice of one type, and whether it is complete."""
        namespaces = req.namespaces if resource.namespaced else None
        selector = req.label_selector
        group_kind = req.group_kind
        scopes: list[str | None]
        if namespaces is None:
            scopes = [None]
        elif (
            len(namespaces) > 1 or self.cache.wide_for_one_namespace
        ) and not self.cache.refused(group_kind, selector):
            scopes = [None]
        else:
            scopes = list(namespaces)
        objects: dict[ResourceKey, Manifest] = {}
        versions: list[str] = []
        while scopes:
            namespace = scopes.pop(0)
            listed, found = self._scope(req, resource, namespace, namespaces)
            if listed.forbidden and namespace is None and namespaces is not None:
                scopes = list(namespaces)  # namespaced RBAC: one namespace at a time
                continue
            if not listed.complete:
                return TypeRead(
                    group_kind, ReadState.FAILED, resource, namespaces, listed.error
                ), {}
            objects.update(found)
            versions.append(listed.resource_version or "")
        return TypeRead(
            group_kind,
            ReadState.COMPLETE,
            resource,
            namespaces,
            resource_version=_lowest(versions),
            label_selector=selector,
        ), objects

    def _scope(
        self,
        req: TypeRequest,
        resource: ResourceType,
        namespace: str | None,
        namespaces: tuple[str, ...] | None,
    ) -> tuple[Listed, dict[ResourceKey, Manifest]]:
        inside = frozenset(namespaces) if namespaces is not None and namespace is None else None
        wanted, consume = self.wanted, self.consume
        found: dict[ResourceKey, Manifest] = {}

        def take(key: ResourceKey, body: Manifest) -> None:
            if inside is not None and key.namespace not in inside:
                return
            if wanted is not None and not wanted(key, body.get("metadata") or {}):
                return
            found[key] = consume(key, body) if consume is not None else body

        key = ListKey(req.group_kind, resource.api_version, req.label_selector, namespace)
        make = functools.partial(self._make, req, resource, namespace, key, found)
        listed = self.cache.list_once(key, self.age, make, take, inside)
        with self._lock:
            self.walls.append(listed.wall)
        return listed, found

    def _make(
        self,
        req: TypeRequest,
        resource: ResourceType,
        namespace: str | None,
        key: ListKey,
        found: dict[ResourceKey, Manifest],
        take: Take,
    ) -> Listed:
        """List ``key`` now, page by page, handing each object to ``take`` as it arrives."""
        cache = self.cache
        held: dict[ResourceKey, Manifest] | None = {} if cache.retain else None
        hold = cache.hold
        if namespace is not None:
            where = f" in namespace {namespace}"
        elif resource.namespaced and req.namespaces is not None:
            where = " across namespaces"
        else:
            where = ""

        def item(obj_key: ResourceKey, body: Manifest) -> None:
            kept = hold(body)
            if held is not None:
                held[obj_key] = kept
            take(obj_key, kept)

        def restart() -> None:
            found.clear()
            if held is not None:
                held.clear()

        try:
            version = list_scope(
                self.client, cache.retry, self.request, req, resource, namespace, item, restart
            )
        except ApiRequestError as e:
            found.clear()
            return self._failed(key, explain(req.group_kind, where, e), e.status in (401, 403))
        except ClusterError as e:
            found.clear()
            error = truncate(f"reading {req.group_kind.display()}{where} failed: {e}", 300)
            return self._failed(key, error, False)
        return Listed(key, True, held, version, at=cache._clock(), wall=time.time())

    def _failed(self, key: ListKey, error: str, forbidden: bool) -> Listed:
        return Listed(
            key, False, None, None, error, forbidden, at=self.cache._clock(), wall=time.time()
        )


def list_scope(
    client: ReadOnlyClient,
    retry: RetryPolicy,
    request: SnapshotRequest,
    req: TypeRequest,
    resource: ResourceType,
    namespace: str | None,
    item: Take,
    restart: Callable[[], None],
) -> str:
    """List one collection completely, page by page; its resourceVersion.

    Each object goes to ``item`` as its page arrives; ``restart`` is called when
    an expired continue token (410) makes the list start over.
    """
    path = collection_path(resource, namespace)
    restarts = 0
    while True:
        token: str | None = None
        try:
            while True:
                query: dict[str, str | int | bool] = {"limit": request.page_size}
                if token:
                    query["continue"] = token
                if req.label_selector:
                    query["labelSelector"] = req.label_selector
                page = retry.call(functools.partial(client.list, path, query))
                _take_page(page, resource, item)
                meta = page.get("metadata") or {}
                token = meta.get("continue") or None
                if not token:
                    return str(meta.get("resourceVersion") or "")
        except ApiRequestError as e:
            if e.status != 410 or not token or restarts >= request.max_list_restarts:
                raise
            restarts += 1
            restart()


def _take_page(page: dict[str, Any], resource: ResourceType, item: Take) -> None:
    api_version = str(page.get("apiVersion") or resource.api_version)
    kind = str(page.get("kind") or "").removesuffix("List") or resource.kind
    for obj in page.get("items") or ():
        if "apiVersion" not in obj or "kind" not in obj:
            obj = {"apiVersion": api_version, "kind": kind, **obj}
        item(key_of(obj), obj)


def _lowest(versions: list[str]) -> str | None:
    versions = [v for v in versions if v]
    if not versions:
        return None
    if all(v.isdigit() for v in versions):
        return min(versions, key=int)
    return versions[0]


def explain(group_kind: GroupKind, where: str, error: ApiRequestError) -> str:
    """Why reading a type failed, for people (attempts, and what to do about a 403)."""
    tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
    if error.status == 403:
        hint = " (the identity may not list it: grant get/list/watch)"
    elif error.status == 410:
        hint = " (the list kept expiring; restarted too often)"
    else:
        hint = ""
    detail = str(error).split(": ", 1)[-1]
    return truncate(f"reading {group_kind.display()}{where} failed{tries}: {detail}{hint}", 300)


def server_version(client: ReadOnlyClient, retry: RetryPolicy) -> str | None:
    """The server's ``gitVersion``; ``ClusterError`` when the cluster gives no answer at all."""
    try:
        version = retry.call(lambda: client.get("/version"))
    except ApiRequestError as e:
        if e.status is None or e.status >= 500:
            raise ClusterError(
                f"cannot reach the cluster at {client.host}: {str(e).split(': ', 1)[-1]}"
            ) from e
        return None
    return str(version.get("gitVersion") or "") or None

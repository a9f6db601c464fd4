"""Reading what the cluster holds: one ``LiveSnapshot`` per run.

Each requested type is resolved through discovery, then listed page by page
(``limit`` = page size, ``continue``), in every requested namespace or across
all of them, by a small thread pool.  Pages are filtered through ``keep`` as
they arrive, so memory holds only what the comparison needs.  A continue token
that expired (410) restarts that list from scratch, a bounded number of times;
429, 5xx, timeouts and broken connections are retried with backoff.

Per type the outcome is recorded as a ``TypeRead``: COMPLETE (with the list's
resourceVersion), FAILED (its objects are unknown, never missing) or NOT_SERVED.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftwatch.cluster.api_errors import ApiRequestError
from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.discovery import Discovery, DiscoveryError, collection_path
from driftwatch.cluster.openapi import cached_openapi
from driftwatch.cluster.retry import RetryPolicy
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

Keep = Callable[[ResourceKey, Manifest], bool]
OpenAPIReady = Callable[[dict[str, Any]], None]
"""Called with the snapshot's OpenAPI documents before the first list starts."""


@dataclass(frozen=True, slots=True)
class TypeRequest:
    """One type to read."""

    group_kind: GroupKind
    api_version: str | None = None
    """The apiVersion the manifests declare (used when served); None: the preferred one."""
    namespaces: tuple[str, ...] | None = None
    """Namespaces to list; None: all (cluster-scoped kinds are always listed whole)."""
    label_selector: str | None = None
    """Only for kinds scanned solely for unmanaged objects (the ownership marker)."""


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """Everything one snapshot reads, and how."""

    types: tuple[TypeRequest, ...]
    page_size: int = 500
    concurrency: int = 4
    openapi: bool = True
    """Fetch the OpenAPI v3 documents of the group-versions read (best-effort)."""
    max_list_restarts: int = 3
    """How often one list may start over after its continue token expired (410)."""


def merge_requests(types: Iterable[TypeRequest]) -> dict[GroupKind, TypeRequest]:
    """One request per kind: namespaces united (None wins), a selector only if all had one."""
    merged: dict[GroupKind, TypeRequest] = {}
    for req in types:
        old = merged.get(req.group_kind)
        if old is None:
            merged[req.group_kind] = req
            continue
        if old.namespaces is None or req.namespaces is None:
            namespaces = None
        else:
            namespaces = tuple(sorted(set(old.namespaces) | set(req.namespaces)))
        selector = old.label_selector if old.label_selector == req.label_selector else None
        merged[req.group_kind] = TypeRequest(
            req.group_kind, old.api_version or req.api_version, namespaces, selector
        )
    return merged


CLUSTER_WIDE_AFTER = 4
"""Read a type across all namespaces (then keep the target's) when it spans more than this."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _TypeReader:
    """Lists one type completely, or says why it could not."""

    def __init__(
        self,
        client: ReadOnlyClient,
        request: SnapshotRequest,
        retry: RetryPolicy,
        keep: Keep | None,
    ) -> None:
        self.client = client
        self.request = request
        self.retry = retry
        self.keep = keep

    def read(
        self, req: TypeRequest, resource: ResourceType
    ) -> tuple[TypeRead, dict[ResourceKey, Manifest]]:
        namespaces = req.namespaces if resource.namespaced else None
        if namespaces is not None and len(namespaces) > CLUSTER_WIDE_AFTER:
            wide = self._read_cluster_wide(req, resource, namespaces)
            if wide is not None:
                return wide
        scopes: list[str | None] = list(namespaces) if namespaces is not None else [None]
        objects: dict[ResourceKey, Manifest] = {}
        versions: list[str] = []
        for namespace in scopes:
            where = f" in namespace {namespace}" if namespace is not None else ""
            try:
                found, version = self._list_scope(req, resource, namespace)
            except ApiRequestError as e:
                error = _explain(req.group_kind, where, e)
                return TypeRead(req.group_kind, ReadState.FAILED, resource, namespaces, error), {}
            except ClusterError as e:
                error = truncate(f"reading {req.group_kind.display()}{where} failed: {e}", 300)
                return TypeRead(req.group_kind, ReadState.FAILED, resource, namespaces, error), {}
            objects.update(found)
            versions.append(version)
        return TypeRead(
            req.group_kind,
            ReadState.COMPLETE,
            resource,
            namespaces,
            resource_version=_lowest(versions),
            label_selector=req.label_selector,
        ), objects

    def _read_cluster_wide(
        self, req: TypeRequest, resource: ResourceType, namespaces: tuple[str, ...]
    ) -> tuple[TypeRead, dict[ResourceKey, Manifest]] | None:
        """One list across all namespaces, kept to ``namespaces``; None if RBAC forbids it.

        Many namespaces cost one request each; one cluster-wide list pages through
        the same objects in a few.  Where the identity may only read the listed
        namespaces (namespaced RBAC), the list is refused and they are read one by one.
        """
        try:
            found, version = self._list_scope(req, resource, None)
        except ApiRequestError as e:
            if e.status in (401, 403):
                return None
            error = _explain(req.group_kind, " across namespaces", e)
            return TypeRead(req.group_kind, ReadState.FAILED, resource, namespaces, error), {}
        except ClusterError as e:
            error = truncate(f"reading {req.group_kind.display()} failed: {e}", 300)
            return TypeRead(req.group_kind, ReadState.FAILED, resource, namespaces, error), {}
        wanted = frozenset(namespaces)
        objects = {key: body for key, body in found.items() if key.namespace in wanted}
        read = TypeRead(
            req.group_kind,
            ReadState.COMPLETE,
            resource,
            namespaces,
            resource_version=version,
            label_selector=req.label_selector,
        )
        return read, objects

    def _list_scope(
        self, req: TypeRequest, resource: ResourceType, namespace: str | None
    ) -> tuple[dict[ResourceKey, Manifest], str]:
        path = collection_path(resource, namespace)
        restarts = 0
        while True:
            found: dict[ResourceKey, Manifest] = {}
            token: str | None = None
            try:
                while True:
                    query: dict[str, str | int | bool] = {"limit": self.request.page_size}
                    if token:
                        query["continue"] = token
                    if req.label_selector:
                        query["labelSelector"] = req.label_selector
                    page = self.retry.call(functools.partial(self.client.list, path, query))
                    self._take(page, resource, found)
                    meta = page.get("metadata") or {}
                    token = meta.get("continue") or None
                    if not token:
                        return found, str(meta.get("resourceVersion") or "")
            except ApiRequestError as e:
                if e.status != 410 or not token or restarts >= self.request.max_list_restarts:
                    raise
                restarts += 1

    def _take(
        self, page: dict[str, Any], resource: ResourceType, found: dict[ResourceKey, Manifest]
    ) -> None:
        api_version = str(page.get("apiVersion") or resource.api_version)
        kind = str(page.get("kind") or "").removesuffix("List") or resource.kind
        keep = self.keep
        for item in page.get("items") or ():
            if "apiVersion" not in item or "kind" not in item:
                item = {"apiVersion": api_version, "kind": kind, **item}
            key = key_of(item)
            if keep is None or keep(key, item):
                found[key] = item


def _lowest(versions: list[str]) -> str | None:
    versions = [v for v in versions if v]
    if not versions:
        return None
    if all(v.isdigit() for v in versions):
        return min(versions, key=int)
    return versions[0]


def _explain(group_kind: GroupKind, where: str, error: ApiRequestError) -> str:
    tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
    if error.status == 403:
        hint = " (the identity may not list it: grant get/list/watch)"
    elif error.status == 410:
        hint = " (the list kept expiring; restarted too often)"
    else:
        hint = ""
    detail = str(error).split(": ", 1)[-1]
    return truncate(f"reading {group_kind.display()}{where} failed{tries}: {detail}{hint}", 300)


def _server_version(client: ReadOnlyClient, retry: RetryPolicy) -> str | None:
    try:
        version = retry.call(lambda: client.get("/version"))
    except ApiRequestError as e:
        if e.status is None or e.status >= 500:
            raise ClusterError(
                f"cannot reach the cluster at {client.host}: {str(e).split(': ', 1)[-1]}"
            ) from e
        return None
    return str(version.get("gitVersion") or "") or None


def take_snapshot(
    client: ReadOnlyClient,
    request: SnapshotRequest,
    *,
    keep: Keep | None = None,
    retry: RetryPolicy | None = None,
    openapi_ready: OpenAPIReady | None = None,
) -> LiveSnapshot:
    """Read every requested type; raises ``ClusterError`` only when the cluster is unreachable.

    The OpenAPI documents are fetched (cached per server version) before any list
    starts and handed to ``openapi_ready``, so whatever compares pages as they
    stream judges them by the same schema as the rest of the run.
    """
    retry = retry or RetryPolicy()
    snapshot = LiveSnapshot(server_version=_server_version(client, retry))
    discovery = Discovery(client, retry)
    try:
        discovery.groups()
    except DiscoveryError as e:
        raise ClusterError(f"cannot read the API discovery of {client.host}: {e}") from e
    reader = _TypeReader(client, request, retry, keep)
    wanted = merge_requests(request.types)
    with (
        paused_gc(),
        ThreadPoolExecutor(
            max_workers=max(1, request.concurrency), thread_name_prefix="driftwatch-list"
        ) as pool,
    ):
        futures: dict[GroupKind, Future[tuple[TypeRead, dict[ResourceKey, Manifest]]]] = {}
        resources: list[ResourceType] = []
        resolved: list[tuple[GroupKind, TypeRequest, ResourceType]] = []
        for group_kind, req in wanted.items():
            try:
                resource = discovery.resolve(group_kind, req.api_version)
            except DiscoveryError as e:
                snapshot.types[group_kind] = TypeRead(
                    group_kind, ReadState.FAILED, None, req.namespaces, _explain(group_kind, "", e)
                )
                continue
            if resource is None:
                snapshot.types[group_kind] = TypeRead(
                    group_kind,
                    ReadState.NOT_SERVED,
                    None,
                    req.namespaces,
                    f"the cluster does not serve {group_kind.display()}",
                )
                continue
            resources.append(resource)
            resolved.append((group_kind, req, resource))
        if request.openapi:
            snapshot.openapi = cached_openapi(client, resources, snapshot.server_version, retry)
        if openapi_ready is not None:
            openapi_ready(snapshot.openapi)
        for group_kind, req, resource in resolved:
            futures[group_kind] = pool.submit(reader.read, req, resource)
        for group_kind, future in futures.items():
            read, objects = future.result()
            snapshot.types[group_kind] = read
            snapshot.objects.update(objects)
    snapshot.taken_at = _now()
    return snapshot

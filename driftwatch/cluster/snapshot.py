"""Reading what the cluster holds: one ``LiveSnapshot`` per run.

Each requested type is resolved through discovery, then listed page by page
(``limit`` = page size, ``continue``) by a small thread pool.  A continue token
that expired (410) restarts that list from scratch, a bounded number of times;
429, 5xx, timeouts and broken connections are retried with backoff.

Listing goes through a :class:`~driftwatch.cluster.cache.ClusterCache`: a type
is listed across all namespaces where RBAC allows it and one namespace at a
time where the server answered 403 to that; each object is held trimmed
(``hold``).  The caller's slice is what its namespaces and its pure
``wanted(key, metadata)`` filter select, and each selected object goes through
the caller's page consumer (``consume``) as its page arrives.  Here (one
snapshot, nothing reused) the cache lives for one call.

Per type the outcome is recorded as a ``TypeRead``: COMPLETE (with the list's
resourceVersion), FAILED (its objects are unknown, never missing) or NOT_SERVED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.model import GroupKind, LiveSnapshot, Manifest, ResourceKey

Wanted = Callable[[ResourceKey, Mapping[str, Any]], bool]
"""Whether a caller needs an object, from its identity and ``metadata`` only (pure)."""
Hold = Callable[[Manifest], Manifest]
"""How a listed object is held: a new body (trimmed, redacted) the cache may share."""
Consume = Callable[[ResourceKey, Manifest], Manifest]
"""A caller's page consumer: takes each object of its slice as it arrives (a shared,
read-only body) and returns what the caller keeps for it."""
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


def take_snapshot(
    client: ReadOnlyClient,
    request: SnapshotRequest,
    *,
    wanted: Wanted | None = None,
    hold: Hold | None = None,
    consume: Consume | None = None,
    retry: RetryPolicy | None = None,
    openapi_ready: OpenAPIReady | None = None,
) -> LiveSnapshot:
    """Read every requested type once; raises ``ClusterError`` only when unreachable.

    A type wanted in one namespace is listed there; in several, across all of
    them when RBAC allows (one list instead of one per namespace).  The OpenAPI
    documents are fetched (cached per server version) before any list starts and
    handed to ``openapi_ready``, so whatever compares pages as they stream judges
    them by the same schema as the rest of the run.
    """
    from driftwatch.cluster.cache import ClusterCache

    cache = ClusterCache(retry=retry, hold=hold, wide_for_one_namespace=False)
    return cache.read(
        client, request, wanted=wanted, consume=consume, openapi_ready=openapi_ready
    )

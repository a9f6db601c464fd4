"""The OpenAPI v3 documents of the group-versions a snapshot read, best-effort.

They tell the comparison which lists are keyed (``x-kubernetes-list-map-keys``)
and what the server defaults.  Any failure leaves a document out: the comparison
then falls back to its built-in tables, so this never fails a snapshot.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.discovery import openapi_path
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.errors import ClusterError
from driftwatch.model import ResourceType

_CACHE_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], tuple[str, Any]] = {}
"""The last document per (API server, document path), with the server version and the
``serverRelativeURL`` it was fetched at: that URL carries the document's content hash,
so a changed schema (an upgrade, a CRD edit) is fetched anew and replaces it."""


def cached_openapi(
    client: ReadOnlyClient,
    resources: Iterable[ResourceType],
    server_version: str | None,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """``fetch_openapi``, reusing documents this server already sent (same version and hash).

    Only the small ``/openapi/v3`` index is read again: a run after the first fetches
    no schema document unless it changed.
    """
    return fetch_openapi(client, resources, retry, cache_as=server_version)


def fetch_openapi(
    client: ReadOnlyClient,
    resources: Iterable[ResourceType],
    retry: RetryPolicy | None = None,
    *,
    cache_as: str | None = None,
) -> dict[str, Any]:
    """``{"api/v1": {...}, "apis/apps/v1": {...}}`` for the group-versions of ``resources``.

    ``cache_as`` (the server version) keeps documents whose URL carries a hash.
    """
    retry = retry or RetryPolicy(attempts=2)
    wanted = sorted({openapi_path(r.group, r.version) for r in resources})
    if not wanted:
        return {}
    try:
        index = retry.call(lambda: client.get("/openapi/v3"))
    except ClusterError:
        return {}
    paths = index.get("paths") or {}
    documents: dict[str, Any] = {}
    for key in wanted:
        entry = paths.get(key)
        if not isinstance(entry, dict):
            continue
        relative = str(entry.get("serverRelativeURL") or f"/openapi/v3/{key}")
        url = urlsplit(relative)
        query = dict(parse_qsl(url.query))
        slot = (client.host, key) if cache_as and "hash" in query else None
        stamp = f"{cache_as} {relative}"
        with _CACHE_LOCK:
            cached = _CACHE.get(slot) if slot is not None else None
        if cached is not None and cached[0] == stamp:
            documents[key] = cached[1]
            continue
        try:
            documents[key] = retry.call(functools.partial(client.get, url.path, query))
        except ClusterError:
            continue
        if slot is not None:
            with _CACHE_LOCK:
                _CACHE[slot] = (stamp, documents[key])
    return documents

"""The OpenAPI v3 documents of the group-versions a snapshot read, best-effort.

They tell the comparison which lists are keyed (``x-kubernetes-list-map-keys``)
and what the server defaults.  Any failure leaves a document out: the comparison
then falls back to its built-in tables, so this never fails a snapshot.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.discovery import openapi_path
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.errors import ClusterError
from driftwatch.model import ResourceType


def fetch_openapi(
    client: ReadOnlyClient, resources: Iterable[ResourceType], retry: RetryPolicy | None = None
) -> dict[str, Any]:
    """``{"api/v1": {...}, "apis/apps/v1": {...}}`` for the group-versions of ``resources``."""
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
        url = urlsplit(str(entry.get("serverRelativeURL") or f"/openapi/v3/{key}"))
        query = dict(parse_qsl(url.query))
        try:
            documents[key] = retry.call(functools.partial(client.get, url.path, query))
        except ClusterError:
            continue
    return documents

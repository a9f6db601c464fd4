"""The live side of a run in one call: a saved snapshot if the cluster is one, else a read."""

from __future__ import annotations

from collections import Counter

from driftwatch.cluster.cache import ClusterCache
from driftwatch.cluster.connect import connect
from driftwatch.cluster.deadline import Deadline
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.cluster.snapshot import (
    Consume,
    OpenAPIReady,
    SnapshotRequest,
    Wanted,
    take_snapshot,
)
from driftwatch.cluster.snapshot_file import load_snapshot
from driftwatch.config.model import Cluster
from driftwatch.model import LiveSnapshot
from driftwatch.redact import SecretHasher


def read_live(
    cluster: Cluster,
    request: SnapshotRequest,
    hasher: SecretHasher,
    *,
    wanted: Wanted | None = None,
    consume: Consume | None = None,
    cache: ClusterCache | None = None,
    max_age: float | None = None,
    retry: RetryPolicy | None = None,
    counts: Counter[tuple[str, str]] | None = None,
    openapi_ready: OpenAPIReady | None = None,
) -> tuple[LiveSnapshot, Counter[tuple[str, str]]]:
    """The snapshot for ``cluster`` and the API requests it took, by (verb, code).

    ``Cluster.snapshot`` set: the file is loaded (no request).  Otherwise the
    cluster is read, within ``Cluster.deadline`` (types not read by then are
    unknown), through ``cache`` when given (lists younger than its max age,
    narrowed by ``max_age``, are reused); ``ClusterError`` when it cannot be
    reached at all.  When given, ``counts`` is updated with the requests made
    even when the read fails, so a cluster that is down still shows in the
    request metrics.  ``openapi_ready`` is called with the OpenAPI documents
    before listing starts (a live read only: a file holds its documents in the
    snapshot).
    """
    if cluster.snapshot:
        return load_snapshot(cluster.snapshot, hasher), Counter()
    with connect(cluster, deadline=Deadline(cluster.deadline)) as client:
        try:
            if cache is not None:
                snapshot = cache.read(
                    client,
                    request,
                    wanted=wanted,
                    consume=consume,
                    max_age=max_age,
                    openapi_ready=openapi_ready,
                )
            else:
                snapshot = take_snapshot(
                    client,
                    request,
                    wanted=wanted,
                    consume=consume,
                    retry=retry,
                    openapi_ready=openapi_ready,
                )
        finally:
            made = client.request_counts()
            if counts is not None:
                counts.update(made)
    return snapshot, made

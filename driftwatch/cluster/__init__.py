"""The live side: read what a cluster holds, through a client that can only read.

``connect`` builds the read-only client, ``take_snapshot`` reads the requested
types into a ``LiveSnapshot``, ``save_snapshot``/``load_snapshot`` keep one on
disk (Secret values fingerprinted), ``snapshot_request_for`` says what a target
needs read, and ``read_live`` does the whole live side of a run in one call.
"""

from driftwatch.cluster.api_errors import ApiRequestError
from driftwatch.cluster.cache import ClusterCache
from driftwatch.cluster.client import ReadOnlyClient, guard_api_client
from driftwatch.cluster.connect import api_client_for, connect
from driftwatch.cluster.discovery import Discovery, collection_path
from driftwatch.cluster.live import read_live
from driftwatch.cluster.request import parse_kind, snapshot_request_for, target_namespaces
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.cluster.snapshot import (
    Consume,
    SnapshotRequest,
    TypeRequest,
    Wanted,
    take_snapshot,
)
from driftwatch.cluster.snapshot_file import load_snapshot, save_snapshot

__all__ = [
    "ApiRequestError",
    "ClusterCache",
    "Consume",
    "Discovery",
    "ReadOnlyClient",
    "RetryPolicy",
    "SnapshotRequest",
    "TypeRequest",
    "Wanted",
    "api_client_for",
    "collection_path",
    "connect",
    "guard_api_client",
    "load_snapshot",
    "parse_kind",
    "read_live",
    "save_snapshot",
    "snapshot_request_for",
    "take_snapshot",
    "target_namespaces",
]

"""The one JSON shape of a drift report, shared by ``check --output json`` and the HTTP API.

Schema ``driftwatch.report/v1`` (keys are snake_case; values that are unknown are
``null``, never omitted, so consumers can rely on every key)::

    {
      "schema": "driftwatch.report/v1",
      "target": "shop",
      "revision": {"sha", "ref", "author", "time", "subject", "repository", "note"} | null,
      "snapshot_time": "2026-01-01T00:00:00Z",
      "snapshot_time_estimated_from": str | null,  # foreign dump: what the time comes from
      "complete": true,
      "totals": {"in_sync", "modified", "missing", "unmanaged", "unknown", "ignored"},
      "source_errors": [{"file", "line", "message"}],
      "read_errors": [{"group", "kind", "error"}],
      "objects": [{
        "resource": "Deployment.apps/shop/api",
        "group", "kind", "namespace", "name", "api_version",
        "state": "modified" | "missing" | "unmanaged" | "unknown" | "in_sync",
        "reason": str | null,
        "origin": {"file", "document", "line"} | null,
        "attribution": {"manager", "operation", "subresource", "time"},
        "direction": "cluster" | "git" | "both" | "unknown" | null,   # null when in sync
        "git_commit": {"sha", "short_sha", "author", "time", "subject"} | null,
        "created_by", "changed_by": {...}   (unmanaged only: who created it, who changed it last),
        "fields": [{"path", "change": "changed"|"added"|"removed", "desired", "live",
                    "attribution": {...}, "direction", "git_commit"}],
        "ignored": [{"path", "rule", "attribution": {...}}],
        "first_seen": "RFC 3339" | null,     # only when drift ages are supplied
        "drift_age_seconds": float | null    # idem
      }]
    }

``objects`` holds the objects that are not in sync (``all_objects=True``: every
object).  ``desired``/``live`` values arrive already redacted: Secret values are
fingerprints before any report exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from driftwatch.model import (
    Attribution,
    DriftState,
    GitRevision,
    ObjectDrift,
    ResourceKey,
    TargetReport,
)

SCHEMA = "driftwatch.report/v1"

FirstSeen = Callable[[ResourceKey, DriftState], float | None]
"""Unix time an object was first seen in its current drift state, or None if unknown."""


def rfc3339(timestamp: float | None) -> str | None:
    """Unix time -> ``2026-01-01T00:00:00Z`` (None stays None)."""
    if timestamp is None:
        return None
    text = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def attribution_to_json(att: Attribution) -> dict[str, Any]:
    """``{"manager", "operation", "subresource", "time"}`` (``manager`` null: unknown)."""
    return {
        "manager": att.manager,
        "operation": att.operation,
        "subresource": att.subresource,
        "time": att.time,
    }


def revision_to_json(revision: GitRevision | None) -> dict[str, Any] | None:
    """The commit compared, or None."""
    if revision is None:
        return None
    return {
        "sha": revision.sha,
        "ref": revision.ref,
        "author": revision.author,
        "time": revision.time,
        "subject": revision.subject,
        "repository": revision.repository,
        "note": revision.note or None,
    }


def commit_to_json(commit: GitRevision | None) -> dict[str, Any] | None:
    """The Git commit that changed a declaration (author name only, never an e-mail)."""
    if commit is None:
        return None
    return {
        "sha": commit.sha,
        "short_sha": commit.sha[:7],
        "author": commit.author,
        "time": commit.time,
        "subject": commit.subject,
    }


def totals_to_json(report: TargetReport) -> dict[str, int]:
    """Objects per state plus the count of ignored differences."""
    totals = {state.value: count for state, count in report.totals().items()}
    totals["ignored"] = report.ignored_count
    return totals


def object_to_json(
    obj: ObjectDrift, *, first_seen: FirstSeen | None = None, now: float | None = None
) -> dict[str, Any]:
    """One object's verdict (see the module docstring for the shape)."""
    key = obj.key
    out: dict[str, Any] = {
        "resource": key.display(),
        "group": key.group,
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
        "api_version": obj.api_version,
        "state": obj.state.value,
        "reason": obj.reason,
        "origin": None
        if obj.origin is None
        else {"file": obj.origin.file, "document": obj.origin.document, "line": obj.origin.line},
        "attribution": attribution_to_json(obj.attribution),
        "direction": None if obj.state is DriftState.IN_SYNC else obj.direction.value,
        "git_commit": commit_to_json(obj.git_commit),
        "fields": [
            {
                "path": f.path,
                "change": f.change.value,
                "desired": f.desired,
                "live": f.live,
                "attribution": attribution_to_json(f.attribution),
                "direction": f.direction.value,
                "git_commit": commit_to_json(f.git_commit),
            }
            for f in obj.fields
        ],
        "ignored": [
            {"path": i.path, "rule": i.rule, "attribution": attribution_to_json(i.attribution)}
            for i in obj.ignored
        ],
    }
    if obj.created_by is not None:  # a live object not in Git: who made it, who changed it last
        out["created_by"] = attribution_to_json(obj.created_by)
        out["changed_by"] = attribution_to_json(obj.changed_by or obj.created_by)
    if first_seen is not None:
        since = first_seen(key, obj.state) if obj.state is not DriftState.IN_SYNC else None
        out["first_seen"] = rfc3339(since)
        reference = datetime.now(UTC).timestamp() if now is None else now
        out["drift_age_seconds"] = None if since is None else max(0.0, reference - since)
    return out


def report_to_json(
    report: TargetReport,
    *,
    all_objects: bool = False,
    select: Callable[[ObjectDrift], bool] | None = None,
    first_seen: FirstSeen | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """A report as JSON-ready data (schema ``driftwatch.report/v1``).

    Args:
        report: The report.
        all_objects: Include in-sync objects too.
        select: Keep only objects it accepts (``totals`` still count every object).
        first_seen: Adds ``first_seen``/``drift_age_seconds`` to each object when given.
        now: Reference time for drift ages (default: the current time).
    """
    objects = [
        object_to_json(obj, first_seen=first_seen, now=now)
        for obj in report.objects
        if (all_objects or obj.state is not DriftState.IN_SYNC) and (select is None or select(obj))
    ]
    return {
        "schema": SCHEMA,
        "target": report.target,
        "revision": revision_to_json(report.revision),
        "snapshot_time": report.snapshot_time or None,
        "snapshot_time_estimated_from": report.snapshot_time_estimate or None,
        "complete": report.complete,
        "totals": totals_to_json(report),
        "source_errors": [
            {"file": e.file, "line": e.line, "message": e.message} for e in report.source_errors
        ],
        "read_errors": [
            {"group": gk.group, "kind": gk.kind, "error": error}
            for gk, error in sorted(report.read_errors.items())
        ],
        "objects": objects,
    }

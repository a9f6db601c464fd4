"""Turning transitions into CloudEvents 1.0 (JSON format) records.

Envelope: ``specversion``, ``id`` (uuid4), ``source`` (``driftwatch/<instance>``),
``type`` (``io.driftwatch.<short type>``), ``subject``
(``<target>/<group>/<kind>/<namespace>/<name>``, the target alone for target-level
events), ``time`` (RFC 3339 UTC), ``datacontenttype``, ``dataschema`` and the
extension ``shorttype``; the log adds ``seq`` and ``prevhash``.  ``data`` is
described by ``schemas/event.v1.schema.json``.

Field values arrive already redacted (Secret values are ``hmac-sha256:``
fingerprints); as a second guard, a value under a core Secret's ``data`` or
``stringData`` (or its last-applied annotation) that is not a fingerprint is
written as ``<redacted>`` — judged on the paths as reports write them
(``/data/password``; ``~1`` for a ``/`` inside a segment, as in the
last-applied annotation's path).  Oversized values are replaced by a digest.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from driftwatch.history import Transition, TransitionType
from driftwatch.model import Attribution, FieldDrift, GitRevision, ObjectDrift, ResourceKey
from driftwatch.redact import (
    MASK,
    holds_secret_value,
    is_core_secret,
    is_fingerprint,
    pointer_segments,
)
from driftwatch.run import TargetRun
from driftwatch.sinks.eventlog.segments import format_time
from driftwatch.sinks.report_json import commit_to_json

SPECVERSION = "1.0"
TYPE_PREFIX = "io.driftwatch."
DATASCHEMA = "https://driftwatch.io/schemas/event.v1.schema.json"
MAX_VALUE_CHARS = 4096
"""A desired/live value longer than this (as JSON) is written as ``{"$truncated": digest}``."""
MAX_FIELDS = 200
"""At most this many drifted fields per event; ``fieldsOmitted`` counts the rest."""

EVENTLOG_RECOVERED = "eventlog.recovered"
EVENTLOG_RETENTION = "eventlog.retention"
EVENTLOG_SUBJECT = "eventlog"

_RESOLVING = {TransitionType.DRIFT_RESOLVED, TransitionType.RESOURCE_RESTORED}


def cloud_type(short: str) -> str:
    """``drift.detected`` -> ``io.driftwatch.drift.detected``."""
    return short if short.startswith(TYPE_PREFIX) else TYPE_PREFIX + short


def short_type(type_: str) -> str:
    """``io.driftwatch.drift.detected`` -> ``drift.detected``."""
    return type_.removeprefix(TYPE_PREFIX)


def source_for(instance: str) -> str:
    """The CloudEvents ``source`` of this driftwatch instance."""
    return f"driftwatch/{instance}"


def subject_for(target: str, key: ResourceKey | None) -> str:
    """``<target>/<group>/<kind>/<namespace>/<name>`` (empty group/namespace stay empty)."""
    if key is None:
        return target
    return "/".join((target, key.group, key.kind, key.namespace, key.name))


def envelope(
    short: str, *, instance: str, subject: str, data: Mapping[str, Any], time: float
) -> dict[str, Any]:
    """A CloudEvent record (without the log's ``seq``/``prevhash``)."""
    return {
        "specversion": SPECVERSION,
        "id": str(uuid.uuid4()),
        "source": source_for(instance),
        "type": cloud_type(short),
        "shorttype": short,
        "subject": subject,
        "time": format_time(time),
        "datacontenttype": "application/json",
        "dataschema": DATASCHEMA,
        "data": dict(data),
    }


def transition_event(transition: Transition, run: TargetRun, instance: str) -> dict[str, Any]:
    """The CloudEvent for one transition of ``run``."""
    t = transition
    data: dict[str, Any] = {
        "target": t.target,
        "revision": _revision(t.revision),
        "traceId": run.trace_id,
    }
    if run.report is not None and run.report.snapshot_time:
        data["snapshotTime"] = run.report.snapshot_time
    if t.key is not None:
        data.update(_object_data(t))
    if t.previous_revision is not None:
        data["previousRevision"] = _revision(t.previous_revision)
    if t.errors:
        data["errors"] = list(t.errors)
    if t.failed_stage is not None:
        data["failedStage"] = t.failed_stage.value
    if t.duration is not None:
        if t.type in _RESOLVING:
            data["timeToResolveSeconds"] = round(t.duration, 3)
        elif t.type is TransitionType.RUN_RECOVERED:
            data["failedForSeconds"] = round(t.duration, 3)
        else:
            data["driftAgeSeconds"] = round(t.duration, 3)
    return envelope(
        t.type.value,
        instance=instance,
        subject=subject_for(t.target, t.key),
        data=data,
        time=t.time,
    )


def _object_data(t: Transition) -> dict[str, Any]:
    assert t.key is not None
    key = t.key
    resource: dict[str, Any] = {
        "group": key.group,
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
    }
    data: dict[str, Any] = {
        "resource": resource,
        "state": t.state.value if t.state is not None else None,
        "previousState": t.previous_state.value if t.previous_state is not None else None,
    }
    drift: ObjectDrift | None = t.drift
    if drift is not None:
        if drift.api_version:
            resource["apiVersion"] = drift.api_version
        if t.type not in _RESOLVING:
            fields = [_field(key, f) for f in drift.fields[:MAX_FIELDS]]
            data["fields"] = fields
            if len(drift.fields) > MAX_FIELDS:
                data["fieldsOmitted"] = len(drift.fields) - MAX_FIELDS
            data["attribution"] = _attribution(drift.attribution)
            data["direction"] = drift.direction.value
            if drift.git_commit is not None:
                data["gitCommit"] = commit_to_json(drift.git_commit)
            if drift.created_by is not None:
                data["createdBy"] = _attribution(drift.created_by)
                data["changedBy"] = _attribution(drift.changed_by or drift.created_by)
        if drift.reason:
            data["reason"] = drift.reason
        if drift.origin is not None:
            data["origin"] = {"file": drift.origin.file, "line": drift.origin.line}
    if t.previous_paths and t.type is not TransitionType.DRIFT_DETECTED:
        data["previousPaths"] = list(t.previous_paths)
    if t.first_seen is not None:
        data["firstSeen"] = format_time(t.first_seen)
    return data


def _revision(rev: GitRevision | None) -> dict[str, str] | None:
    return None if rev is None else {"sha": rev.sha, "ref": rev.ref}


def _attribution(att: Attribution) -> dict[str, Any] | None:
    if not att.known:
        return None
    return {
        "manager": att.manager,
        "operation": att.operation,
        "subresource": att.subresource,
        "time": att.time,
    }


def _field(key: ResourceKey, drift: FieldDrift) -> dict[str, Any]:
    return {
        "path": drift.path,
        "change": drift.change.value,
        "desired": _value(key, drift.path, drift.desired),
        "live": _value(key, drift.path, drift.live),
        "attribution": _attribution(drift.attribution),
        "direction": drift.direction.value,
    }


def _is_secret_value_path(key: ResourceKey, path: str) -> bool:
    """A field of a core Secret that holds values, in the path notation reports use."""
    return is_core_secret(key.kind, key.group) and holds_secret_value(pointer_segments(path))


def _only_fingerprints(value: Any) -> Any:
    """Keep fingerprints (and structure); every other leaf of a Secret value is masked."""
    if value is None or is_fingerprint(value):
        return value
    if isinstance(value, Mapping):
        return {str(k): _only_fingerprints(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_only_fingerprints(v) for v in value]
    return MASK


def _value(key: ResourceKey, path: str, value: Any) -> Any:
    if _is_secret_value_path(key, path):
        value = _only_fingerprints(value)
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        digest = hashlib.sha256(text.encode()).hexdigest()
        return {"$truncated": f"sha256:{digest}", "chars": len(text)}
    return json.loads(text)

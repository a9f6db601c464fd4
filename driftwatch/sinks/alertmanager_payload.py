"""What a drift alert sent straight to Alertmanager says: labels, annotations, links.

Pure functions from an ``ObjectDrift`` to the ``postableAlert`` fields of
Alertmanager's API v2, kept apart from the delivery machinery so they can be
read and tested on their own.  Alert names, severities and summaries are the
same as those of the Prometheus rules in ``alerts/driftwatch.rules.yaml``.

Secret values never reach an alert: the report holds only fingerprints, and
for a Secret not even those are shown (paths only).  Every other value is shown
shortened, with any fingerprint inside it cut to its short display form.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from driftwatch.errors import truncate
from driftwatch.model import Direction, DriftState, FieldDrift, ObjectDrift, ResourceKey
from driftwatch.redact import is_core_secret, is_fingerprint, short_fingerprint
from driftwatch.sinks.direction_text import commit_phrase, direction_phrase
from driftwatch.sinks.web.routes import object_url

RUNBOOK_BASE = "https://github.com/driftwatch/driftwatch/blob/main/docs/runbooks.md"

ALERTNAMES: dict[DriftState, str] = {
    DriftState.MODIFIED: "DriftwatchResourceDrifted",
    DriftState.MISSING: "DriftwatchResourceMissing",
    DriftState.UNMANAGED: "DriftwatchUnmanagedResource",
}
SEVERITIES: dict[DriftState, str] = {
    DriftState.MODIFIED: "warning",
    DriftState.MISSING: "warning",
    DriftState.UNMANAGED: "info",
}
SUMMARIES: dict[DriftState, str] = {
    DriftState.MODIFIED: "A Kubernetes object differs from what Git declares.",
    DriftState.MISSING: "An object declared in Git does not exist in the cluster.",
    DriftState.UNMANAGED: "An object carries a target's ownership marker but is not in Git.",
}

HAND_EDIT = "DriftwatchHandEdit"
"""``cluster``/``both`` drift of any kind: changed in the cluster, not through Git."""
SYNC_LAG = "DriftwatchGitSyncLag"
"""``git`` drift: Git changed, the applier has not applied it (sent after the sync-lag period)."""
_BY_DIRECTION: dict[Direction, tuple[str, str, str]] = {
    Direction.CLUSTER: (
        HAND_EDIT,
        "warning",
        "A Kubernetes object was changed in the cluster, not through Git.",
    ),
    Direction.BOTH: (
        HAND_EDIT,
        "warning",
        "A Kubernetes object was changed in the cluster, not through Git.",
    ),
    Direction.GIT: (SYNC_LAG, "info", "A Git change has not been applied to the cluster."),
}


def alert_kind(obj: ObjectDrift) -> tuple[str, str, str]:
    """(alertname, severity, summary): by direction, and by state when the direction is unknown."""
    known = _BY_DIRECTION.get(obj.direction)
    if known is not None:
        return known
    return ALERTNAMES[obj.state], SEVERITIES[obj.state], SUMMARIES[obj.state]


MAX_FIELDS = 20
"""Drifted fields listed in one alert; the rest are counted."""
MAX_VALUE = 80
"""Characters of one displayed value."""
MAX_ANNOTATION = 4000


def alert_labels(target: str, obj: ObjectDrift, instance: str | None = None) -> dict[str, str]:
    """The identity of one drifted object's alert (empty values left out, as in Prometheus)."""
    key = obj.key
    alertname, severity, _ = alert_kind(obj)
    labels = {
        "alertname": alertname,
        "severity": severity,
        "target": target,
        "namespace": key.namespace,
        "group": key.group,
        "kind": key.kind,
        "name": key.name,
        "drift_type": obj.state.value,
        "direction": obj.direction.value,
        "instance": instance or "",
    }
    return {k: v for k, v in labels.items() if v}


def drift_url(external_url: str, target: str, key: ResourceKey) -> str:
    """The link to this object's drift in driftwatch's HTTP API (kind as ``Kind.group``)."""
    kind = key.group_kind.display()
    query = urlencode(
        {"target": target, "namespace": key.namespace, "kind": kind, "name": key.name}
    )
    return f"{external_url.rstrip('/')}/api/v1/drift?{query}"


def alert_annotations(
    target: str, obj: ObjectDrift, external_url: str | None = None
) -> dict[str, str]:
    """Summary, description, who changed it, the drifted paths and links."""
    key = obj.key
    what = f"{key.group_kind.display()} {_object_name(key)}"
    att = obj.attribution
    changed_by = att.display()
    if obj.state is DriftState.MODIFIED:
        description = (
            f"{what} of target {target} differs from Git at {len(obj.fields)} field(s); "
            f"last changed by {changed_by}."
        )
    elif obj.state is DriftState.MISSING:
        where = f" ({obj.origin.display()})" if obj.origin else ""
        description = (
            f"{what} is declared in Git{where} for target {target} "
            "but does not exist in the cluster."
        )
    else:
        created = obj.created_by.described() if obj.created_by else "unknown"
        last = obj.changed_by.described() if obj.changed_by else changed_by
        description = (
            f"{what} carries the ownership marker of target {target} but Git does not "
            f"declare it; created by {created}, last changed by {last}."
        )
        changed_by = last
    alertname, _, summary = alert_kind(obj)
    annotations = {
        "summary": summary,
        "description": f"{description} Which side moved: {direction_phrase(obj)}.",
        "changed_by": changed_by,
        "direction": obj.direction.value,
        "runbook_url": f"{RUNBOOK_BASE}#{alertname.lower()}",
    }
    if obj.git_commit is not None:
        annotations["git_commit"] = commit_phrase(obj.git_commit)
    if obj.created_by is not None:
        annotations["created_by"] = obj.created_by.described()
    if obj.fields:
        annotations["drifted_fields"] = drifted_fields(obj)
    if obj.origin is not None:
        annotations["git_source"] = obj.origin.display()
    if external_url:
        annotations["object_url"] = object_url(external_url, target, key)
        annotations["drift_url"] = drift_url(external_url, target, key)
    return annotations


def drifted_fields(obj: ObjectDrift) -> str:
    """One line per drifted field: path, values (never a Secret's) and manager."""
    secret = is_core_secret(obj.key.kind, obj.key.group)
    lines = [_field_line(drift, show_values=not secret) for drift in obj.fields[:MAX_FIELDS]]
    if len(obj.fields) > MAX_FIELDS:
        lines.append(f"... and {len(obj.fields) - MAX_FIELDS} more")
    return truncate_lines("\n".join(lines), MAX_ANNOTATION)


def rfc3339(timestamp: float) -> str:
    """Unix time -> ``2026-01-02T03:04:05.678Z`` as Alertmanager expects."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def truncate_lines(text: str, limit: int) -> str:
    """Cap multi-line text without folding its lines together."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _object_name(key: ResourceKey) -> str:
    return f"{key.namespace}/{key.name}" if key.namespace else key.name


def _field_line(drift: FieldDrift, *, show_values: bool) -> str:
    line = f"{drift.path} ({drift.change.value})"
    if show_values:
        line += f": {_value(drift.desired)} -> {_value(drift.live)}"
    if drift.attribution.manager is not None:
        line += f" by {drift.attribution.manager}"
    if drift.direction is not Direction.UNKNOWN:
        line += f" [{drift.direction.value}]"
    return line


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(_short_fingerprints(value), sort_keys=True, separators=(",", ":"))
    return truncate(text, MAX_VALUE)


def _short_fingerprints(value: Any) -> Any:
    """``value`` with every fingerprint (at any depth) cut to its displayed form."""
    if is_fingerprint(value):
        return short_fingerprint(value)
    if isinstance(value, dict):
        return {k: _short_fingerprints(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_short_fingerprints(v) for v in value]
    return value

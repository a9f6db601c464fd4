"""What a target needs read: its desired kinds, its namespaces, its unmanaged scan.

Kinds declared in the desired set are read whole (in the target's namespaces) at
the apiVersion they declare, so a declared object that lost its ownership label
is still found.  Kinds named in ``unmanagedKinds`` but not declared are read only
through the ownership selector: nothing else of theirs matters to the target.
Cluster-scoped kinds are listed whole whatever the namespaces (the snapshot
decides that from discovery).
"""

from __future__ import annotations

from collections import Counter

from driftwatch.cluster.snapshot import SnapshotRequest, TypeRequest
from driftwatch.config.model import Config, Target
from driftwatch.errors import ConfigError
from driftwatch.model import DesiredSet, GroupKind


def parse_kind(text: str) -> GroupKind:
    """``Deployment.apps`` -> (apps, Deployment); ``ConfigMap`` -> ('', ConfigMap)."""
    kind, _, group = text.strip().partition(".")
    if not kind or not kind[0].isalpha() or " " in text.strip():
        raise ConfigError(f"not a kind: {text!r} (use Kind or Kind.group, e.g. Deployment.apps)")
    return GroupKind(group, kind)


def target_namespaces(desired: DesiredSet, target: Target) -> tuple[str, ...] | None:
    """The namespaces a target lives in: configured, else those of its objects and Namespaces.

    None (all namespaces) when nothing narrows it down.
    """
    if target.namespaces is not None:
        return tuple(sorted(set(target.namespaces)))
    found = {key.namespace for key in desired.objects if key.namespace}
    found.update(key.name for key in desired.objects if key.group == "" and key.kind == "Namespace")
    if target.namespace:
        found.add(target.namespace)
    return tuple(sorted(found)) or None


def snapshot_request_for(desired: DesiredSet, target: Target, config: Config) -> SnapshotRequest:
    """The snapshot that lets ``desired`` be compared (page size from the target's cluster)."""
    namespaces = target_namespaces(desired, target)
    versions: dict[GroupKind, Counter[str]] = {}
    for obj in desired.objects.values():
        versions.setdefault(obj.key.group_kind, Counter())[obj.api_version] += 1
    types = [
        TypeRequest(group_kind, counts.most_common(1)[0][0], namespaces)
        for group_kind, counts in sorted(versions.items())
    ]
    for text in (*target.unmanaged_kinds, *config.unmanaged_kinds):
        group_kind = parse_kind(text)
        if group_kind not in versions:
            types.append(TypeRequest(group_kind, None, namespaces, target.selector))
            versions[group_kind] = Counter()
    cluster = config.cluster_for(target)
    return SnapshotRequest(types=tuple(types), page_size=cluster.page_size)

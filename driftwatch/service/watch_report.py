"""Pure helpers of watch mode: apply changes to a live set, patch a report, spot mismatches.

Watch mode never recomputes a whole report: the objects a batch of watch events
touched are compared again, their entries in the previous report are replaced,
and everything else (other verdicts, source and read errors, the revision) is
carried over as it was.  After each full run, the state the watches kept is
checked against the fresh snapshot: a disagreement the timing cannot explain is a
*mismatch* (``driftwatch_watch_mismatches_total``).
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftwatch.cluster.watching import WatchScope
from driftwatch.compare.ignore import hpa_targets, is_hpa
from driftwatch.model import (
    DesiredSet,
    LiveSnapshot,
    Manifest,
    ObjectDrift,
    ReadState,
    ResourceKey,
    TargetReport,
    TypeRead,
)
from driftwatch.run import Stage, TargetRun

Keep = Callable[[ResourceKey, Mapping[str, Any]], bool]
"""A target's pure ``wanted(key, metadata)`` filter."""


def version_of(body: Mapping[str, object] | None) -> str | None:
    """An object's resourceVersion (None without a body or a version)."""
    if body is None:
        return None
    metadata = body.get("metadata")
    version = metadata.get("resourceVersion") if isinstance(metadata, Mapping) else None
    return str(version) if version else None


def newer(version: str | None, than: str | None) -> bool:
    """Whether ``version`` is known to be after ``than`` (only decimal versions compare).

    resourceVersions are opaque to clients; kube-apiserver's are etcd revisions
    (decimal, increasing), and that is the only case that is ordered here.
    """
    return bool(version and than and version.isdigit() and than.isdigit()) and int(
        version or 0
    ) > int(than or 0)


@dataclass(slots=True)
class Change:
    """The latest change of one object seen by a watch (earlier ones are superseded)."""

    body: Manifest | None
    version: str


def apply_changes(live: LiveSnapshot, changes: Mapping[ResourceKey, Change]) -> set[ResourceKey]:
    """Apply object changes to ``live``; the keys whose verdict may have changed.

    A change older than the object held (a replay after resuming from an earlier
    version) is skipped.  An HorizontalPodAutoscaler's change also touches the
    objects it scales (before and after).
    """
    touched: set[ResourceKey] = set()
    for key, change in changes.items():
        held = live.objects.get(key)
        if held is not None and newer(version_of(held), change.version):
            continue
        if change.body is None:
            live.objects.pop(key, None)
        else:
            live.objects[key] = change.body
        touched.add(key)
        if is_hpa(key.kind):
            touched.update(hpa_targets(b for b in (held, change.body) if b is not None))
    return touched


def replace_scope(
    live: LiveSnapshot,
    desired: DesiredSet,
    scope: WatchScope,
    read: TypeRead,
    objects: Mapping[ResourceKey, Manifest],
) -> set[ResourceKey]:
    """Replace everything ``live`` holds in ``scope`` by a fresh list; the keys touched."""
    touched = {key for key in live.objects if scope.covers(key)}
    for key in touched:
        del live.objects[key]
    live.objects.update(objects)
    touched.update(objects)
    for key in desired.objects:
        if key.group_kind == read.group_kind:
            touched.update(key.scopings())
    for key in list(touched):
        if is_hpa(key.kind) and key in live.objects:
            touched.update(hpa_targets([live.objects[key]]))
    return touched


def patch_report(
    base: TargetReport, keys: Iterable[ResourceKey], verdicts: list[ObjectDrift]
) -> TargetReport | None:
    """``base`` with the entries of ``keys`` replaced by ``verdicts``; None if nothing changed."""
    wanted = set(keys)
    old = {o.key: o for o in base.objects if o.key in wanted}
    new = {v.key: v for v in verdicts}
    if old == new:
        return None
    kept = [o for o in base.objects if o.key not in wanted]
    ignored = base.ignored_count - sum(len(o.ignored) for o in old.values())
    ignored += sum(len(v.ignored) for v in verdicts)
    return TargetReport(
        target=base.target,
        objects=list(heapq.merge(kept, sorted(verdicts, key=lambda o: o.key), key=lambda o: o.key)),
        revision=base.revision,
        snapshot_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source_errors=base.source_errors,
        read_errors=base.read_errors,
        ignored_count=ignored,
    )


def watch_run(
    base: TargetRun,
    report: TargetReport,
    started: float,
    compare_seconds: float,
    requests: Counter[tuple[str, str]],
) -> TargetRun:
    """The run a watch update hands to the sinks: the base run's outcome with a patched report."""
    return TargetRun(
        target=base.target,
        started_at=started,
        finished_at=time.time(),
        status=base.status,
        report=report,
        durations={Stage.COMPARE: compare_seconds},
        error=base.error,
        failed_stage=base.failed_stage,
        revision=base.revision,
        git_stale=base.git_stale,
        render_skipped=True,
        api_requests=requests,
        watch_update=True,
    )


@dataclass(frozen=True, slots=True)
class FrozenScope:
    """Where a scope's watch stood when a full run began."""

    scope: WatchScope
    version: str | None
    healthy: bool


def mismatches(
    watched: LiveSnapshot,
    frozen: Iterable[FrozenScope],
    fresh: LiveSnapshot,
    old_keep: Keep,
    new_keep: Keep,
) -> list[ResourceKey]:
    """Objects where the watched state disagrees with a fresh snapshot, timing aside.

    Objects agree when both sides hold the same resourceVersion, or neither holds
    the object.  For a scope whose watch was healthy when the run began, a fresh
    object newer than the watch's last version, or one deleted meanwhile, changed
    after the watch stopped (not a mismatch).  A watch that was down explains
    nothing: everything it missed counts.
    """
    by_scope: dict[tuple[object, str | None], list[ResourceKey]] = {}
    for side in (watched, fresh):
        for key in side.objects:
            by_scope.setdefault((key.group_kind, key.namespace), []).append(key)
    found: list[ResourceKey] = []
    for item in frozen:
        scope = item.scope
        read = fresh.types.get(scope.read.group_kind)
        if (
            read is None
            or read.state is not ReadState.COMPLETE
            or read.label_selector != scope.read.label_selector
            or (scope.namespace is not None and not read.covers(scope.namespace))
        ):
            continue
        keys: set[ResourceKey] = set()
        for (group_kind, namespace), listed in by_scope.items():
            if group_kind == scope.read.group_kind and scope.namespace in (None, namespace):
                keys.update(listed)
        for key in sorted(keys):
            was, now = watched.objects.get(key), fresh.objects.get(key)
            if was is None and now is not None and not old_keep(key, now.get("metadata") or {}):
                continue
            if now is None and was is not None and not new_keep(key, was.get("metadata") or {}):
                continue
            if version_of(was) == version_of(now) and (was is None) == (now is None):
                continue
            if item.healthy and (now is None or newer(version_of(now), item.version)):
                continue
            found.append(key)
    return found

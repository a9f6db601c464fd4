"""Which events one run raises, given what earlier runs saw: a pure function.

``transitions(previous, run, now=...)`` returns the target's new history and the
transitions between the two, one per change: an object that became drifted, whose
drift changed, or that came back in sync; a new Git revision; the first failed run
and the recovery; a new set of source errors; the cluster becoming unreachable; Git
becoming stale (the last good commit compared) and fetched again.

Unknown is never absent: an object in state UNKNOWN, an object of a type whose
read failed, and every object when the run failed, the cluster was unreachable
or a source file could not be read (for objects the report no longer lists) keeps
its previous state, so no drift is raised or resolved on data nobody saw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from driftwatch.errors import truncate
from driftwatch.history.state import (
    ObjectHistory,
    TargetHistory,
    errors_fingerprint,
    fields_fingerprint,
)
from driftwatch.model import (
    DRIFT_STATES,
    DriftState,
    GitRevision,
    ObjectDrift,
    ResourceKey,
    TargetReport,
)
from driftwatch.run import RunStatus, Stage, TargetRun

KEEP_RESOLVED = 7 * 86400.0
"""Seconds a resolved object stays remembered (for ``resolved_at``) before it is forgotten."""


class TransitionType(enum.StrEnum):
    """The short event types (the CloudEvents type is ``io.driftwatch.<value>``)."""

    DRIFT_DETECTED = "drift.detected"
    DRIFT_CHANGED = "drift.changed"
    DRIFT_RESOLVED = "drift.resolved"
    RESOURCE_MISSING = "resource.missing"
    RESOURCE_UNMANAGED = "resource.unmanaged"
    RESOURCE_RESTORED = "resource.restored"
    GIT_REVISION_CHANGED = "git.revision_changed"
    RUN_FAILED = "run.failed"
    RUN_RECOVERED = "run.recovered"
    SOURCE_ERROR = "source.error"
    SOURCE_RECOVERED = "source.recovered"
    CLUSTER_UNREACHABLE = "cluster.unreachable"
    CLUSTER_REACHABLE = "cluster.reachable"
    GIT_STALE = "git.stale"
    GIT_RECOVERED = "git.recovered"


_ENTERED = {
    DriftState.MODIFIED: TransitionType.DRIFT_DETECTED,
    DriftState.MISSING: TransitionType.RESOURCE_MISSING,
    DriftState.UNMANAGED: TransitionType.RESOURCE_UNMANAGED,
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One change between two runs of a target.

    For object transitions ``key`` is set; ``drift`` is the current verdict (None
    when the object left the report); ``first_seen`` is the start of the drift
    episode; ``duration`` is the drift age (detected/changed on an already drifted
    object), the time to resolve (resolved/restored) or the time spent failing
    (run.recovered).
    """

    type: TransitionType
    target: str
    time: float
    key: ResourceKey | None = None
    state: DriftState | None = None
    previous_state: DriftState | None = None
    drift: ObjectDrift | None = None
    previous_paths: tuple[str, ...] = ()
    first_seen: float | None = None
    duration: float | None = None
    revision: GitRevision | None = None
    previous_revision: GitRevision | None = None
    errors: tuple[str, ...] = ()
    failed_stage: Stage | None = None


def run_revision(run: TargetRun) -> GitRevision | None:
    """The commit a run compared (from the run, else from its report)."""
    if run.revision is not None:
        return run.revision
    return run.report.revision if run.report is not None else None


def transitions(
    previous: TargetHistory, run: TargetRun, *, now: float, keep_resolved: float = KEEP_RESOLVED
) -> tuple[TargetHistory, list[Transition]]:
    """The new history of ``run.target`` and the transitions ``run`` caused (pure)."""
    if previous.target != run.target:
        raise ValueError(f"history of {previous.target!r} given for a run of {run.target!r}")
    revision = run_revision(run)
    out: list[Transition] = []

    def event(kind: TransitionType, **kw: object) -> None:
        out.append(Transition(kind, run.target, now, revision=revision, **kw))  # type: ignore[arg-type]

    failed = run.status is RunStatus.FAILED
    failing_since = previous.failing_since
    if not failed and failing_since is not None:
        event(TransitionType.RUN_RECOVERED, duration=max(0.0, now - failing_since))
        failing_since = None

    unreachable = previous.cluster_unreachable
    if unreachable and not run.cluster_unreachable and run.report is not None and not failed:
        event(TransitionType.CLUSTER_REACHABLE)
        unreachable = False

    git_stale = previous.git_stale
    if git_stale and not run.git_stale and run.revision is not None:
        event(TransitionType.GIT_RECOVERED)
        git_stale = False

    old_revision = previous.revision
    if revision is not None and old_revision is not None and revision.sha != old_revision.sha:
        event(TransitionType.GIT_REVISION_CHANGED, previous_revision=previous.revision)

    source_errors = previous.source_errors
    objects = dict(previous.objects)
    report = run.report if not failed else None
    if report is not None:
        lines = tuple(truncate(e.display()) for e in report.source_errors)
        source_fp = errors_fingerprint(lines)
        if source_fp and source_fp != source_errors:
            event(TransitionType.SOURCE_ERROR, errors=tuple(sorted(set(lines))))
        elif not source_fp and source_errors:
            event(TransitionType.SOURCE_RECOVERED)
        source_errors = source_fp
        out.extend(_object_transitions(objects, report, run, now, revision))

    if run.git_stale and not git_stale:
        event(TransitionType.GIT_STALE, errors=_error_lines(run))
        git_stale = True
    if run.cluster_unreachable and not unreachable:
        event(TransitionType.CLUSTER_UNREACHABLE, errors=_error_lines(run))
        unreachable = True
    if failed and failing_since is None:
        event(TransitionType.RUN_FAILED, errors=_error_lines(run), failed_stage=run.failed_stage)
        failing_since = now

    cutoff = now - keep_resolved
    kept = {
        k: o
        for k, o in objects.items()
        if o.drifted or o.resolved_at is None or o.resolved_at >= cutoff
    }
    history = TargetHistory(
        target=run.target,
        objects=kept,
        last_run_at=now,
        failing_since=failing_since,
        revision=revision if revision is not None else previous.revision,
        source_errors=source_errors,
        cluster_unreachable=unreachable,
        git_stale=git_stale,
    )
    return history, out


def _error_lines(run: TargetRun) -> tuple[str, ...]:
    return (truncate(run.error),) if run.error else ()


def _object_transitions(
    objects: dict[ResourceKey, ObjectHistory],
    report: TargetReport,
    run: TargetRun,
    now: float,
    revision: GitRevision | None,
) -> list[Transition]:
    """Update ``objects`` in place from ``report``; return the object transitions, by key."""
    out: list[Transition] = []
    seen: set[ResourceKey] = set()
    for obj in report.objects:
        seen.add(obj.key)
        if obj.state is DriftState.UNKNOWN:
            continue  # unknown is not absent: keep whatever was known
        prev = objects.get(obj.key)
        if obj.state in DRIFT_STATES:
            entry, transition = _drifted(prev, obj, run.target, now, revision)
            objects[obj.key] = entry
            if transition is not None:
                out.append(transition)
        elif prev is not None:
            if prev.drifted:
                objects[obj.key], transition = _resolved(prev, obj, run.target, now, revision)
                out.append(transition)
            else:
                objects[obj.key] = replace(prev, last_seen=now)
    # An object the report no longer lists left Git and the cluster -- unless we
    # cannot tell: its type was not read, a source file was unreadable, no cluster.
    if not run.cluster_unreachable:
        for key, prev in sorted(objects.items()):
            if key in seen or not prev.drifted or report.keeps_previous(key, None):
                continue
            objects[key], transition = _resolved(prev, None, run.target, now, revision)
            out.append(transition)
    out.sort(key=lambda t: t.key or ResourceKey("", "", "", ""))
    return out


def _drifted(
    prev: ObjectHistory | None,
    obj: ObjectDrift,
    target: str,
    now: float,
    revision: GitRevision | None,
) -> tuple[ObjectHistory, Transition | None]:
    fingerprint = fields_fingerprint(obj.state, obj.fields)
    paths = tuple(f.path for f in obj.fields)
    if prev is None or not prev.drifted:
        entry = ObjectHistory(
            obj.key,
            obj.state,
            first_seen_drifted=now,
            state_since=now,
            last_seen=now,
            last_change=now,
            fingerprint=fingerprint,
            paths=paths,
        )
        return entry, Transition(
            _ENTERED[obj.state],
            target,
            now,
            key=obj.key,
            state=obj.state,
            previous_state=prev.state if prev is not None else None,
            drift=obj,
            first_seen=now,
            revision=revision,
        )
    first_seen = prev.first_seen_drifted if prev.first_seen_drifted is not None else now
    age = max(0.0, now - first_seen)
    if prev.state is not obj.state:
        entry = replace(
            prev,
            state=obj.state,
            state_since=now,
            last_seen=now,
            last_change=now,
            fingerprint=fingerprint,
            paths=paths,
            first_seen_drifted=first_seen,
        )
        kind = _ENTERED[obj.state]
    elif prev.fingerprint != fingerprint:
        entry = replace(prev, last_seen=now, last_change=now, fingerprint=fingerprint, paths=paths)
        kind = TransitionType.DRIFT_CHANGED
    else:
        return replace(prev, last_seen=now), None
    return entry, Transition(
        kind,
        target,
        now,
        key=obj.key,
        state=obj.state,
        previous_state=prev.state,
        drift=obj,
        previous_paths=prev.paths,
        first_seen=first_seen,
        duration=age,
        revision=revision,
    )


def _resolved(
    prev: ObjectHistory,
    obj: ObjectDrift | None,
    target: str,
    now: float,
    revision: GitRevision | None,
) -> tuple[ObjectHistory, Transition]:
    kind = (
        TransitionType.DRIFT_RESOLVED
        if prev.state is DriftState.MODIFIED
        else TransitionType.RESOURCE_RESTORED
    )
    first_seen = prev.first_seen_drifted
    entry = replace(
        prev,
        state=DriftState.IN_SYNC,
        state_since=now,
        last_seen=now if obj else prev.last_seen,
        last_change=now,
        resolved_at=now,
        fingerprint="",
        paths=(),
    )
    return entry, Transition(
        kind,
        target,
        now,
        key=prev.key,
        state=DriftState.IN_SYNC,
        previous_state=prev.state,
        drift=obj,
        previous_paths=prev.paths,
        first_seen=first_seen,
        duration=None if first_seen is None else max(0.0, now - first_seen),
        revision=revision,
    )

"""Which side moved: the cluster (a hand edit) or Git (a change not yet applied).

Pure: a drift report, the live bodies and a small view of Git history in, the
same report with a direction per drifted field and object out.  The server keeps
the applier's record of what it last applied; Git history says whether that
applied value was ever Git's.  Per drifted field:

- client-side apply (``last-applied-configuration``): live differs from the
  record, or a person's manager owns the field => the cluster moved.  The record
  differs from Git => Git moved, but only if an earlier commit declared the
  recorded value (else a copy edited outside Git was applied => cluster).
- server-side apply (an applier's ``Apply`` entry): a field the entry owns holds
  the value it applied => ``git`` if an earlier commit declared it, else
  ``cluster``; a field a person's manager owns => ``cluster`` (``both`` when Git
  changed the path after the entry's time); a field nobody owns => ``git`` when
  the commit that changed its declaration is newer than the entry's time, else
  ``cluster``.
- Helm and other ``Update`` appliers: a person's manager owning the field =>
  ``cluster``; otherwise their record does not decide => ``unknown``.

Per object: ``both`` when fields moved on both sides, else the one side, else
``unknown``.  A missing object is ``git`` when the commit that added its
declaration is newer than the applier's latest write on the target's other
objects, else ``cluster`` (a no-op apply leaves managedFields times unchanged,
so this can call a pending object deleted).  An unmanaged object that carries
the applier's record is ``git`` (a pending prune) when an earlier commit
declared it, else ``cluster``; one without the record was made by hand.
Git-side attribution is the newest commit whose version of the object differs
at the drifted path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from driftwatch.compare.applied import last_applied, value_at
from driftwatch.compare.managed import ManagerEntry, Ownership, parse_entries
from driftwatch.compare.managers import ManagerRoles, Role
from driftwatch.compare.paths import Path, parse
from driftwatch.compare.schema import SchemaIndex, SchemaNode, index_for
from driftwatch.compare.walk import diff as walk_diff
from driftwatch.model import (
    DRIFT_STATES,
    DeclarationHistory,
    DesiredSet,
    Direction,
    DriftState,
    FieldDrift,
    GitRevision,
    LiveSnapshot,
    Manifest,
    ObjectDrift,
    ResourceKey,
    TargetReport,
    split_api_version,
)

Found = tuple[bool, Any]
_ABSENT: Found = (False, None)


def needs_history(obj: ObjectDrift, live: Manifest | None, roles: ManagerRoles) -> bool:
    """Whether deciding ``obj``'s direction may read Git history (so a clean run reads none)."""
    if obj.state in (DriftState.MODIFIED, DriftState.MISSING):
        return True
    return obj.state is DriftState.UNMANAGED and live is not None and carries_record(live, roles)


def carries_record(live: Manifest, roles: ManagerRoles) -> bool:
    """Whether a live object holds the Git applier's own record (it was applied, not made)."""
    if last_applied(live) is not None:
        return True
    entries = parse_entries(live.get("metadata") or {})
    return any(roles.role(e) is Role.APPLIER for e in entries)


def latest_apply(bodies: Iterable[Manifest], roles: ManagerRoles) -> str | None:
    """The newest write time of the Git applier (top-level, no subresource) on these objects."""
    best: str | None = None
    for body in bodies:
        for entry in parse_entries(body.get("metadata") or {}):
            if entry.subresource is None and roles.role(entry) is Role.APPLIER and entry.time:
                if best is None or _after(entry.time, best):
                    best = entry.time
    return best


@dataclass(frozen=True, slots=True)
class DirectionContext:
    """What every object of one target shares when its direction is decided."""

    roles: ManagerRoles
    schema: SchemaIndex
    histories: Mapping[ResourceKey, DeclarationHistory]
    """Git history per drifted object; an absent entry means history is unknown."""
    last_apply: str | None = None
    """``latest_apply`` over the target's declared live objects."""


def direct(
    obj: ObjectDrift, desired: Manifest | None, live: Manifest | None, ctx: DirectionContext
) -> ObjectDrift:
    """``obj`` with its direction (and Git-side commit) decided; in-sync objects unchanged."""
    history = ctx.histories.get(obj.key)
    if obj.state is DriftState.MISSING:
        direction, commit = _missing(history, ctx.last_apply)
        return replace(obj, direction=direction, git_commit=commit)
    if obj.state is DriftState.UNMANAGED:
        direction, commit = _unmanaged(history, live, ctx.roles)
        return replace(obj, direction=direction, git_commit=commit)
    if obj.state is not DriftState.MODIFIED or desired is None or live is None:
        return obj
    record = _Record.of(live, ctx.roles)
    group, version = split_api_version(str(live.get("apiVersion", "")))
    root = ctx.schema.root(group, version, obj.key.kind)
    fields = tuple(_field(f, desired, live, record, history, root) for f in obj.fields)
    return replace(
        obj,
        fields=fields,
        direction=combine(f.direction for f in fields),
        git_commit=_newest(f.git_commit for f in fields),
    )


def assign(
    report: TargetReport,
    desired: DesiredSet,
    live: LiveSnapshot,
    roles: ManagerRoles,
    histories: Mapping[ResourceKey, DeclarationHistory],
) -> TargetReport:
    """``report`` with every drifted object's direction decided (objects replaced in place)."""
    bodies: dict[ResourceKey, Manifest] = {}
    for key, obj in desired.objects.items():
        bodies[key] = obj.body
        bodies.setdefault(key._replace(namespace=""), obj.body)
    declared_live = (live.objects[k] for k in bodies if k in live.objects)
    ctx = DirectionContext(
        roles, index_for(live.openapi), histories, latest_apply(declared_live, roles)
    )
    report.objects = [
        direct(o, bodies.get(o.key), live.objects.get(o.key), ctx) if o.state in DRIFT_STATES else o
        for o in report.objects
    ]
    return report


def combine(directions: Iterable[Direction]) -> Direction:
    """One object's direction from its fields': a field moved in the cluster outweighs unknowns."""
    seen = set(directions)
    cluster = bool(seen & {Direction.CLUSTER, Direction.BOTH})
    git = bool(seen & {Direction.GIT, Direction.BOTH})
    if cluster and git:
        return Direction.BOTH
    if cluster:
        return Direction.CLUSTER
    if git and Direction.UNKNOWN not in seen:
        return Direction.GIT
    return Direction.UNKNOWN


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class _Record:
    """The applier's record on one live object, and who else owns what."""

    ownership: Ownership
    roles: ManagerRoles
    applied: Mapping[str, Any] | None
    """Client-side apply: the last-applied manifest."""
    apply_entry: ManagerEntry | None
    """Server-side apply: the newest applier ``Apply`` entry."""
    has_fields: bool

    @classmethod
    def of(cls, live: Manifest, roles: ManagerRoles) -> _Record:
        metadata = live.get("metadata") or {}
        entries = parse_entries(metadata)
        applies = [e for e in entries if e.operation == "Apply" and roles.role(e) is Role.APPLIER]
        newest = max(applies, key=lambda e: e.time or "", default=None)
        return cls(
            Ownership(entries), roles, last_applied(live), newest, "managedFields" in metadata
        )

    def person_owner(self, path: Path) -> ManagerEntry | None:
        """The newest non-applier, non-controller manager owning ``path``, if any."""
        people = [e for e, _ in self.ownership.owners(path) if self.roles.role(e) is Role.PERSON]
        return max(people, key=lambda e: e.time or "", default=None)


def _field(
    drift: FieldDrift,
    desired: Manifest,
    live: Manifest,
    record: _Record,
    history: DeclarationHistory | None,
    root: SchemaNode | None,
) -> FieldDrift:
    try:
        path = parse(drift.path)
    except ValueError:
        return drift
    node = _node_at(root, path)
    now = value_at(desired, path)
    have = value_at(live, path)
    person = record.person_owner(path) if record.has_fields else None
    if record.applied is not None:
        applied = value_at(record.applied, path)
        moved = person is not None or _cluster_moved(applied, have, node)
        direction = _from_applied(applied, now, moved, path, node, history)
    elif record.apply_entry is not None:
        direction = _server_side(record, person, have, now, path, node, history)
    else:
        direction = Direction.CLUSTER if person is not None else Direction.UNKNOWN
    commit = None
    if direction in (Direction.GIT, Direction.BOTH) and history is not None:
        commit = changed_at(history, path, node)
    return replace(drift, direction=direction, git_commit=commit)


def _cluster_moved(applied: Found, have: Found, node: SchemaNode | None) -> bool:
    """Live no longer holds what the client-side applier sent (a default is not a move)."""
    if applied[0] and have[0]:
        return not _holds(applied[1], have[1], node)
    return applied[0] != have[0] and applied[0]


def _from_applied(
    applied: Found,
    now: Found,
    moved: bool,
    path: Path,
    node: SchemaNode | None,
    history: DeclarationHistory | None,
) -> Direction:
    """The direction when the applier's value at ``path`` is known."""
    if _same(applied, now, node):
        return Direction.CLUSTER if moved else Direction.UNKNOWN
    if history is None:
        return Direction.CLUSTER if moved else Direction.UNKNOWN
    if not declared_earlier(history, path, applied, node):
        if not history.complete:  # declared before the oldest commit read, perhaps
            return Direction.CLUSTER if moved else Direction.UNKNOWN
        return Direction.CLUSTER  # applied from outside Git
    return Direction.BOTH if moved else Direction.GIT


def _server_side(
    record: _Record,
    person: ManagerEntry | None,
    have: Found,
    now: Found,
    path: Path,
    node: SchemaNode | None,
    history: DeclarationHistory | None,
) -> Direction:
    entry = record.apply_entry
    assert entry is not None
    if person is not None:
        later = _git_changed_after(history, path, node, entry.time)
        return Direction.BOTH if later else Direction.CLUSTER
    if have[0] and record.ownership.locate(entry, path) is not None:
        return _from_applied(have, now, False, path, node, history)
    later = _git_changed_after(history, path, node, entry.time)
    if later is None:
        return Direction.UNKNOWN
    return Direction.GIT if later else Direction.CLUSTER


def _git_changed_after(
    history: DeclarationHistory | None, path: Path, node: SchemaNode | None, time: str | None
) -> bool | None:
    """Whether the declaration at ``path`` last changed after ``time`` (None: cannot tell)."""
    if history is None or not time:
        return None
    commit = changed_at(history, path, node)
    if commit is None:
        return None if not history.complete else False
    return _after(commit.time, time)


# --------------------------------------------------------------------------- history


def declared_earlier(
    history: DeclarationHistory, path: Path, value: Found, node: SchemaNode | None
) -> bool:
    """Whether some commit's version of the object held ``value`` at ``path``.

    ``value`` may carry server defaults below ``path`` (server-side apply reads it
    from live), so a declaration it holds counts.
    """
    for _, body in history.versions:
        if body is None:
            continue
        declared = value_at(body, path)
        if declared[0] == value[0] and (not value[0] or _holds(declared[1], value[1], node)):
            return True
    return False


def changed_at(
    history: DeclarationHistory, path: Path, node: SchemaNode | None
) -> GitRevision | None:
    """The newest commit whose version of the object differs at ``path`` from the one before."""
    versions = history.versions
    for i, (commit, body) in enumerate(versions):
        here = value_at(body, path) if body is not None else _ABSENT
        if i + 1 < len(versions):
            older = versions[i + 1][1]
            before = value_at(older, path) if older is not None else _ABSENT
            if not _same(here, before, node):
                return commit
        elif history.complete and here[0]:
            return commit
    return None


def _missing(
    history: DeclarationHistory | None, last_apply: str | None
) -> tuple[Direction, GitRevision | None]:
    """Declared after the applier's latest write => not applied yet; else deleted."""
    if history is None or last_apply is None:
        return Direction.UNKNOWN, None
    added: GitRevision | None = None
    for commit, body in history.versions:
        if body is None:
            break
        added = commit
    else:
        if not history.complete:  # the declaration is older than the oldest version read
            if added is not None and not _after(added.time, last_apply):
                return Direction.CLUSTER, None
            return Direction.UNKNOWN, None
    if added is None:
        return Direction.UNKNOWN, None
    if _after(added.time, last_apply):
        return Direction.GIT, added
    return Direction.CLUSTER, None


def _unmanaged(
    history: DeclarationHistory | None, live: Manifest | None, roles: ManagerRoles
) -> tuple[Direction, GitRevision | None]:
    """Applied and since removed from Git => a pending prune; otherwise made by hand."""
    if live is None or not carries_record(live, roles):
        return Direction.CLUSTER, None
    if history is None:
        return Direction.UNKNOWN, None
    removed: GitRevision | None = None
    for commit, body in history.versions:
        if body is not None:
            return Direction.GIT, removed
        removed = commit
    return (Direction.CLUSTER if history.complete else Direction.UNKNOWN), None


# --------------------------------------------------------------------------- values


def _same(a: Found, b: Found, node: SchemaNode | None) -> bool:
    if a[0] != b[0]:
        return False
    return not a[0] or next(walk_diff(a[1], b[1], node), None) is None


def _holds(sent: Any, live: Any, node: SchemaNode | None) -> bool:
    """Live still holds what was sent (fields the server added below do not count)."""
    return next(walk_diff(sent, live, node, added_fields=False), None) is None


def _node_at(root: SchemaNode | None, path: Sequence[Any]) -> SchemaNode | None:
    node = root
    for seg in path:
        if node is None:
            return None
        node = node.child(seg) if isinstance(seg, str) else node.items
    return node


def _after(a: str, b: str) -> bool:
    """Whether RFC 3339 time ``a`` is strictly after ``b`` (offsets honoured)."""
    try:
        return _parse_time(a) > _parse_time(b)
    except ValueError:
        return a > b


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _newest(commits: Iterable[GitRevision | None]) -> GitRevision | None:
    best: GitRevision | None = None
    for commit in commits:
        if commit is not None and (best is None or _after(commit.time, best.time)):
            best = commit
    return best

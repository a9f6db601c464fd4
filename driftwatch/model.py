"""The plain data that flows through driftwatch's pipeline, stage to stage.

Git source -> render -> ``DesiredSet``; cluster -> snapshot -> ``LiveSnapshot``;
compare (pure) -> ``TargetReport`` -> sinks.  Every stage takes and returns these
types, so a stage can be tested, replaced or benchmarked on its own.  Nothing here
does I/O.

Identity is ``ResourceKey`` (group, kind, namespace, name) and never the
apiVersion: the same object read at another version is the same object.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

Manifest: TypeAlias = dict[str, Any]
"""A Kubernetes object as plain JSON-like data (desired manifest or live body)."""


class ResourceKey(NamedTuple):
    """Who an object is: group ('' for core), kind, namespace ('' if cluster-scoped), name."""

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def group_kind(self) -> GroupKind:
        """The type part of the key."""
        return GroupKind(self.group, self.kind)

    def unscoped(self) -> ResourceKey:
        """This key as a cluster-scoped kind has it: no namespace."""
        return self._replace(namespace="")

    def scopings(self) -> tuple[ResourceKey, ResourceKey]:
        """This key and its cluster-scoped form: a declared key before discovery says which."""
        return self, self._replace(namespace="")

    def display(self) -> str:
        """``Kind.group/namespace/name`` as people read it (``Deployment.apps/shop/api``)."""
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind}/{self.namespace}/{self.name}" if self.namespace else f"{kind}/{self.name}"


class GroupKind(NamedTuple):
    """A resource type without its version."""

    group: str
    kind: str

    def display(self) -> str:
        """``Kind.group`` or ``Kind`` for the core group."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def key_of(body: Mapping[str, Any], default_namespace: str = "") -> ResourceKey:
    """The identity of a manifest or live object (no validation: callers validate)."""
    group, _ = split_api_version(str(body.get("apiVersion", "")))
    meta = body.get("metadata") or {}
    return ResourceKey(
        group,
        str(body.get("kind", "")),
        str(meta.get("namespace") or default_namespace),
        str(meta.get("name", "")),
    )


# --------------------------------------------------------------------------- desired side


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where in the rendered Git source a desired object came from."""

    file: str
    document: int = 0
    line: int | None = None

    def display(self) -> str:
        """``path/to/file.yaml:12`` or ``path/to/file.yaml#2`` for people."""
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file}#{self.document}" if self.document else self.file


@dataclass(frozen=True, slots=True)
class SourceError:
    """An input driftwatch could not read; the rest of the target is still compared."""

    file: str
    message: str
    line: int | None = None

    def display(self) -> str:
        """``file:line: message``."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class GitRevision:
    """The commit a desired set was rendered from."""

    sha: str
    ref: str
    author: str = ""
    time: str = ""
    """Commit time, RFC 3339."""
    subject: str = ""
    repository: str = ""
    """Repository URL with any credentials stripped."""
    note: str = ""
    """What a reader must know about which files were compared (uncommitted changes)."""


@dataclass(frozen=True, slots=True)
class DesiredObject:
    """One object Git declares, as rendered, with where it came from."""

    key: ResourceKey
    api_version: str
    body: Manifest
    origin: SourceLocation


@dataclass(slots=True)
class DesiredSet:
    """Everything one target declares at one revision, plus what could not be read."""

    target: str
    objects: dict[ResourceKey, DesiredObject] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)
    revision: GitRevision | None = None
    from_cache: bool = False
    """True when the render was skipped because its inputs had not changed."""


# --------------------------------------------------------------------------- live side


class ReadState(enum.StrEnum):
    """How completely a resource type was read from the cluster."""

    COMPLETE = "complete"
    """Every page was read: an object absent from it is absent from the cluster."""
    FAILED = "failed"
    """The read failed: its objects are unknown, never missing."""
    NOT_SERVED = "not_served"
    """The cluster does not serve this kind at all (e.g. CRD not installed)."""


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A servable resource type as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group_kind(self) -> GroupKind:
        """The type without its version."""
        return GroupKind(self.group, self.kind)

    @property
    def api_version(self) -> str:
        """``group/version`` or ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class TypeRead:
    """The outcome of reading one resource type."""

    group_kind: GroupKind
    state: ReadState
    resource: ResourceType | None = None
    namespaces: tuple[str, ...] | None = None
    """Namespaces read; None means all namespaces (or cluster-scoped)."""
    error: str | None = None
    resource_version: str | None = None
    """The list's resourceVersion, from which a watch can resume."""
    label_selector: str | None = None
    """Set when only objects matching it were read (kinds scanned for unmanaged objects):
    an object absent from such a read may still exist."""
    scope_note: str | None = None
    """Why a namespace this read did not cover is unknown, when the reason is not "not
    read" (a foreign dump covers only the namespaces it holds items in); ``{kind}`` and
    ``{namespace}`` are filled in."""

    def key_for(self, key: ResourceKey) -> ResourceKey:
        """A declared key as the cluster keys it: without a namespace if the kind is cluster-wide.

        Rendering guesses the scope of kinds it does not know; discovery (this read's
        resource) has the last word.
        """
        if key.namespace and self.resource is not None and not self.resource.namespaced:
            return key.unscoped()
        return key

    def covers(self, namespace: str) -> bool:
        """Whether an object in ``namespace`` would have been seen by this read."""
        return self.namespaces is None or namespace in self.namespaces


@dataclass(slots=True)
class LiveSnapshot:
    """What the cluster held, per resource type, at one moment.

    ``objects`` holds live bodies keyed by identity.  ``types`` says, per type,
    whether it was read completely; a type missing from ``types`` was not read.
    """

    objects: dict[ResourceKey, Manifest] = field(default_factory=dict)
    types: dict[GroupKind, TypeRead] = field(default_factory=dict)
    taken_at: str = ""
    """RFC 3339 time the snapshot finished."""
    taken_at_estimate: str = ""
    """Non-empty when ``taken_at`` is an estimate: what it was estimated from."""
    server_version: str | None = None
    openapi: dict[str, Any] = field(default_factory=dict)
    """OpenAPI v3 documents by path (``api/v1``, ``apis/apps/v1``), for list keys."""
    managed_fields_present: bool = True
    """False for a foreign dump without managedFields: attribution is then unknown."""
    secrets_hashed: bool = False
    """True when Secret values were replaced by keyed hashes (saved snapshots)."""


# --------------------------------------------------------------------------- drift report


class DriftState(enum.StrEnum):
    """The verdict for one object."""

    IN_SYNC = "in_sync"
    MODIFIED = "modified"
    MISSING = "missing"
    UNMANAGED = "unmanaged"
    UNKNOWN = "unknown"


class ChangeKind(enum.StrEnum):
    """What happened at a drifted field path."""

    CHANGED = "changed"
    """Declared value differs from the live one."""
    ADDED = "added"
    """Live has a field, key or list item that Git does not declare."""
    REMOVED = "removed"
    """Git declares a field, key or list item that live lacks."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who last wrote a live field, from ``metadata.managedFields``."""

    manager: str | None
    operation: str | None = None
    subresource: str | None = None
    time: str | None = None

    @property
    def known(self) -> bool:
        """Whether any manager owns the value."""
        return self.manager is not None

    def display(self) -> str:
        """``kubectl-edit (Update) at 2026-...`` or ``unknown``."""
        if self.manager is None:
            return "unknown"
        parts = [self.manager]
        if self.operation:
            op = self.operation + (f"/{self.subresource}" if self.subresource else "")
            parts.append(f"({op})")
        if self.time:
            parts.append(f"at {self.time}")
        return " ".join(parts)

    def described(self) -> str:
        """``kubectl-create (Update) at 2026-...``, or ``..., time unknown`` without a time."""
        if self.manager is None:
            return "unknown"
        return self.display() if self.time else f"{self.display()}, time unknown"


UNATTRIBUTED = Attribution(None)


class Direction(enum.StrEnum):
    """Which side moved since the Git applier's last apply (``compare.direction``)."""

    CLUSTER = "cluster"
    """The live value was changed after the last apply (a hand edit, a script)."""
    GIT = "git"
    """The cluster holds what the applier last applied; Git has changed since (sync lag)."""
    BOTH = "both"
    """Both sides moved: Git changed the field and the cluster changed it too, or
    different fields of one object moved on each side."""
    UNKNOWN = "unknown"
    """The applier's record (or Git history) cannot decide."""


@dataclass(frozen=True, slots=True)
class DeclarationHistory:
    """What Git declared for one object at the commits that touched its source, newest first.

    Each version is (commit, the object's body at that commit or None when the
    commit did not declare it).  ``complete``: the versions reach back to the
    source's first commit, so before the oldest one the object was not declared.
    """

    versions: tuple[tuple[GitRevision, Manifest | None], ...] = ()
    complete: bool = False


@dataclass(frozen=True, slots=True)
class FieldDrift:
    """One drifted field: the path, both values (already redacted) and who set it.

    ``desired``/``live`` are JSON-like values; ``None`` with ADDED/REMOVED means
    the side lacks the field.  Secret values arrive here only as fingerprints.
    """

    path: str
    change: ChangeKind
    desired: Any
    live: Any
    attribution: Attribution = UNATTRIBUTED
    direction: Direction = Direction.UNKNOWN
    git_commit: GitRevision | None = None
    """For ``git``/``both``: the newest commit that changed this path's declaration."""


@dataclass(frozen=True, slots=True)
class IgnoredDrift:
    """A difference seen and deliberately not called drift, with the rule that said so."""

    path: str
    rule: str
    attribution: Attribution = UNATTRIBUTED


@dataclass(frozen=True, slots=True)
class ObjectDrift:
    """The verdict for one object of a target."""

    key: ResourceKey
    state: DriftState
    fields: tuple[FieldDrift, ...] = ()
    ignored: tuple[IgnoredDrift, ...] = ()
    reason: str | None = None
    """Why, where the state alone does not say (``kind not served``, a read error)."""
    origin: SourceLocation | None = None
    api_version: str | None = None
    created_by: Attribution | None = None
    """For a live object not in Git (UNMANAGED): the ``managedFields`` entry that created it."""
    changed_by: Attribution | None = None
    """For a live object not in Git: the entry that changed it last."""
    direction: Direction = Direction.UNKNOWN
    """Which side moved (meaningful for drifted objects)."""
    git_commit: GitRevision | None = None
    """For ``git``/``both``: the commit that changed this object's declaration."""

    @property
    def attribution(self) -> Attribution:
        """The most recent attributed change among the drifted fields.

        An object that is drift as a whole (UNMANAGED: no drifted field) is
        attributed to whoever created it.
        """
        if not self.fields and self.created_by is not None:
            return self.created_by
        latest = UNATTRIBUTED
        for drift in self.fields:
            att = drift.attribution
            if att.manager is not None and (
                latest.manager is None or (att.time or "") > (latest.time or "")
            ):
                latest = att
        return latest


@dataclass(slots=True)
class TargetReport:
    """The drift of one target at one moment."""

    target: str
    objects: list[ObjectDrift] = field(default_factory=list)
    """Every compared object, in sync ones included, sorted by key."""
    revision: GitRevision | None = None
    snapshot_time: str = ""
    snapshot_time_estimate: str = ""
    """Non-empty when ``snapshot_time`` is estimated (a foreign dump): from what."""
    source_errors: list[SourceError] = field(default_factory=list)
    read_errors: dict[GroupKind, str] = field(default_factory=dict)
    """Types whose read failed: their objects are UNKNOWN."""
    ignored_count: int = 0

    def totals(self) -> dict[DriftState, int]:
        """Count of objects per state (every state present, zero included)."""
        counts = dict.fromkeys(DriftState, 0)
        for obj in self.objects:
            counts[obj.state] += 1
        return counts

    @property
    def drifted(self) -> list[ObjectDrift]:
        """Objects that are modified, missing or unmanaged."""
        return [o for o in self.objects if o.state in DRIFT_STATES]

    def keeps_previous(self, key: ResourceKey, state: DriftState | None) -> bool:
        """Whether an earlier verdict on ``key`` still stands: unknown is not absent.

        ``state`` is this report's verdict on ``key`` (None: not listed).  It stands
        when this report calls the object unknown, or no longer lists it while
        something that could hide it failed: its type's read, or a Git source file.
        """
        if state is DriftState.UNKNOWN:
            return True
        return state is None and (key.group_kind in self.read_errors or bool(self.source_errors))

    def still_standing(self, previous: Iterable[ObjectDrift]) -> list[ObjectDrift]:
        """The drifted verdicts of ``previous`` that this report cannot overturn, by key."""
        states = {o.key: o.state for o in self.objects}
        return sorted(
            (
                o
                for o in previous
                if o.state in DRIFT_STATES and self.keeps_previous(o.key, states.get(o.key))
            ),
            key=lambda o: o.key,
        )

    @property
    def complete(self) -> bool:
        """True when everything could be compared (no unknown object, no bad input)."""
        return (
            not self.source_errors
            and not self.read_errors
            and all(o.state is not DriftState.UNKNOWN for o in self.objects)
        )


DRIFT_STATES = frozenset({DriftState.MODIFIED, DriftState.MISSING, DriftState.UNMANAGED})

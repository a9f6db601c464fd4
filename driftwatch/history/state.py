"""What driftwatch remembers about a target between runs, as plain immutable data.

An event says what *changed*, so each run is compared with what the previous
runs saw: per object, its last known drift state, since when it has drifted and
a fingerprint of its drifted fields; per target, the last Git revision, whether
runs are failing, the set of source errors and whether the cluster was reachable.

Only objects that are or were drifted are remembered (in-sync objects that never
drifted carry no information).  This module is pure: (de)serialisation to JSON
data lives here, file I/O in ``driftwatch.history.store``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftwatch.model import DRIFT_STATES, DriftState, FieldDrift, GitRevision, ResourceKey

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ObjectHistory:
    """What is remembered about one object of a target.

    ``first_seen_drifted`` is the start of the current (or last) drift episode:
    the object has been modified, missing or unmanaged without interruption since
    then; ``state_since`` is when the current state began; ``last_change`` when
    the drifted fields or values last changed; ``resolved_at`` when the object was
    last seen back in sync (``None`` while drifted).
    """

    key: ResourceKey
    state: DriftState
    first_seen_drifted: float | None
    state_since: float
    last_seen: float
    last_change: float
    resolved_at: float | None = None
    fingerprint: str = ""
    paths: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        """Whether the object is currently modified, missing or unmanaged."""
        return self.state in DRIFT_STATES

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data for the state file."""
        return {
            "group": self.key.group,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "state": self.state.value,
            "firstSeenDrifted": self.first_seen_drifted,
            "stateSince": self.state_since,
            "lastSeen": self.last_seen,
            "lastChange": self.last_change,
            "resolvedAt": self.resolved_at,
            "fingerprint": self.fingerprint,
            "paths": list(self.paths),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectHistory:
        """Inverse of ``to_json`` (KeyError/ValueError on a malformed entry)."""
        return cls(
            key=ResourceKey(
                str(data["group"]), str(data["kind"]), str(data["namespace"]), str(data["name"])
            ),
            state=DriftState(data["state"]),
            first_seen_drifted=_opt_float(data.get("firstSeenDrifted")),
            state_since=float(data["stateSince"]),
            last_seen=float(data["lastSeen"]),
            last_change=float(data["lastChange"]),
            resolved_at=_opt_float(data.get("resolvedAt")),
            fingerprint=str(data.get("fingerprint", "")),
            paths=tuple(str(p) for p in data.get("paths", ())),
        )


@dataclass(frozen=True, slots=True)
class TargetHistory:
    """Everything remembered about one target."""

    target: str
    objects: Mapping[ResourceKey, ObjectHistory] = field(default_factory=dict)
    last_run_at: float | None = None
    failing_since: float | None = None
    """Set while runs fail (time of the first failed run), else None."""
    revision: GitRevision | None = None
    source_errors: str = ""
    """Fingerprint of the last known set of source errors ('' when there were none)."""
    cluster_unreachable: bool = False
    git_stale: bool = False
    """Set while Git cannot be fetched and the last good commit is compared."""

    def first_seen(self, key: ResourceKey) -> float | None:
        """When ``key`` was first seen drifted in its current episode (None if not drifted)."""
        entry = self.objects.get(key)
        return entry.first_seen_drifted if entry is not None and entry.drifted else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data for the state file."""
        rev = self.revision
        return {
            "version": FORMAT_VERSION,
            "target": self.target,
            "lastRunAt": self.last_run_at,
            "failingSince": self.failing_since,
            "revision": None if rev is None else {"sha": rev.sha, "ref": rev.ref},
            "sourceErrors": self.source_errors,
            "clusterUnreachable": self.cluster_unreachable,
            "gitStale": self.git_stale,
            "objects": [self.objects[k].to_json() for k in sorted(self.objects)],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetHistory:
        """Inverse of ``to_json`` (KeyError/ValueError/TypeError on malformed data)."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported history format version {data.get('version')!r}")
        rev = data.get("revision")
        objects = [ObjectHistory.from_json(o) for o in data.get("objects", ())]
        return cls(
            target=str(data["target"]),
            objects={o.key: o for o in objects},
            last_run_at=_opt_float(data.get("lastRunAt")),
            failing_since=_opt_float(data.get("failingSince")),
            revision=None if not rev else GitRevision(sha=str(rev["sha"]), ref=str(rev["ref"])),
            source_errors=str(data.get("sourceErrors", "")),
            cluster_unreachable=bool(data.get("clusterUnreachable", False)),
            git_stale=bool(data.get("gitStale", False)),
        )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def fields_fingerprint(state: DriftState, fields: Iterable[FieldDrift]) -> str:
    """A digest of the drift itself: state, paths, change kinds and (already redacted) values.

    Attribution is left out on purpose: another manager writing the same value
    again is not a change of the drift.
    """
    items = sorted(
        ([f.path, f.change.value, f.desired, f.live] for f in fields),
        key=lambda item: json.dumps(item, sort_keys=True, default=str),
    )
    payload = json.dumps([state.value, items], sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def errors_fingerprint(lines: Iterable[str]) -> str:
    """A digest of a set of error lines ('' for the empty set)."""
    unique = sorted(set(lines))
    if not unique:
        return ""
    return "sha256:" + hashlib.sha256("\n".join(unique).encode()).hexdigest()

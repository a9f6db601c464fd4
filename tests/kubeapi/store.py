"""The test server's object store: pre-serialized objects, a global resourceVersion, watch events.

Objects are kept per resource type, sorted as etcd keys sort them (namespace,
name), each with its JSON bytes made once, so a page of 500 of 50,000 objects
is a bisect and a ``b",".join``.  Tests change served objects through
``put``/``delete`` (never through HTTP writes): each change bumps the global
resourceVersion and appends a watch event.  ``compact`` makes every older
resourceVersion "too old", as an etcd compaction does.

Limitation, documented: an object is served at any version its group serves
with only ``apiVersion`` rewritten (no schema conversion), and continued list
pages are cut from the current state rather than an MVCC snapshot.
"""

from __future__ import annotations

import bisect
import copy
import gc
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .recordings import TypeDef, type_defs

ObjKey = tuple[str, str]
"""(namespace, name) — namespace '' for cluster-scoped objects."""
TypeId = tuple[str, str]
"""(group, plural)."""


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class Stored:
    """One object with its serialized forms."""

    body: dict[str, Any]
    full: bytes
    """With apiVersion/kind: GET and watch events."""
    item: bytes
    """As a list item: built-in types omit apiVersion/kind, as the real server does."""
    labels: dict[str, str]
    meta: dict[str, Any]


@dataclass(slots=True)
class Event:
    """One change, as a watch stream sends it."""

    rv: int
    type: str
    key: ObjKey
    stored: Stored


@dataclass(slots=True)
class Bucket:
    """All objects of one resource type."""

    typedef: TypeDef
    keys: list[ObjKey] = field(default_factory=list)
    objects: dict[ObjKey, Stored] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


class StoreError(ValueError):
    """A seed or put the store cannot place (unknown kind, no name)."""


class Store:
    """Thread-safe object store with a global resourceVersion counter."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.resource_version = 1
        self.compacted = 0
        """Every resourceVersion below this is too old (410)."""
        self.hidden_groups: set[str] = set()
        self.openapi_documents: dict[str, bytes] = {}
        """Documents served instead of the recorded ones, by path (``apis/apps/v1``)."""
        self._by_kind: dict[tuple[str, str], TypeDef] = {}
        self._by_plural: dict[TypeId, TypeDef] = {}
        for td in type_defs():
            self._by_kind.setdefault((td.group, td.kind), td)
            self._by_plural.setdefault((td.group, td.plural), td)
        self._buckets: dict[TypeId, Bucket] = {}
        self._custom: set[TypeId] = set()

    # ------------------------------------------------------------------ types

    def typedef_for_kind(self, group: str, kind: str) -> TypeDef | None:
        """The resource serving ``kind`` in ``group``."""
        return self._by_kind.get((group, kind))

    def served(self, group: str, version: str, plural: str) -> TypeDef | None:
        """The type behind a request path, or None if this server does not serve it."""
        if group in self.hidden_groups:
            return None
        td = self._by_plural.get((group, plural))
        if td is None:
            return None
        from .recordings import discovery_doc

        doc = discovery_doc(group, version)
        if doc is None or not any(r["name"] == plural for r in doc["resources"]):
            return None
        return td

    def is_custom(self, typeid: TypeId) -> bool:
        """Whether a CRD defines this type (its list items then carry apiVersion/kind)."""
        return typeid in self._custom

    # ------------------------------------------------------------------ writes (test API)

    def _serialize(self, typeid: TypeId, body: dict[str, Any]) -> Stored:
        meta = body.get("metadata") or {}
        if typeid in self._custom:
            item = full = _dumps(body)
        else:
            item = _dumps({k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
            head = _dumps({"apiVersion": body.get("apiVersion"), "kind": body.get("kind")})
            full = head[:-1] + (b"," + item[1:] if len(item) > 2 else b"}")
        return Stored(body, full, item, dict(meta.get("labels") or {}), meta)

    def _place(self, body: Mapping[str, Any]) -> tuple[Bucket, ObjKey]:
        group, _, _version = str(body.get("apiVersion", "")).rpartition("/")
        td = self.typedef_for_kind(group, str(body.get("kind", "")))
        if td is None:
            raise StoreError(f"no recorded resource serves {body.get('kind')} in group {group!r}")
        meta = body.get("metadata") or {}
        name = meta.get("name")
        if not name:
            raise StoreError(f"{body.get('kind')} without metadata.name")
        namespace = str(meta.get("namespace") or "") if td.namespaced else ""
        typeid = (td.group, td.plural)
        bucket = self._buckets.get(typeid)
        if bucket is None:
            bucket = self._buckets[typeid] = Bucket(td)
        return bucket, (namespace, str(name))

    def seed(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Load objects as they are (their recorded resourceVersions kept), without events."""
        items = list(items)
        paused = gc.isenabled()
        gc.disable()  # tens of thousands of new long-lived dicts: see driftwatch.cluster.snapshot
        try:
            self._seed(items)
        finally:
            if paused:
                gc.enable()

    def _seed(self, items: list[Mapping[str, Any]]) -> None:
        with self.lock:
            for body in items:
                if body.get("kind") == "CustomResourceDefinition":
                    self._mark_custom(body)
            touched: set[TypeId] = set()
            for body in items:
                bucket, key = self._place(body)
                typeid = (bucket.typedef.group, bucket.typedef.plural)
                bucket.objects[key] = self._serialize(typeid, dict(body))
                touched.add(typeid)
                rv = str((body.get("metadata") or {}).get("resourceVersion") or "0")
                if rv.isdigit():
                    self.resource_version = max(self.resource_version, int(rv))
            for typeid in touched:
                bucket = self._buckets[typeid]
                bucket.keys = sorted(bucket.objects)

    def _mark_custom(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        plural = (spec.get("names") or {}).get("plural")
        if spec.get("group") and plural:
            self._custom.add((str(spec["group"]), str(plural)))

    def put(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace an object: bumps resourceVersion, emits ADDED/MODIFIED."""
        with self.lock:
            body = copy.deepcopy(dict(given))
            bucket, key = self._place(body)
            typeid = (bucket.typedef.group, bucket.typedef.plural)
            self.resource_version += 1
            body.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)
            stored = self._serialize(typeid, body)
            kind = "MODIFIED" if key in bucket.objects else "ADDED"
            if kind == "ADDED":
                bisect.insort(bucket.keys, key)
            bucket.objects[key] = stored
            bucket.events.append(Event(self.resource_version, kind, key, stored))
            self.changed.notify_all()
            return body

    def delete(self, group: str, kind: str, namespace: str, name: str) -> None:
        """Remove an object: bumps resourceVersion, emits DELETED (KeyError if absent)."""
        with self.lock:
            td = self.typedef_for_kind(group, kind)
            bucket = self._buckets.get((td.group, td.plural)) if td else None
            key = (namespace if td and td.namespaced else "", name)
            if bucket is None or key not in bucket.objects:
                raise KeyError(f"{kind}.{group} {namespace}/{name}")
            old = bucket.objects.pop(key)
            bucket.keys.pop(bisect.bisect_left(bucket.keys, key))
            self.resource_version += 1
            body = copy.deepcopy(old.body)
            body["metadata"]["resourceVersion"] = str(self.resource_version)
            typeid = (bucket.typedef.group, bucket.typedef.plural)
            bucket.events.append(
                Event(self.resource_version, "DELETED", key, self._serialize(typeid, body))
            )
            self.changed.notify_all()

    def compact(self) -> int:
        """Make every resourceVersion before the current one too old; returns the new floor."""
        with self.lock:
            self.compacted = self.resource_version
            for bucket in self._buckets.values():
                bucket.events = [e for e in bucket.events if e.rv > self.compacted]
            self.changed.notify_all()
            return self.compacted

    # ------------------------------------------------------------------ reads

    def bucket(self, typeid: TypeId) -> Bucket | None:
        """The objects of a type (callers hold ``lock`` while reading it)."""
        return self._buckets.get(typeid)

    def get(self, group: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """A deep copy of a stored object, for tests."""
        with self.lock:
            td = self.typedef_for_kind(group, kind)
            bucket = self._buckets.get((td.group, td.plural)) if td else None
            stored = bucket.objects.get((namespace, name)) if bucket else None
            return copy.deepcopy(stored.body) if stored else None

    def all_objects(self) -> list[dict[str, Any]]:
        """Every stored object (deep copies), for tests and dumps."""
        with self.lock:
            return [
                copy.deepcopy(s.body) for b in self._buckets.values() for s in b.objects.values()
            ]

    def count(self) -> int:
        """How many objects are stored."""
        with self.lock:
            return sum(len(b.objects) for b in self._buckets.values())

"""Saved snapshots: a gzip ``kubectl get -o json``-shaped List plus driftwatch's own notes.

A saved file is ``{"apiVersion": "v1", "kind": "List", "items": [...], "metadata":
{"driftwatch": {...}}}``; the ``driftwatch`` block holds the format version, the
server version, when it was taken, per type whether it was read completely (and
at which resource), the OpenAPI documents used, and the ``key_id`` of the key
that fingerprinted its Secret values.  A saved snapshot never holds a Secret
value: every item goes through ``SecretHasher.redact`` before it is written.

Loading also takes plain JSON, and a foreign ``kubectl get -A -o json`` dump (a
List without the driftwatch block).  Such a dump cannot say which types or
namespaces it covered (``kubectl get deploy -n shop`` holds one namespace's
Deployments, ``-A`` all of them) or whether a read was cut short, so it proves
completeness only per (kind, namespace) pair it holds an item of: each kind
counts as read completely in exactly the namespaces it has items in (a
cluster-scoped kind: whole), and a declared object elsewhere — another
namespace, or a kind with no object in the dump — is unknown, never missing.  Its Secrets are plain
(``secrets_hashed=False``: the pipeline hashes them) and, as ``kubectl get``
leaves ``managedFields`` out by default, ``managed_fields_present`` is False
when no item carries them.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftwatch.errors import SnapshotFileError, truncate
from driftwatch.model import GroupKind, LiveSnapshot, ReadState, ResourceType, TypeRead, key_of
from driftwatch.redact import SecretHasher

FORMAT_VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"


def _type_entry(read: TypeRead) -> dict[str, Any]:
    resource = read.resource
    return {
        "group": read.group_kind.group,
        "kind": read.group_kind.kind,
        "state": read.state.value,
        "namespaces": list(read.namespaces) if read.namespaces is not None else None,
        "error": read.error,
        "resourceVersion": read.resource_version,
        "labelSelector": read.label_selector,
        "scopeNote": read.scope_note,
        "resource": None
        if resource is None
        else {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
            "plural": resource.plural,
            "namespaced": resource.namespaced,
        },
    }


def _type_read(entry: Any) -> TypeRead:
    group_kind = GroupKind(str(entry["group"]), str(entry["kind"]))
    res = entry.get("resource")
    resource = (
        None
        if not res
        else ResourceType(
            str(res["group"]),
            str(res["version"]),
            str(res["kind"]),
            str(res["plural"]),
            bool(res["namespaced"]),
        )
    )
    namespaces = entry.get("namespaces")
    return TypeRead(
        group_kind,
        ReadState(entry["state"]),
        resource,
        tuple(str(n) for n in namespaces) if namespaces is not None else None,
        entry.get("error"),
        entry.get("resourceVersion"),
        entry.get("labelSelector"),
        entry.get("scopeNote"),
    )


def save_snapshot(snapshot: LiveSnapshot, path: str | Path, hasher: SecretHasher) -> None:
    """Write ``snapshot`` (Secret values fingerprinted) as gzip JSON, atomically."""
    target = Path(path)
    items = [hasher.redact(snapshot.objects[key]) for key in sorted(snapshot.objects)]
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {
            "driftwatch": {
                "formatVersion": FORMAT_VERSION,
                "serverVersion": snapshot.server_version,
                "takenAt": snapshot.taken_at,
                "types": [_type_entry(snapshot.types[gk]) for gk in sorted(snapshot.types)],
                "openapi": snapshot.openapi,
                "keyId": hasher.key_id,
                "secretsHashed": True,
                "managedFieldsPresent": snapshot.managed_fields_present,
            }
        },
        "items": items,
    }
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise SnapshotFileError(f"cannot write snapshot {target}: {e.strerror or e}") from e


def _read_document(target: Path) -> Any:
    try:
        data = target.read_bytes()
    except OSError as e:
        raise SnapshotFileError(f"cannot read snapshot {target}: {e.strerror or e}") from e
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise SnapshotFileError(f"snapshot {target} is not a valid gzip file: {e}") from e
    try:
        return json.loads(data)
    except ValueError as e:
        raise SnapshotFileError(
            f"snapshot {target} is not JSON (a saved snapshot or `kubectl get -A -o json` "
            f"output): {truncate(str(e), 120)}"
        ) from e


def load_snapshot(path: str | Path, hasher: SecretHasher) -> LiveSnapshot:
    """Read a saved snapshot or a foreign ``kubectl get -o json`` List."""
    target = Path(path)
    document = _read_document(target)
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise SnapshotFileError(f"snapshot {target} is not a List: expected an object with 'items'")
    meta = document.get("metadata")
    block = meta.get("driftwatch") if isinstance(meta, dict) else None
    try:
        if isinstance(block, dict):
            return _load_saved(target, document["items"], block, hasher)
        return _load_foreign(target, document["items"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise SnapshotFileError(f"snapshot {target} is malformed: {truncate(repr(e), 120)}") from e


def _objects(target: Path, items: list[Any]) -> dict[Any, Any]:
    objects = {}
    for index, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not item.get("kind")
            or not (item.get("metadata") or {}).get("name")
        ):
            raise SnapshotFileError(f"snapshot {target}: item {index} is not a Kubernetes object")
        objects[key_of(item)] = item
    return objects


def _load_saved(
    target: Path, items: list[Any], block: dict[str, Any], hasher: SecretHasher
) -> LiveSnapshot:
    version = block.get("formatVersion")
    if version != FORMAT_VERSION:
        raise SnapshotFileError(
            f"snapshot {target} has format version {version!r}; "
            f"this driftwatch reads {FORMAT_VERSION}"
        )
    key_id = block.get("keyId")
    if block.get("secretsHashed", True) and key_id != hasher.key_id:
        raise SnapshotFileError(
            f"snapshot {target} was made with another state directory's key (key id {key_id}, "
            f"this one is {hasher.key_id}): its Secret fingerprints cannot be compared. Use the "
            "state directory it was saved with, or take a new snapshot."
        )
    types = {read.group_kind: read for read in map(_type_read, block.get("types") or [])}
    return LiveSnapshot(
        objects=_objects(target, items),
        types=types,
        taken_at=str(block.get("takenAt") or ""),
        server_version=block.get("serverVersion"),
        openapi=dict(block.get("openapi") or {}),
        managed_fields_present=bool(block.get("managedFieldsPresent", True)),
        secrets_hashed=bool(block.get("secretsHashed", True)),
    )


FOREIGN_SCOPE = "the dump holds no {kind} in namespace {namespace}"
"""Why a declared object is unknown in a foreign dump (formatted by the compare core)."""


def _load_foreign(target: Path, items: list[Any]) -> LiveSnapshot:
    objects = _objects(target, items)
    held: dict[GroupKind, set[str]] = {}
    for key in objects:
        held.setdefault(key.group_kind, set()).add(key.namespace)
    types = {
        kind: TypeRead(
            kind,
            ReadState.COMPLETE,
            # Items without a namespace: a cluster-scoped kind, read whole.
            namespaces=None if namespaces == {""} else tuple(sorted(namespaces - {""})),
            scope_note=FOREIGN_SCOPE,
        )
        for kind, namespaces in held.items()
    }
    managed = any((body.get("metadata") or {}).get("managedFields") for body in objects.values())
    taken_at, estimate = _foreign_time(target, objects.values())
    return LiveSnapshot(
        objects=objects,
        types=types,
        taken_at=taken_at,
        taken_at_estimate=estimate,
        managed_fields_present=managed or not objects,
        secrets_hashed=False,
    )


def _foreign_time(target: Path, bodies: Iterable[Any]) -> tuple[str, str]:
    """When a foreign dump was taken, estimated: (RFC 3339 time, what it was estimated from).

    A ``kubectl get`` dump carries no time of its own.  The newest write recorded in
    its ``managedFields`` is the earliest moment the dump can have been taken, and
    usually close to it; the file's modification time says only when it was copied.
    """
    newest = ""
    for body in bodies:
        for entry in (body.get("metadata") or {}).get("managedFields") or ():
            when = entry.get("time") if isinstance(entry, dict) else None
            if isinstance(when, str) and when > newest:
                newest = when
    if newest:
        return newest, "the newest managedFields time in the dump"
    try:
        mtime = datetime.fromtimestamp(target.stat().st_mtime, UTC)
    except OSError:
        return "", ""
    return mtime.strftime("%Y-%m-%dT%H:%M:%SZ"), "the dump file's modification time"

"""Turn rendered documents into a ``DesiredSet``: validation, identity, namespaces.

Every renderer (plain files, Kustomize, Helm) produces the same thing, a list
of ``RenderedDoc``; this module is where they become ``DesiredObject``s:

* ``kind: List`` and other ``*List`` kinds with ``items`` are flattened;
* a document needs ``apiVersion``, ``kind`` and ``metadata.name`` (else an error
  naming file, document and line; the other documents go on);
* identity is (group, kind, namespace, name), never the apiVersion;
* a namespaced object without a namespace gets the target's default namespace
  (``default`` when the target sets none, as kubectl does) written into its
  body; a cluster-scoped object's key has namespace ``""`` and any namespace it
  declares is dropped from its body, as the API server drops it;
* two documents declaring the same object: the first is kept, the second is
  reported with both places named.  Neither silently wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from driftwatch.model import (
    DesiredObject,
    DesiredSet,
    GroupKind,
    ResourceKey,
    SourceError,
    SourceLocation,
    split_api_version,
)
from driftwatch.render.scope import cluster_scoped_kinds

_MAX_LIST_NESTING = 4


@dataclass(frozen=True, slots=True)
class RenderedDoc:
    """One rendered YAML document and where it came from (file relative to the repo root)."""

    file: str
    document: int
    line: int | None
    body: Any
    item_lines: tuple[int, ...] = ()


def flatten_lists(docs: Iterable[RenderedDoc]) -> list[RenderedDoc]:
    """Replace each ``*List`` document with its items (same file and document index)."""
    out: list[RenderedDoc] = []
    for doc in docs:
        _flatten_into(doc, out, 0)
    return out


def _flatten_into(doc: RenderedDoc, out: list[RenderedDoc], level: int) -> None:
    body = doc.body
    if (
        level < _MAX_LIST_NESTING
        and isinstance(body, dict)
        and isinstance(body.get("kind"), str)
        and body["kind"].endswith("List")
        and isinstance(body.get("items"), list)
    ):
        lines = doc.item_lines
        for i, item in enumerate(body["items"]):
            line = lines[i] if i < len(lines) else doc.line
            _flatten_into(RenderedDoc(doc.file, doc.document, line, item), out, level + 1)
        return
    out.append(doc)


def _invalid(body: Any) -> str | None:
    """Why ``body`` is not a Kubernetes object, or None when it is one."""
    if not isinstance(body, dict):
        return f"is a {_type_name(body)}, not a Kubernetes object (a mapping)"
    missing = [f for f in ("apiVersion", "kind") if not isinstance(body.get(f), str) or not body[f]]
    meta = body.get("metadata")
    if not isinstance(meta, dict):
        missing.append("metadata.name")
    else:
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            missing.append(
                "metadata.name (generateName is not supported)"
                if meta.get("generateName")
                else "metadata.name"
            )
        namespace = meta.get("namespace")
        if namespace is not None and not isinstance(namespace, str):
            return "has a metadata.namespace that is not a string"
    if missing:
        return "has no " + ", ".join(missing)
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def assemble(
    target: str,
    docs: Iterable[RenderedDoc],
    *,
    default_namespace: str | None,
    errors: Iterable[SourceError] = (),
    flattened: bool = False,
) -> DesiredSet:
    """Build the desired set of ``target`` from rendered documents (see module doc).

    ``flattened``: the documents went through ``flatten_lists`` already (the parse cache).
    """
    desired = DesiredSet(target=target, errors=list(errors))
    valid: list[RenderedDoc] = []
    for doc in docs if flattened else flatten_lists(docs):
        problem = _invalid(doc.body)
        if problem is None:
            valid.append(doc)
        else:
            desired.errors.append(
                SourceError(doc.file, f"document #{doc.document} {problem}", doc.line)
            )
    scoped = cluster_scoped_kinds(d.body for d in valid)
    fallback_ns = default_namespace or "default"
    for doc in valid:
        obj = _to_object(doc, scoped, fallback_ns)
        first = desired.objects.get(obj.key)
        if first is not None:
            desired.errors.append(
                SourceError(
                    doc.file,
                    f"{obj.key.display()} is declared twice: here (document #{doc.document}) and "
                    f"in {first.origin.display()}; keeping the first",
                    doc.line,
                )
            )
            continue
        desired.objects[obj.key] = obj
    return desired


def _to_object(doc: RenderedDoc, scoped: set[GroupKind], default_ns: str) -> DesiredObject:
    body: dict[str, Any] = doc.body
    api_version: str = body["apiVersion"]
    kind: str = body["kind"]
    meta: dict[str, Any] = body["metadata"]
    group, _ = split_api_version(api_version)
    declared = meta.get("namespace") or ""
    if GroupKind(group, kind) in scoped:
        namespace = ""
        if "namespace" in meta:
            body = {**body, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
    else:
        namespace = declared or default_ns
        if not declared:
            body = {**body, "metadata": {**meta, "namespace": namespace}}
    key = ResourceKey(group, kind, namespace, meta["name"])
    return DesiredObject(key, api_version, body, SourceLocation(doc.file, doc.document, doc.line))

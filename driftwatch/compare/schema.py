"""What the API schema says about each field, as far as comparing needs it.

Two objects are equal or not depending on facts only the schema knows: which
lists are keyed (containers by ``name``, ports by ``containerPort`` + ``protocol``)
and which are sets or atomic, which strings are resource quantities (``1000m`` ==
``1``) or int-or-string, and which defaults fill a missing list key (a port's
``protocol`` is ``TCP``).  Those facts come from the server's OpenAPI v3
documents (``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys``,
``x-kubernetes-patch-merge-key``, ``x-kubernetes-map-type``, ``default``), and
the scalar ``type`` of each field says which declared values the server would
reject (``compare.types``); a built-in index trimmed from a real
kube-apiserver's documents covers the built-in types when no documents are at hand.

OpenAPI documents are first trimmed to a compact form (``trim_document``) that
keeps only those facts; ``SchemaIndex`` then resolves it lazily.  This is the
one place that follows ``$ref`` and recognises quantities and int-or-string.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

QUANTITY_REF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING_REF = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_REF_PREFIX = "#/components/schemas/"

Trimmed = dict[str, Any]


# --------------------------------------------------------------------------- trimming


def trim_document(doc: Mapping[str, Any]) -> Trimmed:
    """The compare-relevant facts of one OpenAPI v3 document.

    Returns ``{"components": {name: node}, "gvk": {"group/version/Kind": name}}``.
    """
    schemas = (doc.get("components") or {}).get("schemas") or {}
    components: dict[str, Trimmed] = {}
    gvk: dict[str, str] = {}
    for name, schema in schemas.items():
        if name.endswith("List") and "items" in (schema.get("properties") or {}):
            continue
        node = _trim(schema)
        if node:
            components[name] = node
        for entry in schema.get("x-kubernetes-group-version-kind") or ():
            gvk[f"{entry.get('group', '')}/{entry.get('version', '')}/{entry.get('kind', '')}"] = (
                name
            )
    return {"components": components, "gvk": gvk}


_TYPES = {"integer": "i", "number": "n", "boolean": "b", "string": "s", "object": "o", "array": "a"}
"""OpenAPI ``type`` as the trimmed form keeps it (``t``), for the declared-type check."""


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    """The component a ``$ref`` (or a single-item ``allOf`` of one) points at, if any."""
    ref = schema.get("$ref")
    if ref is None:
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            ref = all_of[0].get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        return ref[len(_REF_PREFIX) :]
    return None


def _trim(schema: Mapping[str, Any]) -> Trimmed:
    node: Trimmed = {}
    ref = _ref_name(schema)
    if ref == QUANTITY_REF:
        node["s"] = "q"
    elif ref == INT_OR_STRING_REF or schema.get("x-kubernetes-int-or-string"):
        node["s"] = "ios"
    elif ref is not None:
        node["r"] = ref
    if schema.get("format") == "int-or-string":
        node["s"] = "ios"
    kind = schema.get("type")
    if kind in _TYPES and "s" not in node:
        node["t"] = _TYPES[kind]
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        node["pu"] = True
    if "default" in schema and not isinstance(schema["default"], (dict, list)):
        node["d"] = schema["default"]
    if schema.get("x-kubernetes-map-type") == "atomic":
        node["ma"] = True
    props = schema.get("properties")
    if isinstance(props, Mapping) and props:
        node["o"] = 1
        trimmed_props = {
            k: t for k, v in props.items() if isinstance(v, Mapping) and (t := _trim(v))
        }
        if trimmed_props:
            node["p"] = trimmed_props
    items = schema.get("items")
    if isinstance(items, Mapping):
        trimmed_items = _trim(items)
        if trimmed_items:
            node["i"] = trimmed_items
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        trimmed_add = _trim(additional)
        if trimmed_add:
            node["a"] = trimmed_add
    if schema.get("type") == "array" or "items" in schema:
        list_type = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys")
        merge_key = schema.get("x-kubernetes-patch-merge-key")
        if list_type:
            node["lt"] = list_type
        if keys:
            node["lk"] = list(keys)
        elif merge_key and list_type != "atomic":
            node["lk"] = [merge_key]
            node.setdefault("lt", "map")
    return node


def merge_trimmed(parts: Iterable[Trimmed]) -> Trimmed:
    """Merge trimmed documents; later ones win (live documents over built-ins)."""
    merged: Trimmed = {"components": {}, "gvk": {}}
    for part in parts:
        merged["components"].update(part.get("components", {}))
        merged["gvk"].update(part.get("gvk", {}))
    return merged


# --------------------------------------------------------------------------- lookup


class SchemaNode:
    """One field's schema facts; children resolve lazily through refs."""

    __slots__ = (
        "_children",
        "_index",
        "_items",
        "_raw",
        "default",
        "is_struct",
        "list_keys",
        "list_type",
        "map_atomic",
        "preserve_unknown",
        "scalar",
        "type",
    )

    def __init__(self, raw: Trimmed, index: SchemaIndex) -> None:
        ref = raw.get("r")
        if ref is not None:
            target = index.component(ref)
            if target is not None:
                raw = {**target, **{k: v for k, v in raw.items() if k != "r"}}
        self._raw = raw
        self._index = index
        self._children: dict[str, SchemaNode | None] = {}
        self._items: SchemaNode | bool | None = False
        self.scalar: str | None = raw.get("s")
        self.default: Any = raw.get("d")
        self.list_type: str | None = raw.get("lt")
        self.list_keys: tuple[str, ...] = tuple(raw.get("lk", ()))
        self.map_atomic: bool = bool(raw.get("ma"))
        self.is_struct: bool = "o" in raw and "a" not in raw
        """A typed object (its unset fields are omitted by the server), not a free-form map."""
        self.type: str | None = raw.get("t")
        """The OpenAPI ``type`` as one letter (``_TYPES``); None when unknown or special."""
        self.preserve_unknown: bool = bool(raw.get("pu"))
        """``x-kubernetes-preserve-unknown-fields``: anything goes below."""

    def child(self, name: str) -> SchemaNode | None:
        """The schema of field ``name`` (a property, or any key of a map)."""
        try:
            return self._children[name]
        except KeyError:
            pass
        props = self._raw.get("p")
        raw = props.get(name) if props else None
        if raw is None:
            raw = self._raw.get("a")
        node = SchemaNode(raw, self._index) if raw is not None else None
        self._children[name] = node
        return node

    @property
    def items(self) -> SchemaNode | None:
        """The schema of a list's items."""
        if self._items is False:
            raw = self._raw.get("i")
            self._items = SchemaNode(raw, self._index) if raw is not None else None
        return self._items  # type: ignore[return-value]


class SchemaIndex:
    """Trimmed schemas by component name and by group/version/kind."""

    def __init__(self, trimmed: Trimmed) -> None:
        self._components: dict[str, Trimmed] = trimmed.get("components", {})
        self._gvk: dict[str, str] = trimmed.get("gvk", {})
        self._roots: dict[tuple[str, str, str], SchemaNode | None] = {}
        self._exact: dict[tuple[str, str, str], SchemaNode | None] = {}

    def component(self, name: str) -> Trimmed | None:
        """A trimmed component schema by name."""
        return self._components.get(name)

    def root(self, group: str, version: str, kind: str) -> SchemaNode | None:
        """The schema of a whole object of this type, or None if unknown."""
        key = (group, version, kind)
        if key not in self._roots:
            name = self._gvk.get(f"{group}/{version}/{kind}")
            if name is None:
                name = self._any_version(group, kind)
            raw = self._components.get(name) if name else None
            self._roots[key] = SchemaNode(raw, self) if raw is not None else None
        return self._roots[key]

    def exact_root(self, group: str, version: str, kind: str) -> SchemaNode | None:
        """The schema of this very group/version/kind (no other version stands in)."""
        key = (group, version, kind)
        if key not in self._exact:
            name = self._gvk.get(f"{group}/{version}/{kind}")
            raw = self._components.get(name) if name else None
            self._exact[key] = SchemaNode(raw, self) if raw is not None else None
        return self._exact[key]

    def _any_version(self, group: str, kind: str) -> str | None:
        prefix, suffix = f"{group}/", f"/{kind}"
        for gvk, name in self._gvk.items():
            if gvk.startswith(prefix) and gvk.endswith(suffix) and gvk.count("/") == 2:
                return name
        return None


@lru_cache(maxsize=1)
def builtin_trimmed() -> Trimmed:
    """The built-in index shipped with driftwatch (trimmed from a real kube-apiserver)."""
    data = resources.files("driftwatch.compare").joinpath("builtin_schema.json.gz").read_bytes()
    loaded: Trimmed = json.loads(gzip.decompress(data))
    return loaded


def index_for(openapi: Mapping[str, Any]) -> SchemaIndex:
    """A schema index: the built-ins, overridden by the snapshot's own OpenAPI documents.

    ``openapi`` maps a document path to either a raw OpenAPI v3 document or an
    already trimmed one (``{"components": ..., "gvk": ...}`` without ``openapi`` key).
    """
    parts: list[Trimmed] = [builtin_trimmed()]
    for doc in openapi.values():
        if not isinstance(doc, Mapping):
            continue
        parts.append(trim_document(doc) if "openapi" in doc else dict(doc))
    return SchemaIndex(merge_trimmed(parts))

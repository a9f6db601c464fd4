"""Declared values of the wrong type (``replicas: "three"``), found with the server's schema.

Such a manifest is a Git author's mistake the API server would reject; it could
never have been applied as written.  It is reported as a source error naming
the file and line (the run is partial, exit code 2) and the object is still
compared, so the field shows up as drift too — the mistake is visible both as
"fix this file" and as "Git and the cluster disagree here".

Checked: scalars against the OpenAPI v3 ``type`` of their field (integer,
number, boolean, string), with int-or-string and resource quantities accepting
numbers as the API server does; ``null`` is accepted everywhere (it unsets).
Only the server's own OpenAPI documents (as a live snapshot carries them) are
used; without them nothing is checked.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from driftwatch.model import DesiredSet, SourceError, split_api_version

MAX_PER_OBJECT = 3
_REF = "#/components/schemas/"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_MAX_DEPTH = 64


def type_errors(desired: DesiredSet, openapi: Mapping[str, Any]) -> list[SourceError]:
    """A source error for each declared value whose type the API server would reject."""
    errors: list[SourceError] = []
    kinds: dict[str, dict[tuple[str, str, str], Mapping[str, Any]]] = {}
    for obj in desired.objects.values():
        group, version = split_api_version(obj.api_version)
        path = f"apis/{group}/{version}" if group else f"api/{version}"
        doc = openapi.get(path)
        if not isinstance(doc, Mapping) or "openapi" not in doc:
            continue
        schemas = (doc.get("components") or {}).get("schemas") or {}
        if path not in kinds:
            kinds[path] = _kinds(schemas)
        root = kinds[path].get((group, version, obj.key.kind))
        if root is None:
            continue
        problems = list(_walk(obj.body, root, schemas, "", 0))
        for where, expected, value in problems[:MAX_PER_OBJECT]:
            errors.append(
                SourceError(
                    obj.origin.file,
                    f"{obj.key.display()}: {where or '/'}: expected {expected}, got "
                    f"{_describe(value)} (the API server would reject this manifest)",
                    obj.origin.line,
                )
            )
    return errors


def _kinds(schemas: Mapping[str, Any]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """The root schema of each (group, version, kind) a document defines."""
    out: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for schema in schemas.values():
        if not isinstance(schema, Mapping):
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            key = (str(gvk.get("group", "")), str(gvk.get("version")), str(gvk.get("kind")))
            out.setdefault(key, schema)
    return out


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> tuple[str | None, Any]:
    """(referenced component name, the schema behind ``$ref`` / a single ``allOf``)."""
    ref = schema.get("$ref")
    if ref is None and isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        ref = schema["allOf"][0].get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        name = ref[len(_REF) :]
        return name, schemas.get(name) or {}
    return None, schema


def _walk(
    value: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any], path: str, depth: int
) -> Iterator[tuple[str, str, Any]]:
    if value is None or depth > _MAX_DEPTH:
        return
    name, schema = _resolve(schema, schemas)
    if name == _QUANTITY:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            yield path, "a quantity", value
        return
    if (
        name == _INT_OR_STRING
        or schema.get("x-kubernetes-int-or-string")
        or schema.get("format") == "int-or-string"
    ):
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            yield path, "an integer or a string", value
        return
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    kind = schema.get("type")
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        if not isinstance(value, Mapping):
            if kind == "object":
                yield path, "an object", value
            return
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            sub = properties.get(key)
            if sub is None and isinstance(extra, Mapping):
                sub = extra
            if isinstance(sub, Mapping):
                yield from _walk(child, sub, schemas, f"{path}/{key}", depth + 1)
    elif kind == "array":
        if not isinstance(value, list):
            yield path, "a list", value
            return
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, child in enumerate(value):
                yield from _walk(child, items, schemas, f"{path}[{i}]", depth + 1)
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            yield path, "an integer", value
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            yield path, "a number", value
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield path, "a boolean", value
    elif kind == "string" and not isinstance(value, str):
        yield path, "a string", value


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__

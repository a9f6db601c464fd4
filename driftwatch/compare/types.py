"""Declared values of the wrong type (``replicas: "three"``), found with the run's schema.

Such a manifest is a Git author's mistake the API server would reject; it could
never have been applied as written.  It is reported as a source error naming
the file and line (the run is partial, exit code 2) and the object is still
compared, so the field shows up as drift too — the mistake is visible both as
"fix this file" and as "Git and the cluster disagree here".

Checked: scalars against the OpenAPI ``type`` of their field (integer, number,
boolean, string), with int-or-string and resource quantities accepting numbers
as the API server does; ``null`` is accepted everywhere (it unsets).  The schema
is the run's one index (``compare.schema``): the server's documents when the
snapshot has them, else the built-in index — so a wrong type is the same source
error online and offline.  Only the declared apiVersion's own schema is used.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from driftwatch.compare.schema import SchemaIndex, SchemaNode
from driftwatch.model import DesiredSet, SourceError, split_api_version

MAX_PER_OBJECT = 3
_MAX_DEPTH = 64
_SCALARS = {
    "i": "an integer",
    "n": "a number",
    "b": "a boolean",
    "s": "a string",
}


def type_errors(desired: DesiredSet, schema: SchemaIndex) -> list[SourceError]:
    """A source error for each declared value whose type the API server would reject."""
    errors: list[SourceError] = []
    for obj in desired.objects.values():
        group, version = split_api_version(obj.api_version)
        root = schema.exact_root(group, version, obj.key.kind)
        if root is None:
            continue
        problems = list(_walk(obj.body, root, "", 0))
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


def _walk(value: Any, node: SchemaNode, path: str, depth: int) -> Iterator[tuple[str, str, Any]]:
    if value is None or depth > _MAX_DEPTH:
        return
    if node.scalar == "q":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            yield path, "a quantity", value
        return
    if node.scalar == "ios":
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            yield path, "an integer or a string", value
        return
    if node.preserve_unknown:
        return
    kind = node.type
    if kind == "o" or node.is_struct:
        if not isinstance(value, Mapping):
            if kind == "o":
                yield path, "an object", value
            return
        for key, child in value.items():
            sub = node.child(str(key))
            if sub is not None:
                yield from _walk(child, sub, f"{path}/{key}", depth + 1)
    elif kind == "a":
        if not isinstance(value, list):
            yield path, "a list", value
            return
        items = node.items
        if items is not None:
            for i, child in enumerate(value):
                yield from _walk(child, items, f"{path}[{i}]", depth + 1)
    elif kind in _SCALARS and not _fits(kind, value):
        yield path, _SCALARS[kind], value


def _fits(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind == "b"
    if kind == "i":
        return isinstance(value, int)
    if kind == "n":
        return isinstance(value, (int, float))
    return isinstance(value, str) if kind == "s" else kind != "b"


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

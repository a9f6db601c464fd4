"""The structural difference between a desired and a live object, schema-aware.

Walks both bodies together and yields each place they differ, at the finest
meaningful granularity: a changed value at its leaf, an added or removed map
key or keyed-list item as one change at that key or item.  Fields only the live
side has are reported as ADDED candidates; whether they are drift is decided
later from who owns them (``classify``).  Values equal after normalization are
equal: resource quantities, int-or-string, ``null``/absent/empty, key order,
keyed-list order.  No copies of the bodies are made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from driftwatch.compare.paths import ItemKey, Path, SetValue
from driftwatch.compare.quantity import quantities_equal
from driftwatch.compare.schema import SchemaNode
from driftwatch.model import ChangeKind

_MISSING: Any = object()


class Difference(NamedTuple):
    """One place where desired and live differ (values not yet redacted)."""

    path: Path
    change: ChangeKind
    desired: Any
    live: Any


def is_empty(value: Any) -> bool:
    """``null``, ``{}`` and ``[]``: what the API server treats as not set."""
    return value is None or value == {} or value == []


def _is_zero(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value is False
        or (type(value) is int and value == 0)
        or (value == {} or value == [])
    )


def scalars_equal(desired: Any, live: Any, schema: SchemaNode | None) -> bool:
    """Equality of two leaf values under the field's schema."""
    if desired == live and type(desired) is type(live):
        return True
    kind = schema.scalar if schema is not None else None
    if kind == "q":
        return quantities_equal(desired, live)
    if kind == "ios":
        return str(desired) == str(live)
    if isinstance(desired, bool) or isinstance(live, bool):
        return False
    if isinstance(desired, (int, float)) and isinstance(live, (int, float)):
        return bool(desired == live)
    return False


def diff(
    desired: Any, live: Any, schema: SchemaNode | None, path: Path = (), added_fields: bool = True
) -> Iterator[Difference]:
    """Every difference between ``desired`` and ``live`` under ``path``.

    ``added_fields=False`` skips live-only fields, keys and items: the caller
    knows that nobody who could make them drift owns any of them.
    """
    if desired is live:
        return
    if isinstance(desired, dict) and isinstance(live, dict):
        yield from _diff_maps(desired, live, schema, path, added_fields)
    elif isinstance(desired, list) and isinstance(live, list):
        yield from _diff_lists(desired, live, schema, path, added_fields)
    elif isinstance(desired, (dict, list)) or isinstance(live, (dict, list)):
        if not (is_empty(desired) and is_empty(live)):
            yield Difference(path, ChangeKind.CHANGED, desired, live)
    elif not scalars_equal(desired, live, schema):
        yield Difference(path, ChangeKind.CHANGED, desired, live)


def _diff_maps(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    schema: SchemaNode | None,
    path: Path,
    added_fields: bool,
) -> Iterator[Difference]:
    if desired == live:
        return
    struct = schema is not None and schema.is_struct
    for key, want in desired.items():
        key = key if isinstance(key, str) else str(key)
        have = live.get(key, _MISSING)
        if want == have and type(want) is type(have):
            continue
        child = schema.child(key) if schema is not None else None
        if have is _MISSING or have is None:
            if is_empty(want) or (struct and _is_zero(want)):
                continue
            yield Difference((*path, key), ChangeKind.REMOVED, want, None)
        elif want is None:
            if added_fields:
                yield from added(have, child, (*path, key))
        else:
            yield from diff(want, have, child, (*path, key), added_fields)
    if not added_fields:
        return
    for key, have in live.items():
        if key not in desired and not is_empty(have):
            yield from added(have, schema.child(key) if schema is not None else None, (*path, key))


def added(live: Any, schema: SchemaNode | None, path: Path) -> Iterator[Difference]:
    """A live-only value, split into its map keys and list items (each one candidate).

    Empty values (``{}``, ``[]``, ``null``) are what the API treats as unset: no candidate.
    """
    if is_empty(live):
        return
    if isinstance(live, dict) and live and not (schema is not None and schema.map_atomic):
        for key, value in live.items():
            yield from added(value, schema.child(key) if schema is not None else None, (*path, key))
    elif (
        isinstance(live, list)
        and live
        and schema is not None
        and schema.list_type in ("map", "set")
    ):
        yield from _diff_lists([], live, schema, path)
    else:
        yield Difference(path, ChangeKind.ADDED, None, live)


def _diff_lists(
    desired: list[Any],
    live: list[Any],
    schema: SchemaNode | None,
    path: Path,
    added_fields: bool = True,
) -> Iterator[Difference]:
    list_type = schema.list_type if schema is not None else None
    items = schema.items if schema is not None else None
    if list_type == "map" and schema is not None and schema.list_keys:
        yield from _diff_keyed(desired, live, schema.list_keys, items, path, added_fields)
    elif list_type == "set":
        yield from _diff_set(desired, live, path, added_fields)
    else:
        yield from _diff_atomic(desired, live, items, path, added_fields)


def _item_key(item: Any, keys: tuple[str, ...], items: SchemaNode | None) -> ItemKey | None:
    """The item's key, with missing key fields filled from their schema default."""
    if not isinstance(item, dict):
        return None
    pairs = []
    for key in keys:
        value = item.get(key, _MISSING)
        if value is _MISSING or value is None:
            field = items.child(key) if items is not None else None
            if field is None or field.default is None:
                continue
            value = field.default
        pairs.append((key, value))
    return ItemKey(tuple(pairs)) if pairs else None


def _norm(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _diff_keyed(
    desired: list[Any],
    live: list[Any],
    keys: tuple[str, ...],
    items: SchemaNode | None,
    path: Path,
    added_fields: bool,
) -> Iterator[Difference]:
    live_by_key: dict[tuple[tuple[str, str], ...], tuple[ItemKey, Any]] = {}
    for item in live:
        key = _item_key(item, keys, items)
        if key is not None:
            live_by_key.setdefault(tuple((k, _norm(v)) for k, v in key.pairs), (key, item))
    matched: set[tuple[tuple[str, str], ...]] = set()
    for want in desired:
        key = _item_key(want, keys, items)
        if key is None:
            continue
        norm = tuple((k, _norm(v)) for k, v in key.pairs)
        hit = live_by_key.get(norm)
        if hit is None and len(key.pairs) < len(keys):
            partial = [n for n in live_by_key if n not in matched and set(norm) <= set(n)]
            if len(partial) == 1:
                norm = partial[0]
                hit = live_by_key[norm]
        if hit is None:
            yield Difference((*path, key), ChangeKind.REMOVED, want, None)
            continue
        matched.add(norm)
        live_key, have = hit
        yield from diff(want, have, items, (*path, live_key), added_fields)
    if not added_fields:
        return
    for norm, (live_key, have) in live_by_key.items():
        if norm not in matched:
            yield Difference((*path, live_key), ChangeKind.ADDED, None, have)


def _diff_set(
    desired: list[Any], live: list[Any], path: Path, added_fields: bool
) -> Iterator[Difference]:
    want = {_norm(v): v for v in desired}
    have = {_norm(v): v for v in live}
    for norm, value in want.items():
        if norm not in have:
            yield Difference((*path, SetValue(value)), ChangeKind.REMOVED, value, None)
    for norm, value in have.items():
        if added_fields and norm not in want:
            yield Difference((*path, SetValue(value)), ChangeKind.ADDED, None, value)


def _diff_atomic(
    desired: list[Any], live: list[Any], items: SchemaNode | None, path: Path, added_fields: bool
) -> Iterator[Difference]:
    if len(desired) != len(live):
        yield Difference(path, ChangeKind.CHANGED, desired, live)
        return
    if all(isinstance(d, dict) and isinstance(v, dict) for d, v in zip(desired, live, strict=True)):
        for index, (want, have) in enumerate(zip(desired, live, strict=True)):
            yield from diff(want, have, items, (*path, index), added_fields)
        return
    for want, have in zip(desired, live, strict=True):
        if isinstance(want, (dict, list)) or isinstance(have, (dict, list)):
            if next(diff(want, have, items, path), None) is not None:
                break
        elif not scalars_equal(want, have, items):
            break
    else:
        return
    yield Difference(path, ChangeKind.CHANGED, desired, live)

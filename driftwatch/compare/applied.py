"""The client-side applier's own record of what it applied.

``kubectl apply`` (client-side) keeps the manifest it applied in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation.  Its
managedFields entry also owns the server's defaults, so ownership alone cannot
say whether the applier asked for a field; this record can.  A field Git does
not declare but the record holds was applied from a manifest that is not Git's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from driftwatch.compare.paths import ItemKey, Segment, SetValue
from driftwatch.redact import LAST_APPLIED

_SECRET_ALIASES = {"data": "stringData", "stringData": "data"}


def last_applied(live: Mapping[str, Any]) -> dict[str, Any] | None:
    """The parsed last-applied manifest of a live object, if it has a usable one."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if not isinstance(text, str):
        return None
    try:
        applied = json.loads(text)
    except ValueError:
        return None
    return applied if isinstance(applied, dict) else None


def holds(
    applied: Mapping[str, Any] | None, path: Sequence[Segment], *, secret: bool = False
) -> bool:
    """Whether the applied manifest sets ``path``.

    For a Secret, ``data/K`` and ``stringData/K`` are the same field (the server
    turns one into the other).
    """
    if value_at(applied, path)[0]:
        return True
    if secret and path and isinstance(path[0], str) and path[0] in _SECRET_ALIASES:
        return value_at(applied, (_SECRET_ALIASES[path[0]], *path[1:]))[0]
    return False


def value_at(applied: Mapping[str, Any] | None, path: Sequence[Segment]) -> tuple[bool, Any]:
    """``(True, value)`` when the applied manifest sets ``path``, else ``(False, None)``."""
    node: Any = applied
    if node is None:
        return False, None
    for seg in path:
        if isinstance(seg, str):
            if not isinstance(node, dict) or node.get(seg) is None:
                return False, None
            node = node[seg]
        elif isinstance(seg, int):
            if not isinstance(node, list) or seg >= len(node):
                return False, None
            node = node[seg]
        elif isinstance(seg, ItemKey):
            node = _find_item(node, seg) if isinstance(node, list) else None
            if node is None:
                return False, None
        elif isinstance(seg, SetValue):
            if not isinstance(node, list) or seg.value not in node:
                return False, None
            node = seg.value
    return True, node


def _find_item(items: list[Any], key: ItemKey) -> Any:
    """The item whose keys match; key fields the manifest left to their default match too."""
    want = key.as_dict()
    for item in items:
        if (
            isinstance(item, dict)
            and all(
                k not in item or item[k] == v or str(item[k]) == str(v) for k, v in want.items()
            )
            and any(k in item for k in want)
        ):
            return item
    return None

"""Who owns a live field, read from ``metadata.managedFields``.

The API server records, per field manager and operation, the set of fields
that manager last set (``fieldsV1``: a trie with ``f:<field>``, ``k:<item keys>``,
``v:<set value>``, ``i:<index>`` and ``.`` for the node itself).  That record is
how driftwatch tells a server default (owned by nobody) from a person's edit
(owned by ``kubectl-edit``) from the Git applier's own write, and when each
happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from driftwatch.compare.paths import ItemKey, Segment, SetValue
from driftwatch.model import UNATTRIBUTED, Attribution

FieldsTrie = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ManagerEntry:
    """One ``managedFields`` entry."""

    manager: str
    operation: str
    subresource: str | None
    time: str | None
    fields: FieldsTrie

    @property
    def attribution(self) -> Attribution:
        """This entry as an attribution of a drifted field."""
        return Attribution(self.manager, self.operation, self.subresource, self.time)


def parse_entries(metadata: Mapping[str, Any]) -> list[ManagerEntry]:
    """The usable entries of an object's ``managedFields`` (malformed ones are skipped)."""
    entries = []
    for raw in metadata.get("managedFields") or ():
        if not isinstance(raw, dict):
            continue
        fields = raw.get("fieldsV1")
        if not isinstance(fields, dict):
            continue
        entries.append(
            ManagerEntry(
                manager=str(raw.get("manager") or ""),
                operation=str(raw.get("operation") or ""),
                subresource=raw.get("subresource") or None,
                time=raw.get("time"),
                fields=fields,
            )
        )
    return entries


def _same(a: Any, b: Any) -> bool:
    return a == b or (not isinstance(a, (dict, list)) and str(a) == str(b))


class Ownership:
    """Answers "who owns this path" for one live object."""

    __slots__ = ("_entries", "_item_index")

    def __init__(self, entries: Sequence[ManagerEntry]) -> None:
        self._entries = entries
        self._item_index: dict[int, list[tuple[Any, str]]] = {}

    @property
    def entries(self) -> Sequence[ManagerEntry]:
        """All entries."""
        return self._entries

    def owners(self, path: Sequence[Segment]) -> list[tuple[ManagerEntry, bool]]:
        """Entries that own ``path`` or something under it.

        Each comes with ``exact``: True when the entry's set holds the path
        itself (or part of its subtree), False when it only owns an atomic
        ancestor (a whole list or map, set as one value).  Ancestor owners are
        returned only when no entry owns the path exactly.
        """
        exact: list[tuple[ManagerEntry, bool]] = []
        ancestors: list[tuple[ManagerEntry, bool]] = []
        for entry in self._entries:
            found = self._locate(entry.fields, path)
            if found == "exact":
                exact.append((entry, True))
            elif found == "ancestor":
                ancestors.append((entry, False))
        return exact or ancestors

    def locate(self, entry: ManagerEntry, path: Sequence[Segment]) -> str | None:
        """``"exact"``, ``"ancestor"`` (an atomic ancestor is owned) or None."""
        return self._locate(entry.fields, path)

    def holds(self, entry: ManagerEntry, path: Sequence[Segment]) -> bool:
        """Whether ``entry``'s own set holds ``path`` (not just an ancestor)."""
        return self._locate(entry.fields, path) == "exact"

    def trie_at(self, entry: ManagerEntry, path: Sequence[Segment]) -> FieldsTrie | None:
        """``entry``'s own set at ``path`` (None when it holds nothing there)."""
        node: Any = entry.fields
        for seg in path:
            if not isinstance(node, dict):
                return None
            node = self._child(node, seg)
            if node is None:
                return None
        return node if isinstance(node, dict) else None

    def owned_parts(
        self, trie: FieldsTrie, path: tuple[Segment, ...]
    ) -> list[tuple[tuple[Segment, ...], FieldsTrie]]:
        """The outermost nodes a set owns whole under ``path``: created there (``.``), or leaves.

        ``fieldsV1`` marks a map or list item the manager created with ``.``, and
        a field it set as a leaf ``{}``; anything in between is only a way down.
        """
        if not trie or "." in trie:
            return [(path, trie)]
        parts: list[tuple[tuple[Segment, ...], FieldsTrie]] = []
        for raw, child in trie.items():
            seg = _segment(raw)
            if seg is not None and isinstance(child, dict):
                parts.extend(self.owned_parts(child, (*path, seg)))
        return parts

    def restrict(self, value: Any, trie: FieldsTrie) -> Any:
        """``value`` reduced to what the set ``trie`` holds (the parts that manager wrote)."""
        if not trie or not isinstance(value, (dict, list)):
            return value
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for name, child_value in value.items():
                child = trie.get(f"f:{name}")
                if isinstance(child, dict):
                    out[name] = self.restrict(child_value, child)
            return out
        items: list[Any] = []
        for index, item in enumerate(value):
            child = self._item_child(trie, item, index)
            if isinstance(child, dict):
                items.append(self.restrict(item, child))
        return items

    def _item_child(self, trie: FieldsTrie, item: Any, index: int) -> Any:
        if f"i:{index}" in trie:
            return trie[f"i:{index}"]
        for parsed, raw in self._parsed_keys(trie, "k:"):
            if (
                isinstance(parsed, dict)
                and isinstance(item, dict)
                and all(k in item and _same(item[k], v) for k, v in parsed.items())
            ):
                return trie[raw]
        for parsed, raw in self._parsed_keys(trie, "v:"):
            if _same(parsed, item):
                return trie[raw]
        return None

    def _locate(self, trie: FieldsTrie, path: Sequence[Segment]) -> str | None:
        node: Any = trie
        for seg in path:
            if not isinstance(node, dict):
                return None
            if not node:
                return "ancestor"
            child = self._child(node, seg)
            if child is None:
                return None
            node = child
        return "exact"

    def _child(self, node: Mapping[str, Any], seg: Segment) -> Any:
        if isinstance(seg, str):
            return node.get("f:" + seg)
        if isinstance(seg, int):
            return node.get(f"i:{seg}")
        want: Any = seg.as_dict() if isinstance(seg, ItemKey) else seg.value
        prefix = "k:" if isinstance(seg, ItemKey) else "v:"
        for parsed, raw_key in self._parsed_keys(node, prefix):
            if isinstance(seg, ItemKey):
                if isinstance(parsed, dict) and all(
                    k in parsed and _same(parsed[k], v) for k, v in want.items()
                ):
                    return node[raw_key]
            elif isinstance(seg, SetValue) and _same(parsed, want):
                return node[raw_key]
        return None

    def _parsed_keys(self, node: Mapping[str, Any], prefix: str) -> list[tuple[Any, str]]:
        cached = self._item_index.get(id(node))
        if cached is None:
            cached = []
            for raw_key in node:
                if raw_key.startswith(("k:", "v:")):
                    try:
                        cached.append((json.loads(raw_key[2:]), raw_key))
                    except ValueError:
                        continue
            self._item_index[id(node)] = cached
        return [(p, k) for p, k in cached if k.startswith(prefix)]


def _segment(raw: str) -> Segment | None:
    """A ``fieldsV1`` key as a path segment (``f:name``, ``k:{...}``, ``v:...``, ``i:3``)."""
    kind, _, rest = raw.partition(":")
    try:
        if kind == "f":
            return rest
        if kind == "i":
            return int(rest)
        if kind == "k":
            parsed = json.loads(rest)
            return ItemKey(tuple(parsed.items())) if isinstance(parsed, dict) else None
        if kind == "v":
            return SetValue(json.loads(rest))
    except ValueError:
        return None
    return None


def value_at(value: Any, path: Sequence[Segment]) -> tuple[bool, Any]:
    """(found, the part of a live value at ``path`` relative to it)."""
    for seg in path:
        if isinstance(seg, str):
            if not isinstance(value, dict) or seg not in value:
                return False, None
            value = value[seg]
        elif isinstance(seg, int):
            if not isinstance(value, list) or not 0 <= seg < len(value):
                return False, None
            value = value[seg]
        elif isinstance(seg, ItemKey):
            want = seg.as_dict()
            hit = (
                next(
                    (
                        item
                        for item in value
                        if isinstance(item, dict)
                        and all(k in item and _same(item[k], v) for k, v in want.items())
                    ),
                    None,
                )
                if isinstance(value, list)
                else None
            )
            if hit is None:
                return False, None
            value = hit
        else:
            if not isinstance(value, list) or not any(_same(v, seg.value) for v in value):
                return False, None
            value = seg.value
    return True, value


def creator_and_last(entries: Sequence[ManagerEntry]) -> tuple[Attribution, Attribution]:
    """Who created an object and who changed it last, from its ``managedFields`` entries.

    Status writes never create or change what a person declared, so they are left
    out.  The creator is the entry with the earliest time (the first listed on a
    tie).  An entry without a time (the API server records none for a write
    through ``scale``, as ``kubectl scale`` makes) can never be the creation, and
    cannot be ordered: it is taken as the last change rather than hidden, shown
    with ``time unknown``; otherwise the last change is the latest time (the last
    listed on a tie).
    """
    writes = [e for e in entries if e.subresource != "status"]
    if not writes:
        return UNATTRIBUTED, UNATTRIBUTED
    timed = [e for e in writes if e.time]
    untimed = [e for e in writes if not e.time]
    first = min(timed, key=lambda e: str(e.time)) if timed else writes[0]
    last = untimed[-1] if untimed else max(reversed(timed), key=lambda e: str(e.time))
    return first.attribution, last.attribution

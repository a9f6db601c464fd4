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

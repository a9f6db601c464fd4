"""Verdicts reached while the snapshot streams, so live bodies need not all be held.

At tens of thousands of objects, holding every parsed live body until the
snapshot ends costs most of driftwatch's memory.  A declared object of a
built-in kind can be compared the moment its page arrives: its verdict depends
only on its own desired and live bodies, the built-in schema and the options —
except for the HorizontalPodAutoscaler rule, which needs every HPA, so any
verdict touching ``/spec/replicas`` (and every HPA itself) waits for the end.
The compare core then takes these verdicts as they are (``compare_target(...,
precomputed=)``), and only for types whose read completed.  Pure and thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from driftwatch.compare.engine import CompareOptions, Judge, compare_bodies
from driftwatch.compare.schema import builtin_trimmed
from driftwatch.model import DesiredSet, GroupKind, ObjectDrift, ResourceKey

_REPLICAS = "/spec/replicas"


class StreamingComparer:
    """Compares declared objects of built-in kinds as their live bodies arrive."""

    def __init__(self, desired: DesiredSet, options: CompareOptions) -> None:
        self._desired = desired.objects
        self._judge = Judge.build(
            options,
            {},
            (o.body for o in desired.objects.values() if o.key.kind == "HorizontalPodAutoscaler"),
        )
        self._builtin = frozenset(
            GroupKind(*gvk.split("/")[0::2]) for gvk in builtin_trimmed()["gvk"]
        )
        self._lock = threading.Lock()
        self.verdicts: dict[ResourceKey, ObjectDrift] = {}

    def offer(self, key: ResourceKey, live: Mapping[str, Any]) -> bool:
        """Compare ``live`` (already redacted) now; True when the verdict is final.

        After True the caller may reduce the live body to its identity.
        """
        obj = self._desired.get(key)
        if obj is None or key.group_kind not in self._builtin:
            return False
        if key.kind == "HorizontalPodAutoscaler":
            return False
        verdict = compare_bodies(self._judge, key, obj.body, dict(live))
        touched = [f.path for f in verdict.fields] + [i.path for i in verdict.ignored]
        if _REPLICAS in touched:
            return False
        with self._lock:
            self.verdicts[key] = verdict
        return True


def identity_only(body: dict[str, Any]) -> None:
    """Reduce a live body, in place, to what still matters once it is compared: that it exists."""
    metadata = body.get("metadata") or {}
    kept = {k: metadata[k] for k in ("name", "namespace") if k in metadata}
    api_version, kind = body.get("apiVersion"), body.get("kind")
    body.clear()
    body.update({"apiVersion": api_version, "kind": kind, "metadata": kept})

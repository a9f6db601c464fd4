"""Verdicts reached while the snapshot streams, so live bodies need not all be held.

At tens of thousands of objects, holding every parsed live body until the
snapshot ends costs most of driftwatch's memory.  A declared object can be
compared the moment its page arrives: its verdict depends only on its own
desired and live bodies and the run's judge (schema, rules, roles) — except for
the HorizontalPodAutoscaler rule, which needs every HPA, so any verdict touching
``/spec/replicas`` (and every HPA itself) waits for the end.  The judge is the
run's one judge, built from the server's OpenAPI documents before the first page
(``start``); until then nothing is compared early.  The compare core then takes
these verdicts as they are (``compare_target(..., precomputed=)``), and only for
types whose read completed.  Pure and thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from driftwatch.compare.engine import Judge, compare_bodies
from driftwatch.compare.ignore import is_hpa
from driftwatch.model import DesiredSet, ObjectDrift, ResourceKey

_REPLICAS = "/spec/replicas"


class StreamingComparer:
    """Compares declared objects as their live bodies arrive, by the run's judge."""

    def __init__(self, desired: DesiredSet, judge: Judge | None = None) -> None:
        self._desired = desired.objects
        self._judge: Judge | None = None
        self._lock = threading.Lock()
        self.verdicts: dict[ResourceKey, ObjectDrift] = {}
        if judge is not None:
            self.start(judge)

    def start(self, judge: Judge) -> None:
        """Compare from now on with ``judge`` (the run's; its HPAs are Git's until the end)."""
        self._judge = judge.with_hpas(o.body for o in self._desired.values() if is_hpa(o.key.kind))

    def offer(self, key: ResourceKey, live: Mapping[str, Any]) -> bool:
        """Compare ``live`` (already redacted) now; True when the verdict is final.

        After True the caller may reduce the live body to its identity.
        """
        judge = self._judge
        obj = self._desired.get(key)
        if judge is None or obj is None or is_hpa(key.kind):
            return False
        verdict = compare_bodies(judge, key, obj.body, dict(live))
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

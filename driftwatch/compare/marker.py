"""Whether a live object is marked as a target's: its label selector or tracking annotation.

One answer for every place that asks — which listed objects a run keeps, which
live objects not in Git are UNMANAGED — so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.compare.selector import LabelSelector


class Marker:
    """A target's ownership marker (either part may be absent)."""

    __slots__ = ("_annotation", "_selector")

    def __init__(self, selector: str | None, annotation: str | None) -> None:
        self._selector = LabelSelector(selector) if selector else None
        self._annotation = annotation

    @property
    def defined(self) -> bool:
        """Whether the target has a marker at all (without one nothing is unmanaged)."""
        return self._selector is not None or self._annotation is not None

    def marks(self, body: Mapping[str, Any]) -> bool:
        """Whether the object's labels match the selector or it carries the annotation."""
        metadata = body.get("metadata") or {}
        if self._selector is not None and self._selector.matches(metadata.get("labels")):
            return True
        annotation = self._annotation
        return annotation is not None and annotation in (metadata.get("annotations") or {})

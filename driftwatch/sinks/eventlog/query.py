"""Reading the event log: filters, streamed over every file, skipping files by time.

Files are read oldest first, line by line, so memory stays flat however large
the log; a file is skipped without reading it when its time range (its first
record's time up to the next file's first record's time -- the log is written
in time order) lies outside ``since``/``until``.  A trailing incomplete line (a
write in progress, or a crashed writer) is ignored, as are unreadable lines
(``verify`` reports those).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

from driftwatch.model import ResourceKey
from driftwatch.sinks.eventlog.envelope import cloud_type
from driftwatch.sinks.eventlog.segments import first_time, list_segments, parse_time, record_time

TimeBound: TypeAlias = float | datetime | str | None
"""Unix time, an aware (or UTC naive) datetime, or RFC 3339 text."""
ResourceFilter: TypeAlias = ResourceKey | str | None
"""A ``ResourceKey``, or ``kind/namespace/name`` / ``kind/name`` (kind may be ``Kind.group``)."""


@dataclass(frozen=True, slots=True)
class ResourceMatch:
    """A parsed resource filter; None parts match anything."""

    kind: str
    name: str
    group: str | None = None
    namespace: str | None = None

    def matches(self, resource: Any) -> bool:
        """Whether a record's ``data.resource`` is this resource."""
        if not isinstance(resource, dict):
            return False
        return (
            str(resource.get("kind", "")).lower() == self.kind.lower()
            and resource.get("name") == self.name
            and (self.group is None or resource.get("group") == self.group)
            and (self.namespace is None or resource.get("namespace") == self.namespace)
        )


def parse_resource(value: ResourceKey | str) -> ResourceMatch:
    """``Deployment.apps/shop/api``, ``configmap/shop/app`` or ``ClusterRole/admin``.

    ``kind/name`` matches that name in any namespace (and cluster-scoped objects).
    Raises ValueError on any other shape.
    """
    if isinstance(value, ResourceKey):
        return ResourceMatch(value.kind, value.name, value.group, value.namespace)
    parts = value.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts[:1]) or not parts[-1]:
        raise ValueError(f"not a resource: {value!r} (use kind/namespace/name or kind/name)")
    kind, _, group = parts[0].partition(".")
    namespace = parts[1] if len(parts) == 3 else None
    return ResourceMatch(kind, parts[-1], group or None, namespace)


def to_epoch(bound: TimeBound) -> float | None:
    """A time bound as Unix time (ValueError on unreadable text)."""
    if bound is None or isinstance(bound, (int, float)):
        return bound
    if isinstance(bound, datetime):
        return (bound if bound.tzinfo else bound.replace(tzinfo=UTC)).timestamp()
    return parse_time(bound)


def iter_records(
    directory: Path,
    *,
    since: TimeBound = None,
    until: TimeBound = None,
    types: Sequence[str] = (),
    target: str | None = None,
    resource: ResourceFilter = None,
    after_seq: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream matching records, oldest first."""
    start, end = to_epoch(since), to_epoch(until)
    wanted = {cloud_type(t) for t in types}
    match = parse_resource(resource) if resource is not None else None
    segments = list_segments(directory)
    firsts = [first_time(s) for s in segments] if start is not None or end is not None else []
    for index, segment in enumerate(segments):
        following = segments[index + 1] if index + 1 < len(segments) else None
        if after_seq is not None and following is not None and following.first_seq <= after_seq + 1:
            continue
        if firsts:
            first = firsts[index]
            if end is not None and first is not None and first > end:
                break
            upper = firsts[index + 1] if following is not None else None
            if start is not None and upper is not None and upper < start:
                continue
        try:
            handle = segment.path.open("rb")
        except FileNotFoundError:  # removed by retention meanwhile
            continue
        with handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                if after_seq is not None and not (
                    isinstance(record.get("seq"), int) and record["seq"] > after_seq
                ):
                    continue
                if wanted and record.get("type") not in wanted:
                    continue
                data = record.get("data")
                if not isinstance(data, dict):
                    data = {}
                if target is not None and data.get("target") != target:
                    continue
                if match is not None and not match.matches(data.get("resource")):
                    continue
                if start is not None or end is not None:
                    when = record_time(record)
                    if (
                        when is None
                        or (start is not None and when < start)
                        or (end is not None and when > end)
                    ):
                        continue
                yield record


def query(
    directory: Path,
    *,
    since: TimeBound = None,
    until: TimeBound = None,
    types: Sequence[str] = (),
    target: str | None = None,
    resource: ResourceFilter = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Matching records oldest first (newest last); with ``limit``, the newest ``limit``."""
    records = iter_records(
        directory, since=since, until=until, types=types, target=target, resource=resource
    )
    if limit is None:
        return list(records)
    if limit <= 0:
        return []
    return list(deque(records, maxlen=limit))

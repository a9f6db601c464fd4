"""What the pages show, as plain data built from runs, reports and events (no HTML here).

The templates only lay these out; every value stays text and Jinja escapes it.
Values in a diff are the report's, already redacted: a Secret's values are
fingerprints, exactly as in the CLI and the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftwatch.config.model import Target
from driftwatch.history.counts import SERIES_STATES, CountPoint
from driftwatch.model import (
    DRIFT_STATES,
    ChangeKind,
    DriftState,
    FieldDrift,
    ObjectDrift,
    ResourceKey,
    TargetReport,
)
from driftwatch.run import TargetRun
from driftwatch.sinks.direction_text import commit_phrase, direction_phrase
from driftwatch.sinks.eventlog.segments import record_time
from driftwatch.sinks.metrics import public_url
from driftwatch.sinks.text_report import value_lines
from driftwatch.sinks.web.links import (
    api_events_url,
    api_json_url,
    git_file_url,
    grafana_target_url,
)
from driftwatch.sinks.web.routes import object_path, refresh_path, target_path

FirstSeen = Callable[[ResourceKey, DriftState], float | None]
"""When an object of this target was first seen in this drift state (None: unknown)."""

STATE_ORDER: tuple[DriftState, ...] = (
    DriftState.MODIFIED,
    DriftState.MISSING,
    DriftState.UNMANAGED,
    DriftState.UNKNOWN,
    DriftState.IN_SYNC,
)
STATE_LABEL = {s: s.value.replace("_", " ") for s in DriftState}
VERBS = {
    ChangeKind.CHANGED: "changed",
    ChangeKind.ADDED: "added live",
    ChangeKind.REMOVED: "removed live",
}


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Where links point: Grafana's base URL and hosts of self-hosted Git web UIs."""

    grafana_url: str | None = None
    git_web: Mapping[str, str] = field(default_factory=dict)


def fmt_time(ts: float | None) -> str:
    """``2026-12-02 01:02:03 UTC`` (empty for None)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_age(seconds: float | None) -> str:
    """``3d 4h``, ``2h 5m``, ``4m 10s`` (empty for None)."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


# ----------------------------------------------------------------------------- runs


def run_view(run: TargetRun | None, now: float) -> dict[str, Any] | None:
    """The last run: when, how long, status, failed stage and why."""
    if run is None:
        return None
    rev = run.revision
    return {
        "finished": fmt_time(run.finished_at),
        "ago": fmt_age(now - run.finished_at),
        "duration": f"{run.duration:.1f}s",
        "status": run.status.value,
        "failed_stage": run.failed_stage.value if run.failed_stage else None,
        "error": run.error,
        "git_stale": run.git_stale,
        "cluster_unreachable": run.cluster_unreachable,
        "revision": revision_view(rev.sha, rev.ref, rev.subject) if rev else None,
    }


def revision_view(sha: str, ref: str, subject: str) -> dict[str, str]:
    """The compared commit as people read it."""
    return {"sha": sha, "short": sha[:12], "ref": ref, "subject": subject}


def report_errors(report: TargetReport | None) -> list[str]:
    """Source files that could not be read and types that could not be listed."""
    if report is None:
        return []
    errors = [f"{e.display()}" for e in report.source_errors]
    errors += [f"unknown: {gk.display()}: {why}" for gk, why in report.read_errors.items()]
    return errors


def counts_view(report: TargetReport | None) -> list[dict[str, Any]]:
    """Objects per state, in page order (empty without a report)."""
    if report is None:
        return []
    totals = report.totals()
    return [{"state": s.value, "label": STATE_LABEL[s], "count": totals[s]} for s in STATE_ORDER]


# ----------------------------------------------------------------------------- chart

CHART_W, CHART_H = 240, 48


def chart_view(points: Sequence[CountPoint], now: float) -> dict[str, Any] | None:
    """A step line of drifted objects (modified + missing + unmanaged) from the first point to now.

    A dot marks the latest run; the dashed line, when any, counts unknown objects.

    Coordinates are computed here; the template draws them as an inline SVG
    polyline (presentation attributes only: no script, no inline style).
    """
    if not points:
        return None
    start = points[0].time
    end = max(now, points[-1].time, start + 60)
    top = max(max(p.drifted for p in points), max(p.counts[3] for p in points), 1)

    def x(t: float) -> float:
        return round((t - start) / (end - start) * CHART_W, 1)

    def y(v: int) -> float:
        return round(CHART_H - 2 - v / top * (CHART_H - 4), 1)

    def steps(values: list[int]) -> str:
        coords: list[str] = []
        for i, (p, v) in enumerate(zip(points, values, strict=True)):
            if i:
                coords.append(f"{x(p.time)},{y(values[i - 1])}")
            coords.append(f"{x(p.time)},{y(v)}")
        coords.append(f"{x(end)},{y(values[-1])}")
        return " ".join(coords)

    drifted = [p.drifted for p in points]
    unknown_index = SERIES_STATES.index(DriftState.UNKNOWN)
    unknown = [p.counts[unknown_index] for p in points]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "drifted": steps(drifted),
        "unknown": steps(unknown) if any(unknown) else None,
        "now": drifted[-1],
        "dot": (x(points[-1].time), y(drifted[-1])),
        "max": max(drifted),
        "since": fmt_time(start),
        "span": fmt_age(end - start),
        "runs": len(points),
    }


# ----------------------------------------------------------------------------- objects


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """One object in the target page's list (links and names built only for shown rows)."""

    target: str
    obj: ObjectDrift
    since: float | None

    @property
    def key(self) -> ResourceKey:
        """The object's identity."""
        return self.obj.key

    @property
    def state(self) -> DriftState:
        """Its drift state."""
        return self.obj.state

    @property
    def href(self) -> str:
        """Its object page."""
        return object_path(self.target, self.obj.key)

    @property
    def changed_by(self) -> str:
        """Who changed it last (empty: unknown)."""
        att = self.obj.attribution
        return att.display() if att.known else ""


def object_rows(
    target: str, report: TargetReport, first_seen: FirstSeen, select: Callable[[ObjectDrift], bool]
) -> list[ObjectRow]:
    """The selected objects, by state (page order), longest drifting first, then by key."""
    rows = [
        ObjectRow(
            target,
            obj,
            first_seen(obj.key, obj.state) if obj.state is not DriftState.IN_SYNC else None,
        )
        for obj in report.objects
        if select(obj)
    ]
    order = {s: i for i, s in enumerate(STATE_ORDER)}
    rows.sort(key=lambda r: (order[r.obj.state], r.since is None, r.since or 0.0, r.obj.key))
    return rows


def field_view(drift: FieldDrift) -> dict[str, Any]:
    """One drifted field: its CLI path, the change, who and when, and the diff lines."""
    att = drift.attribution
    return {
        "path": drift.path,
        "change": drift.change.value,
        "verb": VERBS[drift.change],
        "manager": att.manager,
        "operation": (att.operation or "") + (f"/{att.subresource}" if att.subresource else ""),
        "when": att.time or "",
        "who": att.display(),
        "direction": drift.direction.value,
        "commit": commit_phrase(drift.git_commit) if drift.git_commit is not None else "",
        "minus": value_lines(drift.desired),
        "plus": value_lines(drift.live),
    }


def object_view(
    target: Target | None,
    target_name: str,
    obj: ObjectDrift,
    run: TargetRun | None,
    *,
    since: float | None,
    now: float,
    links: LinkSettings,
) -> dict[str, Any]:
    """Everything the object page (and the HTML report) shows about one object."""
    rev = run.revision if run is not None else None
    repo = public_url(target.repo) if target is not None else (rev.repository if rev else "")
    git_url = None
    if obj.origin is not None and rev is not None and repo:
        git_url = git_file_url(repo, rev.sha, obj.origin, links.git_web)
    att = obj.changed_by if obj.changed_by is not None and not obj.fields else obj.attribution
    created = obj.created_by
    return {
        "target": target_name,
        "created_by": created.display() if created is not None and created.known else "",
        "key": obj.key,
        "display": obj.key.display(),
        "kind": obj.key.group_kind.display(),
        "state": obj.state.value,
        "state_label": STATE_LABEL[obj.state],
        "reason": obj.reason,
        "api_version": obj.api_version,
        "origin": obj.origin.display() if obj.origin is not None else None,
        "git_url": git_url,
        "revision": revision_view(rev.sha, rev.ref, rev.subject) if rev else None,
        "grafana_url": grafana_target_url(links.grafana_url, target_name),
        "json_url": api_json_url(target_name, obj.key)
        + ("&all=1" if obj.state is DriftState.IN_SYNC else ""),
        "events_url": api_events_url(target_name, obj.key),
        "href": object_path(target_name, obj.key),
        "target_href": target_path(target_name),
        "since": fmt_time(since),
        "age": fmt_age(now - since) if since is not None else "",
        "changed_by": att.display() if att.known else "",
        "moved": direction_phrase(obj) if obj.state in DRIFT_STATES and obj.fields else "",
        "fields": [field_view(f) for f in obj.fields],
        "ignored": [
            {"path": i.path, "rule": i.rule, "who": i.attribution.display()} for i in obj.ignored
        ],
    }


# ----------------------------------------------------------------------------- timeline

_EVENT_LABEL = {
    "drift.detected": "drift detected",
    "drift.changed": "drift changed",
    "drift.resolved": "drift resolved",
    "resource.missing": "went missing",
    "resource.unmanaged": "became unmanaged",
    "resource.restored": "restored",
}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def timeline_view(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Audit events of one object, newest first: when, what, state, paths, who, commit.

    Events are read defensively (a record of another version may lack a part).
    """
    out = []
    for event in events:
        data = _mapping(event.get("data"))
        short = str(
            event.get("shorttype") or str(event.get("type", "")).removeprefix("io.driftwatch.")
        )
        paths = [str(f.get("path")) for f in data.get("fields") or [] if isinstance(f, Mapping)]
        paths += [str(p) for p in data.get("previousPaths") or []]
        out.append(
            {
                "time": fmt_time(record_time(event)) or str(event.get("time") or ""),
                "type": short,
                "label": _EVENT_LABEL.get(short, short),
                "state": str(data.get("state") or ""),
                "paths": paths,
                "who": str(_mapping(data.get("attribution")).get("manager") or ""),
                "sha": str(_mapping(data.get("revision")).get("sha") or "")[:12],
            }
        )
    out.reverse()
    return out


def target_links(name: str, links: LinkSettings) -> dict[str, str | None]:
    """The target page, its refresh form and its Grafana dashboard."""
    return {
        "href": target_path(name),
        "refresh": refresh_path(name),
        "grafana": grafana_target_url(links.grafana_url, name),
    }

"""The human rendering of drift: a summary per target, then a unified diff per drifted object.

Each drifted field is one hunk headed by its path and by who changed it, with
the Git value as ``-`` lines and the live value as ``+`` lines, so the output
reads like ``git diff`` of "what Git says" against "what the cluster has".
Colours only when asked (the CLI asks on a TTY).  Values are already redacted.
Past ``max_objects`` objects in one target, the objects are counted per state,
kind and namespace instead of listed one by one (thousands of unmanaged objects
would otherwise bury the few that matter), and the output says how to see all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import yaml

from driftwatch.model import (
    ChangeKind,
    Direction,
    DriftState,
    FieldDrift,
    ObjectDrift,
    TargetReport,
)
from driftwatch.run import RunStatus, TargetRun
from driftwatch.sinks.direction_text import commit_phrase, direction_phrase

_COLORS = {
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "cyan": "\033[36m",
    "bold": "\033[1m",
    "dim": "\033[2m",
}
_RESET = "\033[0m"
_STATE_COLOR = {
    DriftState.MODIFIED: "yellow",
    DriftState.MISSING: "red",
    DriftState.UNMANAGED: "cyan",
    DriftState.UNKNOWN: "dim",
    DriftState.IN_SYNC: "green",
}


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if self.color else text


def _value_lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=False, sort_keys=True, allow_unicode=True)
    else:
        text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True)
        text = text.removesuffix("\n...\n").rstrip("\n")
    return text.splitlines() or [""]


value_lines = _value_lines
"""A drifted value as the diff's lines (YAML), shared with the HTML views."""


def field_hunk(drift: FieldDrift, paint: _Painter) -> list[str]:
    """One field as a unified-diff hunk."""
    who = drift.attribution.display()
    verb = {
        ChangeKind.CHANGED: "changed",
        ChangeKind.ADDED: "added live",
        ChangeKind.REMOVED: "removed live",
    }[drift.change]
    side = {
        Direction.CLUSTER: "in the cluster",
        Direction.GIT: "in Git, not yet applied",
        Direction.BOTH: "in Git and in the cluster",
        Direction.UNKNOWN: "side unknown",
    }[drift.direction]
    if drift.git_commit is not None:
        side += f" ({commit_phrase(drift.git_commit)})"
    lines = [paint(f"@@ {drift.path} @@ {verb} {side}, by {who}", "cyan")]
    lines += [paint(f"-{line}", "red") for line in _value_lines(drift.desired)]
    lines += [paint(f"+{line}", "green") for line in _value_lines(drift.live)]
    return lines


def object_diff(obj: ObjectDrift, *, color: bool = False) -> list[str]:
    """A drifted object as a unified diff of its drifted fields."""
    paint = _Painter(color)
    origin = obj.origin.display() if obj.origin else "(not in Git)"
    lines = [paint(f"--- git: {origin}", "bold"), paint(f"+++ live: {obj.key.display()}", "bold")]
    for drift in obj.fields:
        lines += field_hunk(drift, paint)
    return lines


def _summary(report: TargetReport) -> str:
    totals = report.totals()
    parts = [f"{totals[s]} {s.value.replace('_', ' ')}" for s in DriftState]
    if report.ignored_count:
        parts.append(f"{report.ignored_count} ignored")
    return ", ".join(parts)


DEFAULT_MAX_OBJECTS = 200
"""Objects listed one by one per target before the text report summarizes instead."""


def render_run(
    run: TargetRun,
    *,
    color: bool = False,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    all_objects: bool = False,
) -> list[str]:
    """Everything a person needs to know about one target's run.

    ``max_objects`` 0: no limit.  ``all_objects``: in-sync objects are listed too.
    """
    paint = _Painter(color)
    rev = run.revision
    head = f"target {run.target}"
    if rev is not None:
        head += f" @ {rev.ref} {rev.sha[:12]}"
        if rev.subject:
            head += f" ({rev.subject})"
    lines = [paint(head, "bold")]
    if rev is not None and rev.note:
        lines.append(paint(f"  note: {rev.note}", "yellow"))
    if run.report is None:
        stage = run.failed_stage.value if run.failed_stage else "run"
        lines.append(paint(f"  FAILED at {stage}: {run.error}", "red"))
        return lines
    report = run.report
    lines.append(f"  {_summary(report)}")
    if report.snapshot_time_estimate:
        lines.append(
            f"  cluster as of about {report.snapshot_time} "
            f"(an estimate: {report.snapshot_time_estimate})"
        )
    if run.git_stale:
        lines.append(paint(f"  warning: {run.error}", "yellow"))
    for error in report.source_errors:
        lines.append(paint(f"  error: {error.display()}", "red"))
    for gk, reason in report.read_errors.items():
        lines.append(paint(f"  unknown: {gk.display()}: {reason}", "yellow"))
    shown = [o for o in report.objects if all_objects or o.state is not DriftState.IN_SYNC]
    if max_objects and len(shown) > max_objects:
        return lines + _grouped(shown, max_objects, paint)
    for obj in shown:
        if obj.state is DriftState.IN_SYNC:
            lines.append(f"{paint('IN_SYNC', 'green')} {obj.key.display()}")
            continue
        label = paint(obj.state.value.upper(), _STATE_COLOR[obj.state])
        detail = f" ({obj.reason})" if obj.reason else ""
        who = obj.attribution
        by = f", last changed by {who.display()}" if who.known else ""
        if obj.created_by is not None and obj.created_by.known:
            by = f", {_lifetime(obj)}"
        lines.append(f"\n{label} {obj.key.display()}{detail}{by}")
        lines.append(f"  {direction_phrase(obj)}")
        if obj.state is DriftState.MISSING and obj.origin is not None:
            lines.append(f"  declared in {obj.origin.display()}, absent from the cluster")
        if obj.fields:
            lines += object_diff(obj, color=color)
    return lines


def _grouped(objects: list[ObjectDrift], limit: int, paint: _Painter) -> list[str]:
    """Objects counted per (state, kind, namespace), largest groups first, ``limit`` rows."""
    groups = Counter(
        (o.state, o.key.group_kind.display(), o.key.namespace or "(cluster)") for o in objects
    )
    rows = sorted(groups.items(), key=lambda item: (-item[1], item[0][1], item[0][2]))
    lines = [
        "",
        f"{len(objects)} objects, more than --max-objects {limit}: counted per kind and "
        "namespace (-o json lists every one; --max-objects 0 prints every one here)",
    ]
    width = max(len(str(count)) for _, count in rows)
    for (state, kind, namespace), count in rows[:limit]:
        label = paint(state.value.upper().ljust(9), _STATE_COLOR[state])
        lines.append(f"  {str(count).rjust(width)}  {label} {kind} in {namespace}")
    if len(rows) > limit:
        rest = sum(count for _, count in rows[limit:])
        lines.append(f"  … {len(rows) - limit} more groups ({rest} objects)")
    return lines


def _lifetime(obj: ObjectDrift) -> str:
    """``created by X (Update) at T, last changed by Y ..., time unknown``."""
    created = obj.created_by.described() if obj.created_by else "unknown"
    changed = obj.changed_by.described() if obj.changed_by else "unknown"
    return f"created by {created}, last changed by {changed}"


def render_runs(
    runs: Iterable[TargetRun],
    *,
    color: bool = False,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    all_objects: bool = False,
) -> str:
    """The whole ``driftwatch check`` text output."""
    blocks = [
        "\n".join(render_run(run, color=color, max_objects=max_objects, all_objects=all_objects))
        for run in runs
    ]
    return "\n\n".join(blocks) + "\n"


def overall(runs: Iterable[TargetRun]) -> str:
    """A one-line verdict across targets."""
    runs = list(runs)
    failed = sum(1 for r in runs if r.status is not RunStatus.SUCCESS)
    drifted = sum(len(r.report.drifted) for r in runs if r.report is not None)
    return (
        f"{len(runs)} target(s): {drifted} drifted object(s), {failed} target(s) not fully compared"
    )

"""The human rendering of drift: a summary per target, then a unified diff per drifted object.

Each drifted field is one hunk headed by its path and by who changed it, with
the Git value as ``-`` lines and the live value as ``+`` lines, so the output
reads like ``git diff`` of "what Git says" against "what the cluster has".
Colours only when asked (the CLI asks on a TTY).  Values are already redacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from driftwatch.model import ChangeKind, DriftState, FieldDrift, ObjectDrift, TargetReport
from driftwatch.run import RunStatus, TargetRun

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


def field_hunk(drift: FieldDrift, paint: _Painter) -> list[str]:
    """One field as a unified-diff hunk."""
    who = drift.attribution.display()
    verb = {
        ChangeKind.CHANGED: "changed",
        ChangeKind.ADDED: "added live",
        ChangeKind.REMOVED: "removed live",
    }[drift.change]
    lines = [paint(f"@@ {drift.path} @@ {verb}, by {who}", "cyan")]
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


def render_run(run: TargetRun, *, color: bool = False) -> list[str]:
    """Everything a person needs to know about one target's run."""
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
    if run.git_stale:
        lines.append(paint(f"  warning: {run.error}", "yellow"))
    for error in report.source_errors:
        lines.append(paint(f"  error: {error.display()}", "red"))
    for gk, reason in report.read_errors.items():
        lines.append(paint(f"  unknown: {gk.display()}: {reason}", "yellow"))
    for obj in report.objects:
        if obj.state is DriftState.IN_SYNC:
            continue
        label = paint(obj.state.value.upper(), _STATE_COLOR[obj.state])
        detail = f" ({obj.reason})" if obj.reason else ""
        who = obj.attribution
        by = f", last changed by {who.display()}" if who.known else ""
        if obj.created_by is not None and obj.created_by.known:
            by = f", {_lifetime(obj)}"
        lines.append(f"\n{label} {obj.key.display()}{detail}{by}")
        if obj.state is DriftState.MISSING and obj.origin is not None:
            lines.append(f"  declared in {obj.origin.display()}, absent from the cluster")
        if obj.fields:
            lines += object_diff(obj, color=color)
    return lines


def _lifetime(obj: ObjectDrift) -> str:
    """``created by X (Update) at T, last changed by Y ..., time unknown``."""
    created = obj.created_by.described() if obj.created_by else "unknown"
    changed = obj.changed_by.described() if obj.changed_by else "unknown"
    return f"created by {created}, last changed by {changed}"


def render_runs(runs: Iterable[TargetRun], *, color: bool = False) -> str:
    """The whole ``driftwatch check`` text output."""
    blocks = ["\n".join(render_run(run, color=color)) for run in runs]
    return "\n\n".join(blocks) + "\n"


def overall(runs: Iterable[TargetRun]) -> str:
    """A one-line verdict across targets."""
    runs = list(runs)
    failed = sum(1 for r in runs if r.status is not RunStatus.SUCCESS)
    drifted = sum(len(r.report.drifted) for r in runs if r.report is not None)
    return (
        f"{len(runs)} target(s): {drifted} drifted object(s), {failed} target(s) not fully compared"
    )

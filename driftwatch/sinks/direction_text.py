"""Which side moved, in words: one phrasing for the text report, alerts and events.

A Git-side change names its commit by short SHA, subject, author name and time —
never an e-mail address (the history reader never reads one).
"""

from __future__ import annotations

from datetime import UTC, datetime

from driftwatch.model import Attribution, Direction, GitRevision, ObjectDrift

SHORT_SHA = 7


def commit_phrase(commit: GitRevision, *, now: datetime | None = None) -> str:
    """``a1b2c3d 'bump api to 1.4' by Ana, 2 h ago``."""
    text = f"{commit.sha[:SHORT_SHA]} '{commit.subject}'"
    if commit.author:
        text += f" by {commit.author}"
    when = ago(commit.time, now=now)
    return f"{text}, {when}" if when else text


def direction_phrase(obj: ObjectDrift, *, now: datetime | None = None) -> str:
    """One sentence saying which side moved for a drifted object."""
    who = cluster_attribution(obj)
    cluster = "changed in the cluster"
    if who.known:
        cluster += f" by {who.display()}"
    if obj.direction is Direction.CLUSTER:
        return cluster
    git = "Git is ahead"
    if obj.git_commit is not None:
        git += f": {commit_phrase(obj.git_commit, now=now)}"
    if obj.direction is Direction.GIT:
        return f"{git} — not yet applied"
    if obj.direction is Direction.BOTH:
        return f"both moved: {git}, and {cluster}"
    return "which side moved is unknown (the applier's record does not say)"


def cluster_attribution(obj: ObjectDrift) -> Attribution:
    """Who made the newest cluster-side change (fields that moved in the cluster), else any."""
    moved = [
        f.attribution
        for f in obj.fields
        if f.direction in (Direction.CLUSTER, Direction.BOTH) and f.attribution.known
    ]
    return max(moved, key=lambda a: a.time or "", default=obj.attribution)


def ago(time: str | None, *, now: datetime | None = None) -> str:
    """``2 h ago`` for an RFC 3339 time (empty when it does not parse)."""
    if not time:
        return ""
    try:
        then = datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"

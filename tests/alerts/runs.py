"""Plain ``TargetRun``s of the shop scenario for the Alertmanager sink tests."""

from __future__ import annotations

import time

from driftwatch.model import (
    Attribution,
    ChangeKind,
    Direction,
    DriftState,
    FieldDrift,
    GitRevision,
    GroupKind,
    ObjectDrift,
    ResourceKey,
    SourceError,
    TargetReport,
)
from driftwatch.run import RunStatus, TargetRun

API = ResourceKey("apps", "Deployment", "shop", "shop-api")
CONFIG = ResourceKey("", "ConfigMap", "shop", "shop-config")
SECRET = ResourceKey("", "Secret", "shop", "shop-db")
EDIT = Attribution("kubectl-edit", "Update", None, "2026-11-30T05:00:00Z")
FULL_FINGERPRINT = "hmac-sha256:0123456789abcdef0123456789abcdef"


def scaled(key: ResourceKey = API) -> ObjectDrift:
    """``kubectl scale`` drift: spec.replicas 2 -> 4 by kubectl-edit."""
    return ObjectDrift(
        key,
        DriftState.MODIFIED,
        fields=(FieldDrift("spec.replicas", ChangeKind.CHANGED, 2, 4, EDIT),),
    )


COMMIT = GitRevision(
    "4f1c2d3e5a6b7c8d9e0f4f1c2d3e5a6b7c8d9e0f",
    "",
    author="Ana Lima",
    time="2026-12-01T09:00:00+00:00",
    subject="scale api to 3",
)


def moved(direction: Direction, key: ResourceKey = API) -> ObjectDrift:
    """``scaled`` drift whose side is known; Git-side drift names ``COMMIT``."""
    commit = COMMIT if direction in (Direction.GIT, Direction.BOTH) else None
    field = FieldDrift(
        "spec.replicas", ChangeKind.CHANGED, 2, 4, EDIT, direction=direction, git_commit=commit
    )
    return ObjectDrift(
        key, DriftState.MODIFIED, fields=(field,), direction=direction, git_commit=commit
    )


def in_sync(key: ResourceKey) -> ObjectDrift:
    """An object that matches Git."""
    return ObjectDrift(key, DriftState.IN_SYNC)


def run(
    *objects: ObjectDrift, status: RunStatus = RunStatus.SUCCESS, **report_args: object
) -> TargetRun:
    """A finished run of target ``shop`` whose report holds ``objects``."""
    now = time.time()
    report = None
    if status is not RunStatus.FAILED:
        report = TargetReport("shop", objects=sorted(objects, key=lambda o: o.key), **report_args)  # type: ignore[arg-type]
    return TargetRun("shop", started_at=now, finished_at=now, status=status, report=report)


def partial(
    *objects: ObjectDrift, unreadable: GroupKind | None = None, bad_file: bool = False
) -> TargetRun:
    """A partial run: a type could not be read, or a file could not be rendered."""
    read_errors = {unreadable: "403 forbidden"} if unreadable else {}
    source_errors = [SourceError("20-api.yaml", "bad YAML")] if bad_file else []
    return run(
        *objects, status=RunStatus.PARTIAL, read_errors=read_errors, source_errors=source_errors
    )

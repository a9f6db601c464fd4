"""Plain TargetRun/TargetReport builders for driving drift history and the audit log."""

from __future__ import annotations

from driftwatch.model import (
    Attribution,
    ChangeKind,
    DriftState,
    FieldDrift,
    GitRevision,
    GroupKind,
    ObjectDrift,
    ResourceKey,
    SourceError,
    TargetReport,
)
from driftwatch.run import RunStatus, Stage, TargetRun

TARGET = "shop"
API = ResourceKey("apps", "Deployment", "shop", "api")
CONFIG = ResourceKey("", "ConfigMap", "shop", "app-config")
STRAY = ResourceKey("", "ConfigMap", "shop", "stray")
SECRET = ResourceKey("", "Secret", "shop", "db")
REV_A = GitRevision("a" * 40, "main", subject="first")
REV_B = GitRevision("b" * 40, "main", subject="second")


def replicas(live: int, manager: str = "kubectl") -> FieldDrift:
    return FieldDrift(
        "spec.replicas",
        ChangeKind.CHANGED,
        2,
        live,
        Attribution(manager, "Update", "scale", "2026-11-30T05:00:00Z"),
    )


def image(live: str) -> FieldDrift:
    return FieldDrift(
        "spec.template.spec.containers[name=api].image",
        ChangeKind.CHANGED,
        "shop/api:1.0",
        live,
        Attribution("kubectl-set", "Update"),
    )


def obj(key: ResourceKey, state: DriftState, *fields: FieldDrift) -> ObjectDrift:
    return ObjectDrift(
        key, state, fields=tuple(fields), api_version="apps/v1" if key.group == "apps" else "v1"
    )


def run(
    *objects: ObjectDrift,
    at: float = 1000.0,
    status: RunStatus | None = None,
    revision: GitRevision | None = REV_A,
    source_errors: tuple[SourceError, ...] = (),
    read_errors: dict[GroupKind, str] | None = None,
    cluster_unreachable: bool = False,
    error: str | None = None,
    target: str = TARGET,
) -> TargetRun:
    """A finished run; ``status`` defaults to success/partial from what the report holds."""
    if status is RunStatus.FAILED:
        return TargetRun(
            target,
            started_at=at,
            finished_at=at + 1,
            status=status,
            revision=revision,
            error=error or "cluster unreachable",
            failed_stage=Stage.SNAPSHOT,
            cluster_unreachable=cluster_unreachable,
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        )
    report = TargetReport(
        target,
        objects=sorted(objects, key=lambda o: o.key),
        revision=revision,
        snapshot_time="2026-11-30T05:00:00Z",
        source_errors=list(source_errors),
        read_errors=dict(read_errors or {}),
    )
    if status is None:
        status = RunStatus.SUCCESS if report.complete else RunStatus.PARTIAL
    return TargetRun(
        target,
        started_at=at,
        finished_at=at + 1,
        status=status,
        report=report,
        revision=revision,
        cluster_unreachable=cluster_unreachable,
        error=error,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )

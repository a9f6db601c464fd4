"""Builders for reports, runs and configs, and a fake Runner, for the service tests."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from driftwatch.config.model import Config
from driftwatch.model import (
    Attribution,
    ChangeKind,
    DriftState,
    FieldDrift,
    GitRevision,
    ObjectDrift,
    ResourceKey,
    SourceLocation,
    TargetReport,
)
from driftwatch.run import RunStatus, Stage, TargetRun

REVISION = GitRevision(
    sha="0123456789abcdef0123456789abcdef01234567",
    ref="refs/heads/main",
    author="Dev <dev@example.com>",
    time="2026-01-02T03:04:05Z",
    subject="Scale api",
    repository="https://git.example.com/shop.git",
)


def drift(
    name: str = "api",
    *,
    kind: str = "Deployment",
    group: str = "apps",
    namespace: str = "shop",
    state: DriftState = DriftState.MODIFIED,
    manager: str | None = "kubectl-edit",
) -> ObjectDrift:
    """An object verdict; MODIFIED ones get one changed field attributed to ``manager``."""
    fields: tuple[FieldDrift, ...] = ()
    if state is DriftState.MODIFIED:
        att = (
            Attribution(manager, "Update", None, "2026-01-02T03:04:05Z")
            if manager
            else Attribution(None)
        )
        fields = (FieldDrift("spec.replicas", ChangeKind.CHANGED, 3, 5, att),)
    return ObjectDrift(
        key=ResourceKey(group, kind, namespace, name),
        state=state,
        fields=fields,
        origin=SourceLocation("deploy/api.yaml", 0, 1)
        if state is not DriftState.UNMANAGED
        else None,
        api_version=f"{group}/v1" if group else "v1",
    )


def report(target: str, objects: list[ObjectDrift], **kw: Any) -> TargetReport:
    return TargetReport(
        target=target,
        objects=sorted(objects, key=lambda o: o.key),
        revision=REVISION,
        snapshot_time="2026-01-02T03:05:00Z",
        **kw,
    )


def run_of(
    target: str,
    objects: list[ObjectDrift] | None = None,
    *,
    status: RunStatus = RunStatus.SUCCESS,
    finished_at: float | None = None,
    **kw: Any,
) -> TargetRun:
    now = time.time() if finished_at is None else finished_at
    rep = (
        report(target, objects) if objects is not None and status is not RunStatus.FAILED else None
    )
    defaults: dict[str, Any] = {
        "durations": {Stage.GIT: 0.2, Stage.RENDER: 0.1, Stage.SNAPSHOT: 0.7, Stage.COMPARE: 0.05},
        "revision": REVISION if status is not RunStatus.FAILED else None,
        "api_requests": Counter({("list", "200"): 4, ("get", "404"): 1}),
    }
    if status is RunStatus.FAILED:
        defaults.update(error="cluster unreachable", failed_stage=Stage.SNAPSHOT)
    defaults.update(kw)
    return TargetRun(
        target=target, started_at=now - 1.0, finished_at=now, status=status, report=rep, **defaults
    )


def config(*names: str, interval: float = 3600, **server: Any) -> Config:
    return Config.model_validate(
        {
            "targets": [
                {
                    "name": n,
                    "repo": "https://user:s3cret@git.example.com/shop.git",
                    "schedule": {"interval": interval},
                }
                for n in names
            ],
            "server": {"listen": "127.0.0.1:0", **server},
        }
    )


class FakeRunner:
    """Returns prepared runs; counts calls and the most runs of one target at once."""

    def __init__(
        self,
        objects: Mapping[str, list[ObjectDrift]] | None = None,
        *,
        gate: threading.Event | None = None,
        status: RunStatus = RunStatus.SUCCESS,
        make: Callable[[str], TargetRun] | None = None,
    ) -> None:
        self.objects = dict(objects or {})
        self.gate = gate
        self.status = status
        self.make = make
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.running: Counter[str] = Counter()
        self.max_running: Counter[str] = Counter()
        self.started = threading.Event()

    def run(self, target_name: str) -> TargetRun:
        with self.lock:
            self.calls[target_name] += 1
            self.running[target_name] += 1
            self.max_running[target_name] = max(
                self.max_running[target_name], self.running[target_name]
            )
        self.started.set()
        try:
            if self.gate is not None:
                assert self.gate.wait(30), "test gate never opened"
            if self.make is not None:
                return self.make(target_name)
            return run_of(target_name, self.objects.get(target_name, []), status=self.status)
        finally:
            with self.lock:
                self.running[target_name] -= 1


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def http_get(
    base: str, path: str, *, token: str | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base + path, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read()


def http_json(base: str, path: str, **kw: Any) -> tuple[int, Any]:
    status, _, body = http_get(base, path, **kw)
    return status, json.loads(body)

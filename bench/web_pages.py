"""``python -m bench.web_pages``: how long the drift pages take to render server-side.

Pages render from in-memory state (issue 17): the overview for 50 targets and the
target page for one target of 10,000 objects (paginated, 100 per page), plus an
object page.  Each is timed as ``WebApp.handle`` of a GET (routing, view
building, Jinja rendering, encoding; no socket), median of ``--repeat`` runs.
The baseline, measured in the same run on the same data, is what
``/api/v1/drift?target=NAME`` costs: ``report_to_json`` of the target plus
``json.dumps``.  Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from driftwatch.config.model import Config
from driftwatch.history.counts import CountPoint
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
from driftwatch.run import RunStatus, TargetRun
from driftwatch.sinks.report_json import report_to_json
from driftwatch.sinks.web.app import TargetStatus, WebApp
from driftwatch.sinks.web.http import WebRequest

NOW = 2_000_000_000.0
REVISION = GitRevision("0123456789abcdef0123456789abcdef01234567", "main", subject="bench")
KINDS = [("", "ConfigMap"), ("apps", "Deployment"), ("", "Service"), ("", "Secret")]


def make_report(target: str, objects: int, drift_share: float = 0.03) -> TargetReport:
    """``objects`` verdicts, ``drift_share`` of them modified with two attributed fields."""
    every = max(1, round(1 / drift_share))
    verdicts = []
    for i in range(objects):
        group, kind = KINDS[i % len(KINDS)]
        key = ResourceKey(group, kind, f"ns-{i // 100:03d}", f"app-{i:05d}")
        origin = SourceLocation(f"apps/ns-{i // 100:03d}/app.yaml", 0, 1 + i % 40)
        if i % every == 0:
            att = Attribution("kubectl-edit", "Update", None, "2026-11-30T04:31:29Z")
            fields = (
                FieldDrift("/spec/replicas", ChangeKind.CHANGED, 2, 5, att),
                FieldDrift("/metadata/labels/owner", ChangeKind.ADDED, None, "alice", att),
            )
            verdicts.append(ObjectDrift(key, DriftState.MODIFIED, fields, origin=origin))
        else:
            verdicts.append(ObjectDrift(key, DriftState.IN_SYNC, origin=origin))
    verdicts.sort(key=lambda o: o.key)
    return TargetReport(target, verdicts, REVISION, "2026-11-30T05:00:00Z")


class BenchSource:
    """A ``WebSource`` over fixed runs (what the service's in-memory state holds)."""

    def __init__(self, config: Config, runs: Mapping[str, TargetRun]) -> None:
        self._config = config
        self._runs = runs
        self._series = [
            CountPoint(NOW - 3600 * (100 - k), (k % 7, k % 3, 0, 0)) for k in range(100)
        ]

    def config(self) -> Config:
        return self._config

    def statuses(self) -> list[TargetStatus]:
        return [
            TargetStatus(t, self._runs[t.name], self._runs[t.name]) for t in self._config.targets
        ]

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        return NOW - 60 * (hash(key) % 10_000)

    def events(self, target: str, key: ResourceKey, limit: int) -> list[Mapping[str, Any]] | None:
        return []

    def series(self, target: str) -> list[CountPoint]:
        return self._series

    def bearer_token(self) -> str | None:
        return None

    def refresh(self, target: str) -> bool:
        return True


def app_for(targets: int, objects: int) -> tuple[WebApp, dict[str, TargetRun]]:
    names = [f"target-{i:02d}" for i in range(targets)]
    config = Config.model_validate({"targets": [{"name": n, "repo": "."} for n in names]})
    runs = {
        n: TargetRun(n, NOW - 2, NOW, RunStatus.SUCCESS, make_report(n, objects), revision=REVISION)
        for n in names
    }
    return WebApp(BenchSource(config, runs), clock=lambda: NOW), runs


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time in milliseconds."""
    action()  # warm-up: template compilation, imports
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def page(app: WebApp, target: str) -> Callable[[], int]:
    def get() -> int:
        response = app.handle(WebRequest("GET", target))
        assert response is not None and response.status == 200, target
        return len(response.body)

    return get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = []
    overview, runs50 = app_for(50, 200)
    rows.append(("overview, 50 targets x 200 objects", timed(page(overview, "/"), args.repeat)))
    rows.append(
        (
            "  baseline: /api/v1/drift JSON of all 50 targets",
            timed(
                lambda: json.dumps(
                    [report_to_json(r.report) for r in runs50.values() if r.report], default=str
                ),
                args.repeat,
            ),
        )
    )
    big, runs_big = app_for(1, 10_000)
    report = runs_big["target-00"].report
    assert report is not None
    rows.append(
        ("target page 1, 10,000 objects", timed(page(big, "/targets/target-00"), args.repeat))
    )
    rows.append(
        ("target page 100 (in sync)", timed(page(big, "/targets/target-00?page=100"), args.repeat))
    )
    rows.append(
        (
            "target page, filtered kind=Deployment",
            timed(page(big, "/targets/target-00?kind=Deployment"), args.repeat),
        )
    )
    rows.append(
        (
            "  baseline: /api/v1/drift JSON of that target",
            timed(lambda: json.dumps(report_to_json(report), default=str), args.repeat),
        )
    )
    rows.append(
        (
            "object page (in a 10,000-object target)",
            timed(
                page(big, "/targets/target-00/objects/_/ConfigMap/ns-000/app-00000"), args.repeat
            ),
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'page'.ljust(width)}  median ms")
    for name, ms in rows:
        print(f"{name.ljust(width)}  {ms:9.1f}")


if __name__ == "__main__":
    main()

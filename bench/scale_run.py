"""The measured process of the scale benchmark: one refresh of T targets on one cluster.

Builds a configuration of ``--targets`` targets (``apps/t000`` ...) on one cluster, or
one target holding the same objects (``--targets 1``: path ``apps``), runs every
target once in this process as ``driftwatch check`` does (one after another, one
``Pipeline``, so one cluster cache), and prints one JSON object: wall time, API
requests (all, and lists), peak RSS, compare seconds (the compare stage, which
includes the objects compared while pages streamed) and objects compared, and
whether the drift found over all targets is exactly the drift generated.

``--watch`` then starts ``serve``'s service in this process with every target in
watch mode, waits until every target is fed by its watches, and counts the watch
streams (threads, one connection each) and the shared watches, beside what one
watch per (target, type, namespace) — the earlier design — would have opened.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _config(args: argparse.Namespace, *, watch: bool) -> dict[str, Any]:
    from bench.templates import MARKER

    if args.targets == 1:
        paths = {"all": "apps"}
    else:
        paths = {f"t{i:03d}": f"apps/t{i:03d}" for i in range(args.targets)}
    return {
        "clusters": [
            {"name": "bench", "kubeconfig": args.kubeconfig, "listMaxAge": args.list_max_age}
        ],
        "targets": [
            {
                "name": name,
                "repo": args.repo,
                "path": path,
                "cluster": "bench",
                "selector": MARKER,
                "watch": watch,
                "schedule": {"interval": "1h"},
            }
            for name, path in paths.items()
        ],
        "server": {"listen": "127.0.0.1:0"},
    }


def _drift(runs: list[Any], objects: int, per_namespace: int) -> dict[str, Any]:
    """The drift over all targets against the generated drift.

    Every generated object carries the same ownership label, so a Namespace (cluster-
    scoped) that one target declares is, for every other target, a marked object it
    does not declare: unmanaged *for that target*, as driftwatch rightly says.  Such
    objects, declared by another target, are left out of the union.
    """
    from bench.driftwatch_run import drift_check

    declared = {
        o.key
        for run in runs
        if run.report is not None
        for o in run.report.objects
        if o.state.value != "unmanaged"
    }
    found = {
        (o.key.group, o.key.kind, o.key.namespace, o.key.name, o.state.value)
        for run in runs
        if run.report is not None
        for o in run.report.drifted
        if not (o.state.value == "unmanaged" and o.key in declared)
    }
    unknown = sum(
        1 for run in runs if run.report for o in run.report.objects if o.state.value == "unknown"
    )
    return drift_check(found, unknown, objects, per_namespace)


def _refresh(args: argparse.Namespace) -> dict[str, Any]:
    from driftwatch.config.model import Config
    from driftwatch.pipeline import Pipeline
    from driftwatch.run import Stage

    config = Config.model_validate(_config(args, watch=False))
    pipeline = Pipeline(config, state_dir=args.state_dir, cache_dir=args.cache_dir)
    started = time.perf_counter()
    runs = [pipeline.run(t.name) for t in config.targets]
    wall = time.perf_counter() - started
    requests = sum(sum(r.api_requests.values()) for r in runs)
    lists = sum(n for r in runs for (verb, _), n in r.api_requests.items() if verb == "list")
    compare = sum(r.durations.get(Stage.COMPARE, 0.0) for r in runs)
    compared = sum(len(r.report.objects) for r in runs if r.report is not None)
    stages = {s.value: sum(r.durations.get(s, 0.0) for r in runs) for s in Stage}
    from driftwatch.cluster import snapshot_request_for

    types = {
        req.group_kind
        for t in config.targets
        for req in snapshot_request_for(pipeline.desired(t.name), t, config).types
    }
    return {
        "targets": len(runs),
        "types": len(types),
        "seconds": wall,
        "api_requests": requests,
        "list_requests": lists,
        "peak_rss_mb": _rss_mb(),
        "stages": stages,
        "compare_seconds": compare,
        "compared_objects": compared,
        "compare_objects_per_second": compared / compare if compare else 0.0,
        "statuses": sorted({r.status.value for r in runs}),
        "errors": sorted({r.error for r in runs if r.error})[:3],
        "drift_check": _drift(runs, args.objects, args.per_namespace),
    }


def _watch(args: argparse.Namespace) -> dict[str, Any]:
    from driftwatch.cluster.watching import scopes_of
    from driftwatch.config.model import Config
    from driftwatch.service import Service, ServiceOptions, pipeline_factory
    from driftwatch.sinks.tracing import NOOP_TRACER

    config = Config.model_validate(_config(args, watch=True))
    with tempfile.TemporaryDirectory(prefix="dw-scale-watch-") as tmp:
        service = Service(
            config,
            runner_factory=pipeline_factory(
                state_dir=Path(tmp) / "state", cache_dir=args.cache_dir, tracer=NOOP_TRACER
            ),
            options=ServiceOptions(listen="127.0.0.1:0", grace_period=60),
        )
        service.start()
        try:
            deadline = time.monotonic() + args.watch_timeout
            names = [t.name for t in config.targets]
            while time.monotonic() < deadline:
                watches = [service.watch.target_watch(n) for n in names]
                if all(w is not None and w.healthy for w in watches):
                    break
                time.sleep(0.5)
            else:
                raise SystemExit("the watches did not all open in time")
            threads = [t for t in threading.enumerate() if t.name.startswith("driftwatch-watch-")]
            streams = [t for t in threads if t.name != "driftwatch-watch-supervisor"]
            per_target_scopes = 0
            for name in names:
                watch = service.watch.target_watch(name)
                basis = watch._basis if watch is not None else None
                per_target_scopes += len(scopes_of(basis.live)) if basis is not None else 0
            shared = service.watch.shared.watches()
            return {
                "watch_connections": len(streams),
                "shared_watches": len(shared),
                "watched_types": len({w.key.group_kind for w in shared}),
                "subscriptions": sum(w.subscribers for w in shared),
                "per_target_design_connections": per_target_scopes,
            }
        finally:
            service.stop(grace_period=60)


def main(argv: list[str] | None = None) -> int:
    """Measure one refresh (and optionally the watches), print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale_run", description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--targets", type=int, required=True)
    parser.add_argument("--objects", type=int, required=True, help="all targets together")
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--list-max-age", default="10m")
    parser.add_argument("--watch", action="store_true")
    parser.add_argument("--watch-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    result = {"refresh": _refresh(args)}
    if args.watch:
        result["watch"] = _watch(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

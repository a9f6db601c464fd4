"""Evidence for the optimization suggestions in RESULTS.md: each suspected cost timed alone.

``python -m bench.breakdown [--objects 10000]`` generates the repository, starts
the API server in its own process, then in this process times (CPU seconds,
best and median of ``--repeat``, after ``gc.collect()``): the YAML floor against
driftwatch's loader and whole render; the render cache's ``pickle.loads``
against ``marshal``/``json`` of the same bodies; the snapshot with
per-namespace lists against cluster-wide lists (wall seconds, same keep
filter); ``type_errors`` against ``compare_target``.  It reaches into the
pipeline's private stage methods on purpose (the same code a run executes), so
it may need adjusting when those change.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import marshal
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.generate import Layout, write_repo
from bench.procs import ServerProcess
from bench.templates import MARKER


def _timed(label: str, action: Callable[[], Any], repeat: int, clock: str = "cpu") -> float:
    tick = time.process_time if clock == "cpu" else time.perf_counter
    samples = []
    for _ in range(repeat):
        gc.collect()
        started = tick()
        action()
        samples.append(tick() - started)
    best, median = min(samples), statistics.median(samples)
    print(f"{label:62s} best {best:7.3f}  median {median:7.3f} s {clock}", flush=True)
    return best


def breakdown(work: Path, objects: int, repeat: int) -> None:
    """Time each suspect against its alternative (see the module doc)."""
    from driftwatch.cluster import read_live, snapshot_request_for
    from driftwatch.cluster.snapshot import SnapshotRequest
    from driftwatch.compare import compare_target
    from driftwatch.compare.schema import index_for
    from driftwatch.compare.types import type_errors
    from driftwatch.config.quick import QuickFlags, config_from_flags
    from driftwatch.pipeline import PageConsumer, Pipeline
    from driftwatch.render.plain import inside, manifest_files
    from driftwatch.render.yamlload import load_documents, read_text
    from driftwatch.run import TargetRun

    repo, kubeconfig = work / "repo", work / "kubeconfig"
    write_repo(repo, Layout(objects))
    with ServerProcess(objects, kubeconfig):
        config = config_from_flags(
            QuickFlags(repo=str(repo), kubeconfig=str(kubeconfig), selector=MARKER)
        )
        target = config.targets[0]
        pipeline = Pipeline(config, cache_dir=work / "cache")
        run = TargetRun(target=target.name, started_at=time.time())
        checkout = pipeline._checkout(target, run)
        texts = [read_text(p, str(p)) for p in manifest_files(inside(checkout.root, "."))]
        loader: Any = yaml.CSafeLoader

        print(f"--- render ({len(texts)} files)")
        _timed(
            "yaml.load_all(CSafeLoader) (the floor)",
            lambda: [list(yaml.load_all(t, Loader=loader)) for t in texts],
            repeat,
        )
        _timed("driftwatch load_documents", lambda: [load_documents(t, "f") for t in texts], repeat)
        _timed(
            "Pipeline._render, fresh cache (+ assemble, cache store)",
            lambda: Pipeline(config, cache_dir=Path(tempfile.mkdtemp(dir=work)))._render(
                target, checkout
            ),
            repeat,
        )
        desired = pipeline._render(target, checkout)
        pickled = pickle.dumps(desired, protocol=5)
        bodies = [obj.body for obj in desired.objects.values()]
        marshalled, as_json = marshal.dumps(bodies), json.dumps(bodies)
        _timed("pickle.loads(DesiredSet) (render cache hit)", lambda: pickle.loads(pickled), repeat)
        _timed("marshal.loads(bodies)", lambda: marshal.loads(marshalled), repeat)
        _timed("json.loads(bodies)", lambda: json.loads(as_json), repeat)

        print("--- snapshot")
        request = snapshot_request_for(desired, target, config)
        wide = dataclasses.replace(
            request,
            types=tuple(dataclasses.replace(t, namespaces=None) for t in request.types),
        )
        wanted = pipeline.wanted(target.name, desired)
        cluster = config.cluster_for(target)
        for label, req in (
            ("per-namespace lists", request),
            ("cluster-wide", wide),
        ):

            def snapshot(req: SnapshotRequest = req) -> Any:
                return read_live(cluster, req, pipeline.hasher, wanted=wanted)

            requests = sum(snapshot()[1].values())
            _timed(f"read_live, {label}: {requests} requests", snapshot, repeat, clock="wall")

        print("--- compare")
        live = pipeline._snapshot(target, desired, run, PageConsumer(None))
        options = pipeline.compare_options(target)
        schema = index_for(live.openapi)
        _timed("type_errors(desired, schema)", lambda: type_errors(desired, schema), repeat)
        _timed("compare_target", lambda: compare_target(desired, live, options), repeat)


def main(argv: list[str] | None = None) -> int:
    """Run the breakdown in a temp dir (always removed)."""
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="driftwatch-breakdown-"))
    try:
        breakdown(work, args.objects, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

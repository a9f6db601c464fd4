"""Microbenchmark of the compare stage alone, on one core.

Reads the desired set and the live snapshot once through the pipeline's own
stages (same redaction, same keep filter as a real run), pins the process to
one CPU, then times ``compare_target`` ``--repeat`` times with
``time.process_time`` and prints objects/s (objects = entries of the report)
as JSON: best and median — and the whole compare stage as the pipeline runs
it (``compare_target``, then ``type_errors`` on the objects that differ).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    """Load both sides, time the compare, print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.compare_micro", description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--path", default=".")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--selector")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from driftwatch.compare import compare_target
    from driftwatch.compare.engine import Judge
    from driftwatch.config.quick import QuickFlags, config_from_flags
    from driftwatch.pipeline import PageConsumer, Pipeline
    from driftwatch.run import TargetRun

    config = config_from_flags(
        QuickFlags(
            repo=args.repo, path=args.path, kubeconfig=args.kubeconfig, selector=args.selector
        )
    )
    pipeline = Pipeline(config, cache_dir=args.cache_dir)
    target = config.targets[0]
    run = TargetRun(target=target.name, started_at=time.time())
    # The pipeline's own stage functions (private, on purpose: the same code path as a run).
    checkout = pipeline._checkout(target, run)
    desired = pipeline._render(target, checkout)
    live = pipeline._snapshot(target, desired, run, PageConsumer(None))
    options = pipeline.compare_options(target)
    judge = Judge.build(options, live.openapi)  # one judge per run, as the pipeline builds it

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    type_errors: Callable[..., Any] | None = None
    try:  # the pipeline's compare stage also type-checks the declared values (newer builds)
        from driftwatch.compare import types as declared_types

        type_errors = declared_types.type_errors
    except ImportError:
        pass
    samples: list[float] = []
    checks: list[float] = []
    compared = 0
    for _ in range(max(1, args.repeat)):
        gc.collect()
        started = time.process_time()
        report = compare_target(desired, live, options, judge=judge)
        samples.append(time.process_time() - started)
        compared = len(report.objects)
        if type_errors is not None:
            gc.collect()
            started = time.process_time()
            differing = {o.key for o in report.objects if o.state.value in ("modified", "missing")}
            subset = {k: desired.objects[k] for k in differing if k in desired.objects}
            type_errors(replace(desired, objects=subset, errors=[]), judge.schema)
            checks.append(time.process_time() - started)
    best, median = min(samples), statistics.median(samples)
    result: dict[str, Any] = {
        "objects": compared,
        "desired": len(desired.objects),
        "live": len(live.objects),
        "cpu_seconds": samples,
        "objects_per_second_best": compared / best if best else 0.0,
        "objects_per_second_median": compared / median if median else 0.0,
    }
    if checks:
        stage = [c + t for c, t in zip(samples, checks, strict=True)]
        result["type_errors_cpu_seconds"] = checks
        result["stage_objects_per_second_best"] = compared / min(stage)
        result["stage_objects_per_second_median"] = compared / statistics.median(stage)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

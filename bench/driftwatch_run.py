"""The measured process: what ``driftwatch check -o json`` does, with timings, CPU and peak RSS.

It builds the configuration from the same quick flags as ``driftwatch check``,
runs ``Pipeline(config, state_dir=, cache_dir=).run(target)`` ``--runs`` times
in this one process (the second run with the Git SHA unchanged skips the
render: from the disk cache in a new process, from memory in the same one),
renders the ``-o json`` document as ``check`` does (timed as ``output``), and
prints one JSON object: per run the wall time, per-stage durations, CPU
seconds, ``render_skipped``, status and totals; the process's peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``); and, given ``--objects``, whether the
drift found is exactly the drift the benchmark generated.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    """Resident memory right now (VmRSS), 0.0 where /proc is unavailable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _StageMarks:
    """CPU time, resident and peak memory as each stage begins (the progress callback)."""

    def __init__(self, then: Callable[[str, Any], None] | None, *, freeze: bool = False) -> None:
        self.then = then
        self.freeze = freeze
        self.marks: dict[str, dict[str, float]] = {}

    def __call__(self, target: str, stage: Any) -> None:
        name = str(getattr(stage, "value", stage))
        self.marks[f"before_{name}"] = self._mark()
        if self.freeze:
            gc.freeze()
        if self.then is not None:
            self.then(target, stage)

    @staticmethod
    def _mark() -> dict[str, float]:
        return {"cpu": time.process_time(), "rss_mb": _current_rss_mb(), "peak_mb": _rss_mb()}

    def end(self) -> dict[str, dict[str, float]]:
        """The marks of the run that just ended (and forget them)."""
        self.marks["end"] = self._mark()
        marks, self.marks = self.marks, {}
        return marks


def _stage_cpu(marks: dict[str, dict[str, float]]) -> dict[str, float]:
    """CPU seconds (all threads) per stage, from consecutive marks."""
    names = list(marks)
    return {
        name.removeprefix("before_"): marks[following]["cpu"] - marks[name]["cpu"]
        for name, following in itertools.pairwise(names)
    }


def _drift_check(report: Any, objects: int, per_namespace: int) -> dict[str, Any]:
    found = {
        (o.key.group, o.key.kind, o.key.namespace, o.key.name, o.state.value)
        for o in report.drifted
    }
    unknown = sum(1 for o in report.objects if o.state.value == "unknown")
    return drift_check(found, unknown, objects, per_namespace)


def drift_check(found: set[Any], unknown: int, objects: int, per_namespace: int) -> dict[str, Any]:
    """Whether ``found`` (group, kind, namespace, name, state) is exactly the drift generated."""
    from bench.generate import Layout, expected_drift

    expected = expected_drift(Layout(objects, per_namespace))
    return {
        "ok": found == expected and unknown == 0,
        "expected": len(expected),
        "found": len(found),
        "unknown": unknown,
        "not_found": sorted(expected - found)[:5],
        "unexpected": sorted(found - expected)[:5],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline, print the measurements as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.driftwatch_run", description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--path", default=".")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--selector")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--objects", type=int, help="verify the drift against this layout")
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument("--profile", type=Path, help="write per-stage cProfile output here")
    parser.add_argument(
        "--gc",
        choices=("default", "off", "freeze", "freeze-stages"),
        default="default",
        help="experiment: the cyclic GC off, frozen after imports, or frozen as each stage begins",
    )
    args = parser.parse_args(argv)
    if args.gc == "off":
        gc.disable()

    started = time.perf_counter()
    from driftwatch.cli.check_cmd import exit_code, run_json
    from driftwatch.config.quick import QuickFlags, config_from_flags
    from driftwatch.pipeline import Pipeline

    imported = time.perf_counter() - started
    if args.gc == "freeze":
        gc.collect()
        gc.freeze()
    config = config_from_flags(
        QuickFlags(
            repo=args.repo, path=args.path, kubeconfig=args.kubeconfig, selector=args.selector
        )
    )
    profiler = None
    if args.profile is not None:
        from bench.profiling import StageProfiler

        profiler = StageProfiler()
    marks = _StageMarks(profiler.progress if profiler else None, freeze=args.gc == "freeze-stages")
    pipeline = Pipeline(config, state_dir=args.state_dir, cache_dir=args.cache_dir, progress=marks)
    target = config.targets[0].name
    runs: list[dict[str, Any]] = []
    last = None
    for index in range(args.runs):
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            with profiler.threads():
                last = pipeline.run(target)
            profiler.stop()
        else:
            last = pipeline.run(target)
        ran, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out = time.perf_counter()
        document = {
            "schema": "driftwatch.check/v1",
            "exit_code": exit_code([last]),
            "targets": [run_json(last)],
        }
        text = json.dumps(document, indent=2)
        output = time.perf_counter() - out
        report = last.report
        runs.append(
            {
                "run": index + 1,
                "seconds": ran,
                "cpu_seconds": cpu,
                "output_seconds": output,
                "output_bytes": len(text),
                "stages": {stage.value: t for stage, t in last.durations.items()},
                "render_skipped": last.render_skipped,
                "status": last.status.value,
                "error": last.error,
                "exit_code": document["exit_code"],
                "compared": len(report.objects) if report else 0,
                "totals": {k.value: v for k, v in report.totals().items()} if report else {},
                "api_requests": sum(last.api_requests.values()),
                "peak_rss_mb": _rss_mb(),
                "marks": marks.end(),
            }
        )
        runs[-1]["stage_cpu"] = _stage_cpu(runs[-1]["marks"])
        if profiler is not None:
            runs[-1]["hotspots"] = {s: profiler.hotspots(s) for s in list(profiler.profiles)}
            profiler.write(args.profile, f"run{index + 1}")
            profiler.profiles.clear()
    result: dict[str, Any] = {"import_seconds": imported, "runs": runs, "peak_rss_mb": _rss_mb()}
    if args.objects and last is not None and last.report is not None:
        result["drift_check"] = _drift_check(last.report, args.objects, args.per_namespace)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

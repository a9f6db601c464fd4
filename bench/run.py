"""``python -m bench.run``: the whole benchmark on one machine in one run (see bench/README.md).

For each N of ``--sizes`` (default 1,000, 10,000, 50,000; ``--smoke``: 1,000
only, for CI): generate and commit the repository in a temp dir, start the API
server with the same objects in its own process, measure the floor, run
driftwatch once with a fresh cache and then twice more with the SHA unchanged
(a new process, then the same process again), and at ``--micro-size`` time
the compare stage alone; at ``--profile-size`` (with ``--profile``) profile
every stage.  Prints a table, writes ``bench/out/results-<time>.json`` and
``bench/out/report-<time>.md``.  Timings are reported, never asserted; the run
fails only when something breaks or the drift found is not the drift generated.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.generate import Layout, write_repo
from bench.procs import REPO_ROOT, BenchError, ServerProcess, machine, run_json
from bench.templates import MARKER

OUT = REPO_ROOT / "bench" / "out"


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure_size(
    objects: int,
    work: Path,
    *,
    per_namespace: int,
    page_size: int,
    micro: bool,
    profile: bool,
    repeat: int,
) -> dict[str, Any]:
    """Every measurement at one N (the server is stopped before this returns)."""
    layout = Layout(objects, per_namespace)
    repo, kubeconfig = work / "repo", work / "kubeconfig"
    started = time.perf_counter()
    sha = write_repo(repo, layout)
    result: dict[str, Any] = {
        "objects": objects,
        "declared": layout.declared_count(),
        "namespaces": len(layout.namespaces),
        "commit": sha,
        "generate_seconds": time.perf_counter() - started,
    }
    _log(f"N={objects:,}: repository written ({result['generate_seconds']:.1f}s); starting server")
    common = ["--repo", str(repo), "--path", ".", "--kubeconfig", str(kubeconfig)]
    common += ["--selector", MARKER]
    verify = ["--objects", str(objects), "--per-namespace", str(per_namespace)]
    with ServerProcess(objects, kubeconfig, per_namespace) as server:
        fields = dict(p.split("=", 1) for p in server.ready_line.split()[2:])
        result["live_objects"] = int(fields.get("objects", 0))
        result["seed_seconds"] = fields.get("seed_seconds")

        def measured(name: str, module: str, args: list[str]) -> dict[str, Any]:
            _log(f"N={objects:,}: {name}")
            before = server.cpu_seconds()
            out = run_json(module, args)
            out["server_cpu_seconds"] = server.cpu_seconds() - before
            return out

        result["floor"] = measured(
            "floor",
            "bench.floor",
            [
                "--kubeconfig", str(kubeconfig), "--repo", str(repo),
                "--page-size", str(page_size), "--repeat", str(repeat),
                "--namespaces", ",".join(layout.namespaces),
            ],
        )  # fmt: skip
        firsts, seconds = [], []
        for attempt in range(1, repeat + 1):
            cache = work / f"cache-{attempt}"
            firsts.append(
                measured(
                    f"first run ({attempt}/{repeat})",
                    "bench.driftwatch_run",
                    [*common, "--cache-dir", str(cache), *verify],
                )
            )
            seconds.append(
                measured(
                    f"unchanged-SHA runs ({attempt}/{repeat})",
                    "bench.driftwatch_run",
                    [*common, "--cache-dir", str(cache), "--runs", "2", *verify],
                )
            )
        result["first"], result["second"] = _median(firsts), _median(seconds)
        result["samples"] = {
            "first": [f["runs"][0]["seconds"] for f in firsts],
            "second_new_process": [s["runs"][0]["seconds"] for s in seconds],
            "second_same_process": [s["runs"][-1]["seconds"] for s in seconds],
            "first_peak_rss_mb": [f["peak_rss_mb"] for f in firsts],
        }
        if micro:
            result["micro"] = measured(
                "micro", "bench.compare_micro", [*common, "--cache-dir", str(cache)]
            )
        if profile:
            profile_dir = OUT / f"profile-{objects}"
            shutil.rmtree(profile_dir, ignore_errors=True)
            prof = measured(
                "profile",
                "bench.driftwatch_run",
                [
                    *common,
                    "--cache-dir",
                    str(work / "cache-profile"),
                    "--profile",
                    str(profile_dir),
                ],
            )
            result["profile"] = {"dir": str(profile_dir), "hotspots": prof["runs"][0]["hotspots"]}
    for name in ("first", "second"):
        check = result[name].get("drift_check") or {}
        if not check.get("ok"):
            raise BenchError(f"N={objects}: {name} run found other drift than generated: {check}")
    return result


def _median(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample whose first run took the median time (the upper median for an even count)."""
    ordered = sorted(samples, key=lambda s: s["runs"][0]["seconds"])
    return ordered[len(ordered) // 2]


def render(results: dict[str, Any]) -> str:
    """The markdown report of one benchmark run."""
    sizes = results["sizes"]
    m = results["machine"]
    lines = [
        f"## Run of {m['date']}\n",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}, "
        f"Python {m['python']}, kubernetes client {m['kubernetes_client']}, "
        f"PyYAML {m['pyyaml']}; driftwatch {m['driftwatch_commit']}. "
        f"Page size {results['page_size']}, {results['per_namespace']} objects per namespace.\n",
        report.summary_table(sizes),
    ]
    if results.get("micro"):
        lines.append(report.micro_line(results["micro"]))
    lines.append("Targets (measured, not asserted):\n")
    lines += report.verdicts(sizes, results.get("micro"))
    lines.append("")
    lines += [report.size_table(size) for size in sizes]
    for size in sizes:
        if size.get("profile"):
            lines.append(
                f"### Hot spots at N = {size['objects']:,} (cProfile, own time; "
                f"full output in {size['profile']['dir']})\n"
            )
            lines.append(report.hotspot_tables(size["profile"]["hotspots"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a step failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="1000,10000,50000",
        help="comma-separated object counts (multiples of 10)",
    )
    parser.add_argument("--smoke", action="store_true", help="N=1000 only, quick (CI)")
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=500, help="driftwatch's default")
    parser.add_argument("--micro-size", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="profile stages at --profile-size")
    parser.add_argument("--profile-size", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="measure each run this often, report the median"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    args = parser.parse_args(argv)
    sizes = [1000] if args.smoke else [int(s) for s in args.sizes.split(",") if s.strip()]
    micro_size = args.micro_size if args.micro_size in sizes else max(sizes)

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine(),
        "page_size": args.page_size,
        "per_namespace": args.per_namespace,
        "sizes": [],
    }
    try:
        for objects in sizes:
            work = Path(tempfile.mkdtemp(prefix=f"driftwatch-bench-{objects}-"))
            try:
                size = measure_size(
                    objects,
                    work,
                    per_namespace=args.per_namespace,
                    page_size=args.page_size,
                    micro=objects == micro_size,
                    profile=args.profile and objects == args.profile_size,
                    repeat=1 if args.smoke else max(1, args.repeat),
                )
            finally:
                if args.keep:
                    _log(f"kept {work}")
                else:
                    shutil.rmtree(work, ignore_errors=True)
            if "micro" in size:
                results["micro"] = size.pop("micro")
            results["sizes"].append(size)
    except (BenchError, ValueError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"results-{stamp}.json").write_text(json.dumps(results, indent=1))
    text = render(results)
    (OUT / f"report-{stamp}.md").write_text(text)
    print(report.summary_table(results["sizes"]))
    if results.get("micro"):
        print(report.micro_line(results["micro"]))
    print("\n".join(report.verdicts(results["sizes"], results.get("micro"))))
    print(f"\nfull report: {OUT / f'report-{stamp}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

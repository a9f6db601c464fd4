"""Many targets on one cluster against one target holding the same objects (issue 18).

``python -m bench.scale`` generates, per layout ``TxN`` (T targets of N objects
each), one Git repository whose apps are grouped into T target directories and a
test API server (its own process) holding the matching live objects, then measures
in fresh processes (``bench.scale_run``) one refresh of the T targets and one
refresh of a single target holding all T x N objects: wall time, API requests
(all, and list pages), the number of types, peak RSS, compare throughput (all
compare work, the part done while pages streamed included) and, with ``--watch``
for the layouts named there, the watch connections once every target is in watch
mode. Ratios are against the single target measured in the same run.

    python -m bench.scale                                   # 100x100 and 20x5000
    python -m bench.scale --layouts 100x100 --watch 100x100 --ownership
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.generate import Layout, write_repo
from bench.procs import REPO_ROOT, ServerProcess, machine, run_json


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure(
    targets: int,
    per_target: int,
    *,
    ownership: bool,
    watch: bool,
    per_namespace: int,
    list_max_age: str = "10m",
) -> dict[str, Any]:
    """Both variants of one layout against one server."""
    objects = targets * per_target
    layout = Layout(objects, per_namespace)
    with tempfile.TemporaryDirectory(prefix="dw-scale-") as tmp_text:
        tmp = Path(tmp_text)
        _log(f"{targets}x{per_target}: writing the repository ({objects:,} objects)")
        write_repo(tmp / "repo", layout, ownership=ownership, groups=targets)
        kubeconfig = tmp / "kubeconfig"
        _log(f"{targets}x{per_target}: seeding the API server")
        with ServerProcess(objects, kubeconfig, per_namespace, ownership=ownership) as server:
            _log(f"server: {server.ready_line}")
            out: dict[str, Any] = {"targets": targets, "per_target": per_target}
            for label, count in (("single", 1), ("many", targets)):
                args = ["--repo", str(tmp / "repo"), "--kubeconfig", str(kubeconfig)]
                args += ["--targets", str(count), "--objects", str(objects)]
                args += ["--per-namespace", str(per_namespace), "--list-max-age", list_max_age]
                args += ["--cache-dir", str(tmp / f"cache-{label}")]
                args += ["--state-dir", str(tmp / f"state-{label}")]
                if watch:
                    args.append("--watch")
                _log(f"{targets}x{per_target}: measuring {label} ({count} target(s))")
                out[label] = run_json("bench.scale_run", args)
                shutil.rmtree(tmp / f"cache-{label}", ignore_errors=True)
            return out


def ratio(many: float, single: float) -> str:
    """``many / single`` to two decimals ('-' without a baseline)."""
    return f"{many / single:.2f}" if single else "-"


def render(results: list[dict[str, Any]], command: str, ownership: bool) -> str:
    """The markdown table for bench/RESULTS.md."""
    lines = [
        f"`{command}`" + (" (with the SSA and controller-owned shares)" if ownership else ""),
        "",
        "| layout | variant | wall s | x single | API requests | list pages | types"
        " | peak RSS MB | x single | compare s | compare obj/s | watch connections"
        " | per-target design | drift ok |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        single = result["single"]["refresh"]
        for variant in ("single", "many"):
            measured = result[variant]
            r = measured["refresh"]
            w = measured.get("watch") or {}
            lines.append(
                f"| {result['targets']}x{result['per_target']:,} | "
                f"{r['targets']} target(s) | {r['seconds']:.2f} | "
                f"{ratio(r['seconds'], single['seconds'])} | {r['api_requests']} | "
                f"{r['list_requests']} | {r['types']} | {r['peak_rss_mb']:.0f} | "
                f"{ratio(r['peak_rss_mb'], single['peak_rss_mb'])} | "
                f"{r['compare_seconds']:.2f} | {r['compare_objects_per_second']:,.0f} | "
                f"{w.get('watch_connections', '-')} | "
                f"{w.get('per_target_design_connections', '-')} | "
                f"{'yes' if r['drift_check']['ok'] else 'NO ' + json.dumps(r['drift_check'])} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the layouts, print the table, write every number to bench/out/."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--layouts", default="100x100,20x5000", help="TxN, comma-separated")
    parser.add_argument("--watch", default="100x100", help="layouts to measure watches for")
    parser.add_argument("--ownership", action="store_true", help="SSA and controller shares")
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument(
        "--list-max-age", default="10m", help="clusters[].listMaxAge (0: shared only in flight)"
    )
    args = parser.parse_args(argv)
    watched = {w for w in args.watch.split(",") if w}
    results = []
    for text in args.layouts.split(","):
        targets, per_target = (int(x) for x in text.lower().split("x"))
        results.append(
            measure(
                targets,
                per_target,
                ownership=args.ownership,
                watch=text in watched,
                per_namespace=args.per_namespace,
                list_max_age=args.list_max_age,
            )
        )
    command = "python -m bench.scale " + " ".join(sys.argv[1:] if argv is None else argv)
    table = render(results, command.strip(), args.ownership)
    print(table)
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"scale-{stamp}.json").write_text(
        json.dumps({"machine": machine(), "results": results}, indent=1)
    )
    checks = [r[v]["refresh"]["drift_check"] for r in results for v in ("single", "many")]
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m bench.speed``: issue 21's goals, each against its floor measured in the same run.

For each N of ``--sizes`` (default 1,000 and 10,000): generate and commit the
repository, start the API server (``bench.serve``, its own process), then, in
``--pairs`` alternating pairs of **new processes** (so drift in the machine's
load hits both sides of a ratio alike):

1. **first run** — ``python -m driftwatch check -o json`` with an empty cache
   dir, against the floor process (``bench.speed_floor``: import the client,
   load the kubeconfig, LIST every type as raw JSON, parse every YAML file with
   the C loader).  Goal: ≤ 1.5x.
2. **1% changed** — a second commit rewrites 1% of the manifest files (a
   comment line added: new blobs, the same objects, so the drift found must
   not change); ``check`` again with the first run's cache dir, against the
   LIST-only floor process.  Goal: ≤ 1.2x.
3. **warm serve, unchanged SHA** — one process runs the pipeline twice as
   ``serve`` does (``bench.driftwatch_run --runs 2``); the second run's time
   against the second of two in-process listings of the LIST-only floor (both
   warm interpreters, neither pays start-up).  Goal: ≤ 1.2x.

Every process's wall time and CPU time (user + system, ``RUSAGE_CHILDREN``) are
recorded; ratios use the median of each side.  ``check`` runs with
``--state-dir`` so its fingerprint key (and with it the on-disk parse cache)
outlives the process, as it does for a user with a state directory.  The run
fails only if a step breaks or the drift found is not the drift generated.
Prints a markdown table; writes ``bench/out/speed-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import Layout, _commit, expected_drift, write_repo
from bench.procs import PYTHON, REPO_ROOT, BenchError, ServerProcess, _env, machine, run_json
from bench.templates import MARKER

OUT = REPO_ROOT / "bench" / "out"
GOALS = {"first": 1.5, "changed": 1.2, "warm": 1.2}


def _log(message: str) -> None:
    print(f"[speed {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(argv: list[str], *, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run ``python argv`` as a new process: wall and CPU seconds, stdout as text."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, *argv],
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out, err = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in ok:
        raise BenchError(f"{argv[:3]} exited {process.returncode}: {err.decode()[-2000:]}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "stdout": out.decode(),
        "exit": process.returncode,
    }


def _drift_of(check_json: str) -> set[tuple[str, str, str, str, str]]:
    document = json.loads(check_json)
    report = document["targets"][0]["report"]
    return {
        (o["group"], o["kind"], o["namespace"], o["name"], o["state"])
        for o in report["objects"]
        if o["state"] != "in_sync"
    }


def change_files(repo: Path, percent: float) -> int:
    """Commit a comment line added to ``percent``% of the manifest files; returns the count."""
    files = sorted(p for p in repo.rglob("*.yaml") if ".git" not in p.parts)
    count = max(1, round(len(files) * percent / 100))
    chosen = [files[i * len(files) // count] for i in range(count)]  # spread over the repo
    for path in chosen:
        path.write_text("# touched by bench.speed\n" + path.read_text())
    _commit(repo)  # the generator's own commit (and repack), on top of the first
    return len(chosen)


def measure(objects: int, work: Path, *, pairs: int, percent: float) -> dict[str, Any]:
    """Every measurement at one N (the server is stopped before this returns)."""
    layout = Layout(objects)
    repo, kubeconfig = work / "repo", work / "kubeconfig"
    write_repo(repo, layout)
    expected = expected_drift(layout)
    floor_args = ["-m", "bench.speed_floor", "--kubeconfig", str(kubeconfig), "--repo", str(repo)]
    target = ["--repo", str(repo), "--path", ".", "--kubeconfig", str(kubeconfig)]
    target += ["--selector", MARKER]

    def check(attempt: int) -> dict[str, Any]:
        run = timed(
            [
                "-m", "driftwatch", "check", *target, "-o", "json",
                "--cache-dir", str(work / f"cache-{attempt}"),
                "--state-dir", str(work / f"state-{attempt}"),
            ],
            ok=(1,),
        )  # fmt: skip
        document = run.pop("stdout")
        found = _drift_of(document)
        run["stages"] = json.loads(document)["targets"][0]["durations_seconds"]
        if found != expected:
            raise BenchError(
                f"N={objects}: drift found is not the drift generated: "
                f"{sorted(found ^ expected)[:5]}"
            )
        return run

    samples: dict[str, list[dict[str, Any]]] = {}
    with ServerProcess(objects, kubeconfig) as server:
        _log(f"N={objects:,}: server ready ({server.ready_line})")
        for attempt in range(pairs):
            _log(f"N={objects:,}: first run vs floor ({attempt + 1}/{pairs})")
            floor = timed(floor_args)
            samples.setdefault("floor", []).append({**floor, **json.loads(floor.pop("stdout"))})
            samples.setdefault("first", []).append(check(attempt))
        changed = change_files(repo, percent)
        _log(f"N={objects:,}: committed {changed} changed files ({percent}%)")
        for attempt in range(pairs):
            _log(f"N={objects:,}: 1%-changed commit vs LIST-only floor ({attempt + 1}/{pairs})")
            lists = timed([*floor_args, "--lists-only", "--repeat", "2"])
            samples.setdefault("list_floor", []).append(
                {**lists, **json.loads(lists.pop("stdout"))}
            )
            samples.setdefault("changed", []).append(check(attempt))
        for attempt in range(pairs):
            _log(f"N={objects:,}: warm serve run, unchanged SHA ({attempt + 1}/{pairs})")
            warm = run_json(
                "bench.driftwatch_run",
                [
                    *target, "--cache-dir", str(work / f"cache-{attempt}"),
                    "--state-dir", str(work / f"state-{attempt}"), "--runs", "2",
                    "--objects", str(objects),
                ],
            )  # fmt: skip
            if not (warm.get("drift_check") or {}).get("ok"):
                raise BenchError(f"N={objects}: warm run found other drift: {warm['drift_check']}")
            samples.setdefault("warm", []).append(warm["runs"][1])
        costs = startup(kubeconfig, pairs)
    return {"objects": objects, "changed_files": changed, "samples": samples, "startup": costs}


STARTUP = {
    "python (nothing imported)": "pass",
    "import kubernetes": "import kubernetes",
    "import kubernetes + load the kubeconfig": (
        "import sys; from kubernetes import config; "
        "config.new_client_from_config(config_file=sys.argv[1])"
    ),
    "driftwatch check's imports": (
        "import driftwatch.cli, driftwatch.cli.check_cmd, driftwatch.pipeline, "
        "driftwatch.source.git, driftwatch.render.plain"
    ),
    "driftwatch check's imports + client": (
        "import sys; import driftwatch.cli.check_cmd, driftwatch.pipeline; "
        "from driftwatch.cluster.connect import connect; "
        "from driftwatch.config.model import Cluster; "
        "connect(Cluster(name='c', kubeconfig=sys.argv[1]))"
    ),
}
"""Start-up costs, each measured as a new process (``python -c CODE KUBECONFIG``)."""


def startup(kubeconfig: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each ``STARTUP`` process."""
    out: dict[str, dict[str, float]] = {}
    for name, code in STARTUP.items():
        runs = [timed(["-c", code, str(kubeconfig)]) for _ in range(repeat)]
        out[name] = {
            "wall": float(statistics.median(r["wall"] for r in runs)),
            "cpu": float(statistics.median(r["cpu"] for r in runs)),
        }
    return out


def startup_table(costs: dict[str, dict[str, float]]) -> str:
    """The start-up costs as a markdown table."""
    lines = ["| new process | wall s | CPU s |", "|---|---:|---:|"]
    lines += [f"| {name} | {c['wall']:.2f} | {c['cpu']:.2f} |" for name, c in costs.items()]
    return "\n".join(lines)


def summarize(size: dict[str, Any]) -> dict[str, Any]:
    """Medians and ratios of one N."""
    s = size["samples"]

    def med(name: str, field: str) -> float:
        return float(statistics.median(x[field] for x in s[name]))

    warm_list = statistics.median(x["list_seconds"][-1] for x in s["list_floor"])
    warm = statistics.median(x["seconds"] for x in s["warm"])
    warm_list_cpu = statistics.median(x["list_cpu_seconds"][-1] for x in s["list_floor"])
    warm_cpu = statistics.median(x["cpu_seconds"] for x in s["warm"])
    out = {
        "objects": size["objects"],
        "floor": med("floor", "wall"),
        "floor_cpu": med("floor", "cpu"),
        "first": med("first", "wall"),
        "first_cpu": med("first", "cpu"),
        "list_floor": med("list_floor", "wall"),
        "list_floor_cpu": med("list_floor", "cpu"),
        "changed": med("changed", "wall"),
        "changed_cpu": med("changed", "cpu"),
        "warm_list": warm_list,
        "warm": warm,
        "warm_list_cpu": warm_list_cpu,
        "warm_cpu": warm_cpu,
        "warm_stages": _median_stages(s["warm"]),
        "first_stages": _median_stages(s["first"]),
        "changed_stages": _median_stages(s["changed"]),
    }
    out["x_first"] = out["first"] / out["floor"]
    out["x_first_cpu"] = out["first_cpu"] / out["floor_cpu"]
    out["x_changed"] = out["changed"] / out["list_floor"]
    out["x_changed_cpu"] = out["changed_cpu"] / out["list_floor_cpu"]
    out["x_warm"] = warm / warm_list
    out["x_warm_cpu"] = warm_cpu / warm_list_cpu
    return out


def _median_stages(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Per-stage wall seconds (as ``check -o json`` reports them), median over the runs."""
    names = runs[0].get("stages", {})
    return {n: float(statistics.median(r["stages"].get(n, 0.0) for r in runs)) for n in names}


def stage_table(rows: list[dict[str, Any]]) -> str:
    """Where each measured run's time went, per stage (medians; process start-up not included)."""
    lines = [
        "| N | run | git | render | snapshot | compare | emit |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        for name in ("first", "changed", "warm"):
            st = r[f"{name}_stages"]
            cells = " | ".join(
                f"{st.get(k, 0.0):.2f}" for k in ("git", "render", "snapshot", "compare", "emit")
            )
            lines.append(f"| {r['objects']:,} | {name} | {cells} |")
    return "\n".join(lines)


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of every N."""
    lines = [
        "| N | first run s (cpu) | floor s (cpu) | x floor (cpu) | 1%-changed s (cpu) "
        "| LIST-only floor s (cpu) | x floor (cpu) | warm serve run s (cpu) "
        "| warm LIST floor s (cpu) | x floor (cpu) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['objects']:,} | {r['first']:.2f} ({r['first_cpu']:.2f}) "
            f"| {r['floor']:.2f} ({r['floor_cpu']:.2f}) "
            f"| **{r['x_first']:.2f}** ({r['x_first_cpu']:.2f}) "
            f"| {r['changed']:.2f} ({r['changed_cpu']:.2f}) "
            f"| {r['list_floor']:.2f} ({r['list_floor_cpu']:.2f}) "
            f"| **{r['x_changed']:.2f}** ({r['x_changed_cpu']:.2f}) "
            f"| {r['warm']:.2f} ({r['warm_cpu']:.2f}) "
            f"| {r['warm_list']:.2f} ({r['warm_list_cpu']:.2f}) "
            f"| **{r['x_warm']:.2f}** ({r['x_warm_cpu']:.2f}) |"
        )
    goals = ", ".join(f"{k} ≤ {v}x" for k, v in GOALS.items())
    lines.append(f"\nGoals: {goals} (wall time; CPU in parentheses).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the speed benchmark; exit 1 if a step failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated object counts")
    parser.add_argument("--pairs", type=int, default=3, help="alternating pairs per goal")
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true", help="keep the temp directories")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "sizes": []}
    rows = []
    try:
        for objects in (int(s) for s in args.sizes.split(",") if s.strip()):
            work = Path(tempfile.mkdtemp(prefix=f"driftwatch-speed-{objects}-"))
            try:
                size = measure(objects, work, pairs=args.pairs, percent=args.changed_percent)
            finally:
                if args.keep:
                    _log(f"kept {work}")
                else:
                    shutil.rmtree(work, ignore_errors=True)
            rows.append(summarize(size))
            results["sizes"].append({**size, "summary": rows[-1]})
            _log(table(rows[-1:]))
    except (BenchError, ValueError) as e:
        print(f"bench.speed: {e}", file=sys.stderr)
        return 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"speed-{stamp}.json").write_text(json.dumps(results, indent=1))
    print(table(rows))
    print("\nStages (wall seconds, medians):\n")
    print(stage_table(rows))
    for size in results["sizes"]:
        print(f"\nStart-up (N = {size['objects']:,}'s server, medians):\n")
        print(startup_table(size["startup"]))
    print(f"\nall samples: {OUT / f'speed-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak test: ``driftwatch serve`` running many checks in a row, watched for leaks.

``python -m bench.soak [--objects 2000] [--runs 300] [--interval 1s]`` generates
the benchmark repository and cluster (bench.generate, bench.serve), starts
``python -m driftwatch serve`` against them on 127.0.0.1 with a short interval,
and after every finished run (seen in ``/api/v1/targets``) samples the serve
process's resident memory, open file descriptors (``/proc/<pid>/fd``) and
thread count.  It reports the growth from just after warm-up to the end (the
median of ``--window`` samples at each end) and the slope per 100 runs, and
writes every sample to ``bench/out/soak-<time>.json``.  Nothing is asserted;
the run fails only when serve cannot start or stops producing runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import Layout, write_repo
from bench.procs import PYTHON, REPO_ROOT, BenchError, ServerProcess, machine, proc_cpu_seconds
from bench.templates import MARKER

OUT = REPO_ROOT / "bench" / "out"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def sample(pid: int) -> dict[str, float]:
    """RSS (MB), open fds and threads of a process, from /proc."""
    rss = threads = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            threads = float(line.split()[1])
    fds = float(len(os.listdir(f"/proc/{pid}/fd")))
    return {"rss_mb": rss, "fds": fds, "threads": threads, "cpu_seconds": proc_cpu_seconds(pid)}


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope (0.0 with fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def summarize(samples: list[dict[str, Any]], warmup: int, window: int) -> dict[str, Any]:
    """Growth of each measure from just after warm-up to the end, and its slope per 100 runs."""
    steady = samples[warmup:] if len(samples) > warmup + 2 * window else samples
    out: dict[str, Any] = {"runs": len(samples), "warmup_runs": len(samples) - len(steady)}
    for measure in ("rss_mb", "fds", "threads"):
        first = statistics.median(s[measure] for s in steady[:window])
        last = statistics.median(s[measure] for s in steady[-window:])
        slope = _slope([float(s["run"]) for s in steady], [float(s[measure]) for s in steady])
        out[measure] = {
            "after_warmup": first,
            "end": last,
            "growth": last - first,
            "per_100_runs": slope * 100,
            "max": max(s[measure] for s in samples),
        }
    durations = [s["duration_seconds"] for s in steady if s.get("duration_seconds") is not None]
    out["run_seconds_median"] = statistics.median(durations) if durations else None
    out["statuses"] = {
        status: sum(1 for s in samples if s.get("status") == status)
        for status in {s.get("status") for s in samples}
    }
    return out


def _stop(process: subprocess.Popen[bytes], grace: float = 60.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    return process.returncode


def soak(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run serve for ``args.runs`` runs and sample it after each."""
    layout = Layout(args.objects, args.per_namespace)
    repo, kubeconfig = work / "repo", work / "kubeconfig"
    write_repo(repo, layout)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [PYTHON, "-m", "driftwatch", "serve", "--repo", str(repo), "--path", "."]
    command += ["--kubeconfig", str(kubeconfig), "--selector", MARKER]
    command += ["--interval", args.interval, "--listen", f"127.0.0.1:{port}"]
    command += ["--state-dir", str(work / "state"), "--cache-dir", str(work / "cache")]
    command += ["--log-level", "warning", "--log-format", "json"]
    samples: list[dict[str, Any]] = []
    with (
        ServerProcess(args.objects, kubeconfig, args.per_namespace),
        open(work / "serve.log", "wb") as log,
    ):
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        env.pop("KUBECONFIG", None)
        serve = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(serve, base, timeout=180)
            print(f"soak: serve ready on {base}, pid {serve.pid}", file=sys.stderr, flush=True)
            seen = 0
            deadline_per_run = 60.0 + _seconds(args.interval)
            deadline = time.monotonic() + deadline_per_run
            while seen < args.runs:
                if serve.poll() is not None:
                    raise BenchError(f"driftwatch serve exited {serve.returncode}")
                if time.monotonic() > deadline:
                    raise BenchError(f"no new run within {deadline_per_run:.0f}s")
                total = _runs_total(base)
                if total is not None and total > seen:
                    seen = total
                    deadline = time.monotonic() + deadline_per_run
                    _status, body = _get(base + "/api/v1/targets")
                    run = json.loads(body)["targets"][0].get("last_run") or {}
                    entry = {
                        "run": seen,
                        "time": time.time(),
                        "status": run.get("status"),
                        "duration_seconds": run.get("duration_seconds"),
                        **sample(serve.pid),
                    }
                    samples.append(entry)
                    if entry["run"] % args.progress_every == 0:
                        print(
                            f"soak: run {entry['run']}: rss {entry['rss_mb']:.1f} MB, "
                            f"fds {entry['fds']:.0f}, threads {entry['threads']:.0f}, "
                            f"status {entry['status']}",
                            file=sys.stderr,
                            flush=True,
                        )
                time.sleep(0.1)
        finally:
            code = _stop(serve)
    return {"samples": samples, "serve_exit_code": code}


def _runs_total(base: str) -> int | None:
    """Finished runs so far: the sum of ``driftwatch_runs_total`` on /metrics."""
    status, body = _get(base + "/metrics")
    if status != 200:
        return None
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("driftwatch_runs_total{") or line.startswith("driftwatch_runs_total "):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def _wait_ready(serve: subprocess.Popen[bytes], base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise BenchError(f"driftwatch serve exited {serve.returncode} before it was ready")
        status, _ = _get(base + "/readyz", timeout=2)
        if status == 200:
            return
        time.sleep(0.25)
    raise BenchError(f"driftwatch serve was not ready within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    """Run the soak test, print and save the summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--per-namespace", type=int, default=100)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--warmup", type=int, default=30, help="runs left out before measuring")
    parser.add_argument("--window", type=int, default=10, help="samples in each end's median")
    parser.add_argument("--progress-every", type=int, default=25)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="driftwatch-soak-"))
    try:
        result = soak(args, work)
    except BenchError as e:
        print(f"soak: {e} (serve log: {work / 'serve.log'})", file=sys.stderr)
        return 1
    finally:
        if not args.keep and not (work / "serve.log").exists():
            shutil.rmtree(work, ignore_errors=True)
    summary = summarize(result["samples"], args.warmup, args.window)
    summary["serve_exit_code"] = result["serve_exit_code"]
    document = {
        "machine": machine(),
        "objects": args.objects,
        "interval": args.interval,
        "summary": summary,
        "samples": result["samples"],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"soak-{stamp}.json").write_text(json.dumps(document, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, indent=1))
    print(f"samples: {OUT / f'soak-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

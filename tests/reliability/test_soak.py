"""Soak: a ``driftwatch serve`` process running its target over and over does not grow.

``driftwatch serve`` runs as its own process (real pipeline, real audit log, real
HTTP) against the Kubernetes API test server holding the shop plus 1,000
ConfigMaps cloned from a recorded one in the target's namespace: every run lists
all of them (2 pages); one in ten carries the ownership marker and is kept and
compared (100 unmanaged objects, 100 metric series, 100 history entries).  The
test asks for one run at a time (``POST /api/v1/refresh``), reads /metrics and
/api/v1/drift between runs, and samples the serve process's resident memory and
open descriptors while it is idle after each run.  After a warm-up, the slope
of resident memory over the runs (Theil-Sen: the median of the slopes between
every two samples, so a one-off step such as a cache filling up does not count
as growth while a leak, which grows every run, does) must stay under 3 % of the
warm size per 100 runs (keeping each run's report exceeds it); open descriptors
may not grow.  serve runs with one malloc arena
(``MALLOC_ARENA_MAX=1``) and a fixed mmap threshold, so its RSS does not jump by
whole arenas depending on which worker thread ran a run, nor creep while glibc
moves its threshold.  ``bench/soak.py`` runs the same idea for longer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.soak import sample
from tests.kubeapi import KubeApiServer, store_for_scenario, synthetic_config_maps
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import metric, write_config
from tests.reliability.serve_proc import ServeProcess
from tests.service.helpers import http_get
from tests.subprocess_cli import cli_env

pytestmark = pytest.mark.slow

RUNS = 200
"""Runs at most; the test stops earlier at ``BUDGET_SECONDS``."""
BUDGET_SECONDS = 170.0
WARM_UP = 80
"""Runs left out of the slope: caches, interned strings and the heap settle (~75 runs)."""
MIN_MEASURED = 30
OBJECTS = 1000
MARKED = OBJECTS // 10
GROWTH_BUDGET = 0.03
"""Largest accepted slope: 3 % of the warm resident memory per 100 runs."""


def median_slope(xs: list[float], ys: list[float]) -> float:
    """Theil-Sen slope: the median slope between every two points."""
    return statistics.median(
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    )


def runs_finished(serve: ServeProcess) -> int:
    return int(metric(serve.metrics(), "driftwatch_runs_total", target="shop"))


@pytest.mark.timeout(300)
def test_serve_memory_and_descriptors_stay_flat_over_many_runs(
    kube_api_factory: Callable[..., KubeApiServer], shop_git: Path, tmp_path: Path
) -> None:
    store = store_for_scenario("shop/untouched-csa")
    marker = {"app.kubernetes.io/part-of": "shop"}
    store.seed(
        {**cm, "metadata": {**cm["metadata"], "labels": marker}} if n % 10 == 0 else cm
        for n, cm in enumerate(synthetic_config_maps(OBJECTS, ("shop",), labels={"app": "bulk"}))
    )
    server = kube_api_factory(None, store=store)
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(shop_git),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
    )
    serve = ServeProcess(
        "--config", str(config), "--state-dir", str(tmp_path / "state"),
        "--cache-dir", str(tmp_path / "cache"),
        env=cli_env(
            PYTHONDONTWRITEBYTECODE="1", MALLOC_ARENA_MAX="1", MALLOC_MMAP_THRESHOLD_="131072"
        ),
    )  # fmt: skip
    samples: list[tuple[int, dict[str, float]]] = []
    try:
        done = _wait_for_runs(serve, 1)  # the run at start-up
        started = time.monotonic()
        while done < RUNS and time.monotonic() - started < BUDGET_SECONDS:
            assert http_get(serve.base, "/api/v1/refresh?target=shop", method="POST")[0] == 202
            done = _wait_for_runs(serve, done + 1)
            if done % 10 == 0:
                text = serve.metrics()
                assert metric(text, "driftwatch_resources", state="unmanaged") == MARKED
                assert metric(text, "driftwatch_runs_total", status="success") == done
                assert serve.get("/api/v1/drift?kind=ConfigMap&name=x")[0] == 200
                server.clear_requests()  # the test server's request log is not serve's memory
            if done > WARM_UP:
                samples.append((done, sample(serve.proc.pid)))
        events = serve.get("/api/v1/events?type=resource.unmanaged&limit=1000")
    finally:
        assert serve.stop() == 0, "".join(serve.lines)[-3000:]

    assert len(samples) >= MIN_MEASURED, f"only {done} runs in {BUDGET_SECONDS:.0f}s"
    runs = [float(n) for n, _ in samples]
    rss = [s["rss_mb"] for _, s in samples]
    fds = [s["fds"] for _, s in samples]
    per_100 = median_slope(runs, rss) * 100
    print(
        f"soak: {done} runs, RSS {rss[0]:.1f} -> {rss[-1]:.1f} MB (max {max(rss):.1f}), "
        f"slope {per_100:+.2f} MB per 100 runs; fds {fds[0]:.0f} -> max {max(fds):.0f}"
    )
    assert per_100 < GROWTH_BUDGET * rss[0], (per_100, rss)
    assert max(fds) <= fds[0] + 2, fds
    assert events[0] == 200
    assert events[1].count(b'"resource.unmanaged"') == MARKED


def _wait_for_runs(serve: ServeProcess, total: int, timeout: float = 60.0) -> int:
    """Wait until ``total`` runs finished; the count then."""
    deadline = time.monotonic() + timeout
    while (done := runs_finished(serve)) < total:
        assert serve.proc.poll() is None, "".join(serve.lines)[-3000:]
        assert time.monotonic() < deadline, f"run {total} did not finish in {timeout:.0f}s"
        time.sleep(0.02)
    return done

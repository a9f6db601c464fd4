"""Soak: 300 runs of ``serve`` over 2,000 live objects leak no memory, descriptors or threads.

The in-process service (real pipeline, real audit log, real HTTP) runs its
target 300 times back to back against the Kubernetes API test server holding
the shop plus 2,000 ConfigMaps cloned from a recorded one in the target's
namespace: every run lists all of them (4 pages); one in ten carries the
ownership marker and is kept and compared (200 unmanaged objects, 200 metric
series, 200 history entries).  /metrics and /api/v1/drift are read between
runs.  After a warm-up, resident memory and open descriptors may grow by less
than 10 % and the thread count may not grow.  ``bench/soak.py`` runs the same
idea for longer.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kubeapi import KubeApiServer, store_for_scenario, synthetic_config_maps
from tests.reliability.conftest import LiveFactory
from tests.reliability.helpers import metric

pytestmark = pytest.mark.slow

RUNS = 300
WARM_UP = 60
OBJECTS = 2000
MARKED = OBJECTS // 10


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(400)
def test_three_hundred_runs_over_two_thousand_objects_leak_nothing(
    kube_api_factory: Callable[..., KubeApiServer], live_service: LiveFactory, shop_git: Path
) -> None:
    store = store_for_scenario("shop/untouched-csa")
    marker = {"app.kubernetes.io/part-of": "shop"}
    store.seed(
        {**cm, "metadata": {**cm["metadata"], "labels": marker}} if n % 10 == 0 else cm
        for n, cm in enumerate(synthetic_config_maps(OBJECTS, ("shop",), labels={"app": "bulk"}))
    )
    server = kube_api_factory(None, store=store)
    service = live_service(server, shop_git, extra={"server": {"listen": "127.0.0.1:0"}})
    samples: list[tuple[int, int, int]] = []
    for n in range(1, RUNS + 1):
        run = service.run()
        assert run["status"] == "success", run
        if n % 10 == 0:
            text = service.metrics()
            assert metric(text, "driftwatch_resources", state="unmanaged") == MARKED
            assert service.get("/api/v1/drift?kind=ConfigMap&name=x")[0] == 200
        if n >= WARM_UP and n % 20 == 0:
            server.clear_requests()  # the test server's request log is not driftwatch's memory
            gc.collect()
            samples.append((rss_kib(), open_fds(), threading.active_count()))
    warm_rss, warm_fds, warm_threads = samples[0]
    peak_rss = max(s[0] for s in samples)
    last_rss, last_fds, last_threads = samples[-1]
    print(f"soak: RSS {warm_rss} -> {last_rss} KiB (peak {peak_rss}), fds {warm_fds} -> "
          f"{last_fds}, threads {warm_threads} -> {last_threads}")  # fmt: skip
    assert last_rss < warm_rss * 1.10, samples
    assert max(s[1] for s in samples) < warm_fds * 1.10 + 2, samples
    assert max(s[2] for s in samples) <= warm_threads, samples
    events = service.events()
    assert len([e for e in events if e["shorttype"] == "resource.unmanaged"]) == MARKED

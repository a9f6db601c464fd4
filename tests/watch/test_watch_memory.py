"""Watch mode keeps only the live set: memory does not grow with the number of events.

5,000 MODIFIED events of one object go through the watch, the applier, the
report patch and every sink (audit log included).  The process's resident memory
is read after a warm-up and at the end (the test server's own event history is
compacted as it goes, so only driftwatch could grow); an implementation that kept
events (a list, an unbounded queue) would hold tens of megabytes more — a parsed
Deployment with its managedFields is several kilobytes.  The bound is generous
and nothing is timed.
"""

from __future__ import annotations

import copy
import gc
from pathlib import Path

import pytest

from tests.kubeapi import KubeApiServer
from tests.watch.conftest import StartWatched
from tests.watch.helpers import WatchedService, case_object, eventually, metric

WARM_UP = 1000
EVENTS = 5000
CHUNK = 500
BOUND = 16 * 1024 * 1024
"""Bytes of resident growth allowed between warm-up and the end."""
STATUS = Path("/proc/self/status")


def resident_bytes() -> int:
    gc.collect()
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def modify(server: KubeApiServer, svc: WatchedService, count: int, start: int) -> None:
    for chunk in range(start, start + count, CHUNK):
        modify_chunk(server, svc, chunk, min(CHUNK, start + count - chunk))


def modify_chunk(server: KubeApiServer, svc: WatchedService, start: int, count: int) -> None:
    scaled = case_object("scale", "Deployment", "shop-api")
    for index in range(start, start + count):
        body = copy.deepcopy(scaled)
        body["spec"]["replicas"] = 3 + index % 5  # the drift itself changes, event after event
        server.store.put(body)
    total = start + count

    def applied() -> bool:
        watch = svc.service.watch.target_watch("shop")
        seen = metric(svc.metrics(), "driftwatch_watch_events_total", type="MODIFIED")
        return seen >= total and watch is not None and watch.pending == 0

    eventually(applied, f"{total} events to be applied", timeout=120)
    server.store.compact()  # every event was delivered: the server forgets them


@pytest.mark.skipif(not STATUS.exists(), reason="needs /proc/self/status (Linux)")
def test_memory_stays_flat_over_thousands_of_watch_events(
    kube_api: KubeApiServer, watched: StartWatched
) -> None:
    svc = watched(kube_api)
    svc.wait_watching()

    modify(kube_api, svc, WARM_UP, 0)
    after_warm_up = resident_bytes()
    modify(kube_api, svc, EVENTS - WARM_UP, WARM_UP)
    at_end = resident_bytes()

    watch = svc.service.watch.target_watch("shop")
    assert watch is not None and watch.updates > 1  # the events went all the way to the sinks
    assert at_end - after_warm_up < BOUND, (after_warm_up, at_end)

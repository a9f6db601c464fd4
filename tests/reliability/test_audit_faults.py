"""The audit log of ``serve`` under faults: SIGKILL while writing, then a full disk.

The cluster flips a ConfigMap between its Git state and an edit (both recorded
from a real server: ``untouched-csa`` and ``edit-cm``) while ``serve`` runs every
200 ms, so nearly every run writes ``drift.detected`` or ``drift.resolved``.
After any fault the log must verify, nothing confirmed may be lost, and the
episodes of the flipping object must strictly alternate (nothing lost, nothing
written twice).
"""

from __future__ import annotations

import itertools
import json
import resource
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer, load_scenario
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import metric, read_event_files, write_config
from tests.reliability.serve_proc import ServeProcess
from tests.service.helpers import wait_for
from tests.subprocess_cli import run_cli

pytestmark = pytest.mark.slow

SUBJECT = "shop//ConfigMap/shop/shop-config"


def _shop_config(case: str) -> dict[str, Any]:
    return next(
        i
        for i in load_scenario(f"shop/{case}")
        if i["kind"] == "ConfigMap" and i["metadata"]["name"] == "shop-config"
    )


class Flipper:
    """Flips the live shop-config between in sync and edited until stopped."""

    def __init__(self, server: KubeApiServer) -> None:
        self.states = [_shop_config("edit-cm"), _shop_config("untouched-csa")]
        self.server = server
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.wait(0.13):
            self.server.store.put(self.states[n % 2])
            n += 1

    def __enter__(self) -> Flipper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def setup(
    tmp_path: Path, kube_api_factory: Callable[..., KubeApiServer], shop_git: Path
) -> Iterator[tuple[KubeApiServer, Path, Path]]:
    server = kube_api_factory("shop/untouched-csa")
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(shop_git),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
        target={"schedule": {"interval": "200ms"}},
    )
    yield server, config, tmp_path / "state"


def _serve(config: Path, state: Path, **kw: Any) -> ServeProcess:
    return ServeProcess("--config", str(config), "--state-dir", str(state), **kw)


def _episodes_alternate(records: list[dict[str, Any]]) -> list[str]:
    kinds = [r["shorttype"] for r in records if r.get("subject") == SUBJECT]
    for before, after in itertools.pairwise(kinds):
        assert before != after, kinds  # detected, resolved, detected, ...: none lost or repeated
    return kinds


def _verify(state: Path) -> None:
    result = run_cli("events", "verify", "--state-dir", str(state), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigkill_while_writing_then_restart_loses_nothing_and_records_the_incident(
    setup: tuple[KubeApiServer, Path, Path],
) -> None:
    server, config, state = setup
    with Flipper(server):
        first = _serve(config, state)
        try:
            wait_for(lambda: len(read_event_files(state)) >= 6, 60, "events to be written")
        finally:
            first.kill()
        confirmed = read_event_files(state)
        (newest,) = sorted((state / "events").glob("events-*.jsonl"))[-1:]
        # what a kill in the middle of write(2) leaves: the start of a record, no newline
        with open(newest, "ab") as log:
            log.write(b'{"specversion":"1.0","id":"torn-by-sigkill","type":"io.driftw')
        second = _serve(config, state)
        try:
            wait_for(lambda: len(read_event_files(state)) >= len(confirmed) + 3, 60, "more events")
        finally:
            assert second.stop() == 0
    _verify(state)
    records = read_event_files(state)
    assert [r["id"] for r in records[: len(confirmed)]] == [r["id"] for r in confirmed]
    recovered = [r for r in records if r["shorttype"] == "eventlog.recovered"]
    assert len(recovered) == 1 and recovered[0]["data"]["bytes"] > 0
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    kinds = _episodes_alternate(records)
    assert kinds[0] == "drift.detected" and len(kinds) >= 4
    assert not any('"level": "critical"' in line for line in second.lines)


def test_a_full_disk_is_counted_logged_and_survived_and_owed_events_come_later(
    setup: tuple[KubeApiServer, Path, Path],
) -> None:
    server, config, state = setup
    with Flipper(server):
        warm = _serve(config, state)
        try:
            wait_for(lambda: len(read_event_files(state)) >= 3, 60, "first events")
        finally:
            assert warm.stop() == 0
        (log_file,) = (state / "events").glob("events-*.jsonl")
        before = log_file.read_bytes()
        confirmed = read_event_files(state)
        limit = len(before) + 1  # the next append cannot fit: as if the disk were full

        def small_disk() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        full = _serve(config, state, preexec_fn=small_disk)
        try:
            wait_for(
                lambda: metric(full.metrics(), "driftwatch_event_log_write_errors_total") >= 1,
                60,
                "failed event log writes",
            )
            runs = metric(full.metrics(), "driftwatch_runs_total")
            wait_for(
                lambda: metric(full.metrics(), "driftwatch_runs_total") > runs + 2,
                60,
                "runs to go on",
            )
            assert full.get("/healthz")[0] == 200 and full.get("/readyz")[0] == 200
            status, body = full.get("/api/v1/drift")
            assert status == 200 and json.loads(body)["targets"][0]["report"] is not None
        finally:
            assert full.stop() == 0
        errors = [x for x in full.logs() if x.get("level") == "error"]
        assert errors and any("File too large" in str(x.get("message")) for x in errors), errors
        assert "Traceback" not in "".join(str(x.get("message")) for x in errors)
        assert log_file.read_bytes() == before  # nothing confirmed lost, nothing half-written
        _verify(state)

        healed = _serve(config, state)
        try:
            wait_for(lambda: len(read_event_files(state)) > len(confirmed) + 2, 60, "owed events")
        finally:
            assert healed.stop() == 0
    _verify(state)
    records = read_event_files(state)
    assert [r["id"] for r in records[: len(confirmed)]] == [r["id"] for r in confirmed]
    _episodes_alternate(records)

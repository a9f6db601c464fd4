"""Scheduling: first run at start, never two runs of one target at once, coalescing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from driftwatch.config.model import Target
from driftwatch.errors import ConfigError
from driftwatch.service.scheduler import TargetScheduler, interval_of, trigger_for
from tests.service.helpers import wait_for


def target(name: str, interval: float = 3600, cron: str | None = None) -> Target:
    return Target.model_validate(
        {"name": name, "repo": "/tmp/repo", "schedule": {"interval": interval, "cron": cron}}
    )


class Recorder:
    def __init__(self, seconds: float = 0.0, gate: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.gate = gate
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.running: Counter[str] = Counter()
        self.max_per_target = 0
        self.max_total = 0

    def __call__(self, name: str) -> None:
        with self.lock:
            self.calls[name] += 1
            self.running[name] += 1
            self.max_per_target = max(self.max_per_target, self.running[name])
            self.max_total = max(self.max_total, sum(self.running.values()))
        try:
            if self.gate is not None:
                self.gate.wait(30)
            time.sleep(self.seconds)
        finally:
            with self.lock:
                self.running[name] -= 1


def test_every_target_runs_once_at_start_then_on_its_interval() -> None:
    job = Recorder()
    scheduler = TargetScheduler(job)
    scheduler.sync([target("a"), target("b")])
    scheduler.start()
    try:
        wait_for(lambda: job.calls == Counter({"a": 1, "b": 1}), what="first runs")
        next_runs = scheduler.next_run_times()
        assert set(next_runs) == {"a", "b"}
        assert all(t is not None and t > time.time() + 3000 for t in next_runs.values())
    finally:
        scheduler.shutdown()


def test_a_slow_run_is_never_overlapped_by_its_next_one() -> None:
    job = Recorder(seconds=0.25)
    scheduler = TargetScheduler(job)
    scheduler.sync([target("a", interval=0.05), target("b", interval=0.05)])
    scheduler.start()
    try:
        wait_for(lambda: min(job.calls["a"], job.calls["b"]) >= 3, what="several runs")
    finally:
        scheduler.shutdown()
    wait_for(lambda: sum(job.running.values()) == 0, what="runs to end")
    assert job.max_per_target == 1
    assert job.max_total == 2  # different targets do run side by side


def test_runs_missed_while_paused_coalesce_into_one() -> None:
    gate = threading.Event()
    gate.set()
    job = Recorder(gate=gate)
    scheduler = TargetScheduler(job)
    scheduler.sync([target("a", interval=0.1)])
    scheduler.start()
    wait_for(lambda: job.calls["a"] >= 1, what="first run")
    scheduler.pause()
    gate.clear()
    wait_for(lambda: job.running["a"] == 0, what="runs before the pause to end")
    before = job.calls["a"]
    time.sleep(0.6)  # ~6 run times pass, all within the misfire grace
    scheduler.resume()
    wait_for(lambda: job.calls["a"] == before + 1, what="the coalesced run")
    scheduler.shutdown()  # nothing new after this one
    gate.set()
    wait_for(lambda: job.running["a"] == 0, what="runs to end")
    time.sleep(0.2)
    assert job.calls["a"] == before + 1  # uncoalesced, every missed time would run now


def test_sync_adds_removes_and_reschedules_only_changed_targets() -> None:
    scheduler = TargetScheduler(Recorder())
    assert scheduler.sync([target("a"), target("b")]) == ["a", "b"]
    assert scheduler.sync([target("a"), target("b", interval=60), target("c")]) == ["b", "c"]
    assert scheduler.sync([target("c")]) == []
    assert set(scheduler.next_run_times()) == {"c"}


def test_bad_schedules_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="5 fields"):
        trigger_for(target("a", cron="* * *"))
    with pytest.raises(ConfigError, match="bad cron"):
        trigger_for(target("a", cron="99 * * * *"))
    with pytest.raises(ConfigError, match="more than 0"):
        trigger_for(target("a", interval=0))


def test_cron_weekdays_use_cron_numbering_and_interval_is_derived() -> None:
    trigger = trigger_for(target("a", cron="0 9 * * 1-5"))
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)  # a Friday
    fire = trigger.get_next_fire_time(None, now)
    assert fire is not None and fire.strftime("%A %H:%M") == "Monday 09:00"
    assert interval_of(target("a", cron="*/5 * * * *")) == 300
    assert interval_of(target("a", interval=90)) == 90

"""The cyclic-GC pause is safe with overlapping runs: counted, bounded, and collected at the end."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from driftwatch import gcpause
from driftwatch.gcpause import pause_depth, paused_gc


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Generations of the collections that ran (full ones are 2)."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(int(info["generation"]))

    assert gc.isenabled()
    gc.callbacks.append(callback)
    yield seen
    gc.callbacks.remove(callback)
    assert gc.isenabled() and pause_depth() == 0


def test_overlapping_pauses_from_two_threads_end_with_the_collector_on_and_one_collection(
    collections: list[int],
) -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with paused_gc():
            first_in.set()
            second_in.wait(5)
        states["after first"] = gc.isenabled()
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with paused_gc():
            second_in.set()
            first_out.wait(5)
            states["inside second"] = gc.isenabled()
            collections.clear()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert states == {"after first": False, "inside second": False}
    assert gc.isenabled()
    assert 0 in collections  # the last pause to end collected what it allocated, at once


def test_runs_that_keep_overlapping_cannot_keep_garbage_uncollected(
    collections: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcpause, "MAX_OFF_SECONDS", 0.0)
    with paused_gc():  # one run never ends while others come and go
        collections.clear()
        for _ in range(3):
            with paused_gc():
                pass
        assert not gc.isenabled()
        assert collections.count(2) >= 3  # collected while the pause went on


def test_a_collector_switched_off_by_the_process_stays_off(collections: list[int]) -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

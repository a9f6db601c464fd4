"""Shared helpers for the event log tests: a clock, simple events, schema validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from driftwatch.config.model import EventLogOptions
from driftwatch.sinks.eventlog import EventLog
from driftwatch.sinks.eventlog.envelope import envelope

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


class Clock:
    """A settable clock, so event times are chosen by the test (no sleeping)."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def validate(records: list[dict[str, Any]]) -> None:
    """Every record is a valid driftwatch event v1 (raises on the first invalid one)."""
    for record in records:
        VALIDATOR.validate(record)


def stored_records(state_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of every log file, oldest first."""
    out = []
    for path in sorted((state_dir / "events").glob("events-*.jsonl")):
        for raw in path.read_bytes().splitlines(keepends=True):
            if raw.endswith(b"\n"):
                out.append(json.loads(raw))
    return out


def run_failed_event(clock: Clock, target: str = "shop", n: int = 0) -> dict[str, Any]:
    """A small valid event (a run.failed of ``target``) carrying a counter in its error."""
    return envelope(
        "run.failed",
        instance="test",
        subject=target,
        time=clock(),
        data={
            "target": target,
            "revision": None,
            "traceId": None,
            "errors": [f"failure {n}"],
        },
    )


def filled_log(
    state_dir: Path,
    count: int,
    clock: Clock,
    *,
    step: float = 60.0,
    options: EventLogOptions | None = None,
    **kwargs: Any,
) -> EventLog:
    """An event log with ``count`` events, one per ``step`` seconds, alternating two targets."""
    log = EventLog(state_dir, options, instance="test", clock=clock, **kwargs)
    for n in range(count):
        log.append([run_failed_event(clock, "shop" if n % 2 == 0 else "blog", n)])
        clock.advance(step)
    return log

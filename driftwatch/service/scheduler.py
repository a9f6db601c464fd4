"""Each target on its own schedule, never two runs of one target at once.

A thin layer over APScheduler 3's ``BackgroundScheduler``: one job per target
(job id = target name) with ``max_instances=1`` (a run still going when the next
is due makes that next one skipped, not doubled), ``coalesce=True`` (runs missed
while busy or asleep collapse into one), a misfire grace of one interval, and the
first run at start.  :meth:`TargetScheduler.sync` applies a new list of targets:
added ones are scheduled and run now, removed ones unscheduled, changed ones
rescheduled and run now, unchanged ones keep their timing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from driftwatch.config.model import Target
from driftwatch.errors import ConfigError

log = logging.getLogger(__name__)

_CRON_DAYS = {
    "0": "sun",
    "1": "mon",
    "2": "tue",
    "3": "wed",
    "4": "thu",
    "5": "fri",
    "6": "sat",
    "7": "sun",
}


def trigger_for(target: Target) -> BaseTrigger:
    """The APScheduler trigger of a target's schedule (``ConfigError`` if invalid).

    A ``cron`` expression has the five standard fields (minute hour day month
    weekday, weekday 0 or 7 = Sunday) and takes precedence over ``interval``.
    """
    schedule = target.schedule
    jitter = int(schedule.jitter) or None
    if schedule.cron:
        fields = schedule.cron.split()
        if len(fields) != 5:
            raise ConfigError(f"target {target.name!r}: cron {schedule.cron!r} needs 5 fields")
        minute, hour, day, month, weekday = fields
        weekday = re.sub(r"\b[0-7]\b", lambda m: _CRON_DAYS[m.group()], weekday)
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=weekday,
                jitter=jitter,
                timezone=UTC,
            )
        except ValueError as e:
            raise ConfigError(f"target {target.name!r}: bad cron {schedule.cron!r}: {e}") from e
    if schedule.interval <= 0:
        raise ConfigError(f"target {target.name!r}: schedule.interval must be more than 0")
    return IntervalTrigger(seconds=schedule.interval, jitter=jitter, timezone=UTC)


def interval_of(target: Target) -> float:
    """Seconds between runs: the interval, or for cron the gap between its next two times."""
    trigger = trigger_for(target)
    if not isinstance(trigger, CronTrigger):
        return target.schedule.interval
    now = datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first).total_seconds() if first and second else target.schedule.interval


class TargetScheduler:
    """Schedules ``job(target_name)`` per target."""

    def __init__(self, job: Callable[[str], None], *, max_workers: int = 8) -> None:
        self._job = job
        self._targets: dict[str, Target] = {}
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max_workers)}, timezone=UTC
        )

    def start(self) -> None:
        """Start firing jobs (targets synced before start run at once)."""
        self._scheduler.start()

    def sync(self, targets: Sequence[Target]) -> list[str]:
        """Make the jobs match ``targets``; returns the names scheduled to run now.

        Triggers are all built first, so an invalid schedule changes nothing.
        """
        triggers = {t.name: trigger_for(t) for t in targets}
        wanted = {t.name: t for t in targets}
        for name in [n for n in self._targets if n not in wanted]:
            self._scheduler.remove_job(name)
            del self._targets[name]
            log.info("target %s unscheduled", name)
        run_now = []
        for name, target in wanted.items():
            previous = self._targets.get(name)
            if previous == target:
                continue
            if previous is not None:
                self._scheduler.remove_job(name)
            self._scheduler.add_job(
                self._job,
                triggers[name],
                args=[name],
                id=name,
                name=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(interval_of(target))),
                next_run_time=datetime.now(UTC),
            )
            self._targets[name] = target
            run_now.append(name)
            log.info("target %s %s", name, "rescheduled" if previous else "scheduled")
        return run_now

    def next_run_times(self) -> dict[str, float | None]:
        """Unix time of each target's next run (None while paused or finished)."""
        out: dict[str, float | None] = {}
        for job in self._scheduler.get_jobs():
            next_time = job.next_run_time
            out[job.id] = next_time.timestamp() if next_time is not None else None
        return out

    def pause(self) -> None:
        """Hold every run (due runs accumulate and coalesce into one on :meth:`resume`)."""
        self._scheduler.pause()

    def resume(self) -> None:
        """Fire again after :meth:`pause`."""
        self._scheduler.resume()

    def shutdown(self) -> None:
        """Stop scheduling new runs; running ones go on (the caller waits for them)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

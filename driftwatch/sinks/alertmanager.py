"""Direct delivery of drift alerts to Alertmanager (API v2), without Prometheus.

One alert per drifted object of a target's latest report, named as the
Prometheus rules name them: DriftwatchHandEdit for drift that moved in the
cluster (direction ``cluster``/``both``), sent at once; DriftwatchGitSyncLag for
a Git change not yet applied (``git``), sent only once it has lasted
``syncLag``; DriftwatchResourceDrifted, -Missing or -Unmanaged when the
direction is unknown.  The sink keeps, in memory, which alerts are active and when each
first fired (``startsAt``); firing alerts are re-sent on every run and at
least every ``resendInterval`` with ``endsAt`` a few intervals ahead (as
Prometheus does, so they expire if driftwatch dies); an alert whose drift has
cleared is sent once more with ``endsAt`` = now, which resolves it.

An object left *unknown* by a partial run neither fires nor resolves its
alert, and a failed run changes nothing: unknown is not absent.

Delivery never blocks a run: ``emit`` only computes the batch and queues it.
Each Alertmanager URL has its own worker thread, so one URL being down does
not delay the others; a failed POST is retried a bounded number of times with
jittered backoff, or after the ``Retry-After`` the answer asks for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftwatch.config.model import AlertmanagerSink, Config
from driftwatch.model import Direction, ObjectDrift, ResourceKey
from driftwatch.run import RunStatus, TargetRun
from driftwatch.sinks.alertmanager_delivery import DeliveryHook, DeliveryWorker, Postable
from driftwatch.sinks.alertmanager_payload import (
    alert_annotations,
    alert_labels,
    rfc3339,
)
from driftwatch.sinks.web.routes import object_url

EXPIRY_INTERVALS = 4
"""A firing alert expires this many resend intervals after it was last sent."""


@dataclass(slots=True)
class _Alert:
    key: ResourceKey
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    generator_url: str | None

    def postable(self, ends_at: float) -> Postable:
        body: Postable = {
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(ends_at),
        }
        if self.generator_url:
            body["generatorURL"] = self.generator_url
        return body


class AlertmanagerNotifier:
    """A ``Sink`` that turns each run's drift into Alertmanager alerts."""

    def __init__(
        self,
        options: AlertmanagerSink,
        *,
        instance: str | None = None,
        clock: Callable[[], float] = time.time,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        queue_size: int = 32,
        on_delivery: DeliveryHook | None = None,
    ) -> None:
        self._options = options
        self._instance = instance
        self._clock = clock
        self._resend = max(1.0, options.resend_interval)
        self._lock = threading.Lock()
        self._active: dict[str, dict[tuple[tuple[str, str], ...], _Alert]] = {}
        self._sync_lag = options.sync_lag
        self._waiting: dict[str, dict[tuple[tuple[str, str], ...], tuple[ResourceKey, float]]] = {}
        """Sync-lag alerts not yet sent, with when each was first seen."""
        self._stop = threading.Event()
        self._workers = [
            DeliveryWorker(
                index,
                url,
                active=self.active_alerts,
                resend_interval=self._resend,
                timeout=options.timeout,
                stop=self._stop,
                attempts=attempts,
                backoff=backoff,
                max_backoff=max_backoff,
                queue_size=queue_size,
                on_delivery=on_delivery,
            )
            for index, url in enumerate(options.urls)
        ]
        for worker in self._workers:
            worker.start()

    @classmethod
    def from_config(cls, config: Config, **kwargs: Any) -> AlertmanagerNotifier | None:
        """The notifier a configuration asks for, or None when it lists no Alertmanager."""
        if not config.alertmanager.urls:
            return None
        options = config.alertmanager
        if options.external_url is None and config.server.external_url:
            options = options.model_copy(update={"external_url": config.server.external_url})
        return cls(options, instance=config.instance, **kwargs)

    # ------------------------------------------------------------------ Sink

    def emit(self, run: TargetRun) -> None:
        """Queue this run's alert changes (and its active alerts) for every Alertmanager."""
        with self._lock:
            batch = self._update(run)
        if batch:
            for worker in self._workers:
                worker.put(batch)

    def _update(self, run: TargetRun) -> list[Postable]:
        now = self._clock()
        expires = now + EXPIRY_INTERVALS * self._resend
        previous = self._active.get(run.target, {})
        if run.status is RunStatus.FAILED or run.report is None:
            return [alert.postable(expires) for alert in previous.values()]
        report = run.report
        current: dict[tuple[tuple[str, str], ...], _Alert] = {}
        waiting = self._waiting.get(run.target, {})
        still_waiting: dict[tuple[tuple[str, str], ...], tuple[ResourceKey, float]] = {}
        for obj in report.drifted:
            alert = self._alert_for(run.target, obj, now)
            ident = _identity(alert.labels)
            if ident in previous:
                alert.starts_at = previous[ident].starts_at
            elif obj.direction is Direction.GIT:
                seen = waiting.get(ident, (obj.key, now))[1]
                if now - seen < self._sync_lag:  # a deploy in progress: not yet an alert
                    still_waiting[ident] = (obj.key, seen)
                    continue
                alert.starts_at = seen
            current[ident] = alert
        states = {obj.key: obj.state for obj in report.objects}
        for ident, (key, seen) in waiting.items():
            if ident not in still_waiting and report.keeps_previous(key, states.get(key)):
                still_waiting[ident] = (key, seen)  # unknown is not absent: keep its clock
        if still_waiting:
            self._waiting[run.target] = still_waiting
        else:
            self._waiting.pop(run.target, None)
        resolved: list[_Alert] = []
        for ident, alert in previous.items():
            if ident in current:
                continue
            if report.keeps_previous(alert.key, states.get(alert.key)):
                current[ident] = alert
            else:
                resolved.append(alert)
        if current:
            self._active[run.target] = current
        else:
            self._active.pop(run.target, None)
        return [a.postable(expires) for a in current.values()] + [a.postable(now) for a in resolved]

    def _alert_for(self, target: str, obj: ObjectDrift, now: float) -> _Alert:
        external = self._options.external_url
        return _Alert(
            key=obj.key,
            labels=alert_labels(target, obj, self._instance),
            annotations=alert_annotations(target, obj, external),
            starts_at=now,
            generator_url=object_url(external, target, obj.key) if external else None,
        )

    # ------------------------------------------------------------------ control

    def active_alerts(self) -> list[Postable]:
        """Every firing alert as it would be re-sent now."""
        with self._lock:
            expires = self._clock() + EXPIRY_INTERVALS * self._resend
            return [a.postable(expires) for t in self._active.values() for a in t.values()]

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued batch was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        return all(w.wait_idle(deadline) for w in self._workers)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the delivery threads (pending retries are abandoned)."""
        self._stop.set()
        for worker in self._workers:
            worker.put(None)
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))


def _identity(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))

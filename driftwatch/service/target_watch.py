"""One target's watch mode: its watched live set, its watch streams and its applier thread.

After a full run with a report, :meth:`TargetWatch.resume` takes the run's desired
set and (redacted) live snapshot and subscribes to the shared watch of each type it
read (``driftwatch.service.shared_watch``: one per cluster and type, whatever the
number of targets), never taking an event older than the snapshot's resourceVersions.
Watch threads only record changes — the latest per object, so
memory is bounded by the number of objects, never by the number of events — and
wake the applier.  The applier takes everything pending, applies it to the live
set, compares only the touched objects again, patches the previous report and
hands the resulting run to the service's sinks, exactly as a scheduled run would
be handed (audit transitions, metrics, alerts).  A batch that changes no verdict
emits nothing.

Full runs and watch updates never interleave: :meth:`pause` (called when a full
run of the target starts) waits for the applier, stops the streams and folds what
they had delivered into the watched set; :meth:`resume` (after the full run was
emitted) counts mismatches between the watched set and the fresh snapshot, then
replaces it and watches again from the new versions.  While full runs fail, the
target is not watched (unknown is not absent).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from driftwatch.cluster.cache import trimmed
from driftwatch.cluster.watching import Redact, WatchScope, WatchSettings
from driftwatch.compare.engine import KeyComparer
from driftwatch.config.model import Cluster
from driftwatch.errors import truncate
from driftwatch.logs import log_context
from driftwatch.model import DesiredSet, LiveSnapshot, Manifest, ObjectDrift, ResourceKey, TypeRead
from driftwatch.pipeline import Compared
from driftwatch.run import RunStatus, TargetRun
from driftwatch.service.shared_watch import SharedWatches, Subscription
from driftwatch.service.watch_report import (
    Change,
    FrozenScope,
    Keep,
    apply_changes,
    mismatches,
    patch_report,
    replace_scope,
    watch_run,
)
from driftwatch.sinks.metrics import MetricsStore

log = logging.getLogger(__name__)

Emit = Callable[[TargetRun], None]


@dataclass(slots=True)
class Basis:
    """What watch updates build on: the last full run's inputs and the latest report run."""

    desired: DesiredSet
    live: LiveSnapshot
    run: TargetRun
    comparer: KeyComparer
    keep: Keep
    redact: Redact
    direct: Callable[[list[ObjectDrift]], list[ObjectDrift]] = list
    """Decides which side moved for re-compared objects (``Pipeline.direct``)."""


class TargetWatch:
    """Watch mode of one target (a ``WatchSink`` for its scopes)."""

    def __init__(
        self,
        name: str,
        *,
        emit: Emit,
        metrics: MetricsStore,
        settings: WatchSettings,
        shared: SharedWatches,
    ) -> None:
        self.name = name
        self._emit = emit
        self._metrics = metrics
        self._settings = settings
        self._shared = shared
        self._apply_lock = threading.Lock()
        self._cond = threading.Condition()
        self._changes: dict[ResourceKey, Change] = {}
        self._relisted: dict[WatchScope, tuple[TypeRead, dict[ResourceKey, Manifest]]] = {}
        self._basis: Basis | None = None
        self._watches: list[Subscription] = []
        self._frozen: list[FrozenScope] = []
        self._requests: Counter[tuple[str, str]] = Counter()
        self._paused = True
        self._closed = False
        self.updates = 0
        """Watch updates emitted (for tests and the benchmark)."""
        self._thread = threading.Thread(
            target=self._apply_loop, name=f"driftwatch-apply-{name}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ sink (watch threads)

    def changed(
        self, scope: WatchScope, key: ResourceKey, body: Manifest | None, version: str
    ) -> None:
        """Record the latest change of ``key`` and wake the applier."""
        with self._cond:
            self._changes[key] = Change(body, version)
            self._cond.notify()

    def relisted(
        self, scope: WatchScope, read: TypeRead, objects: dict[ResourceKey, Manifest]
    ) -> None:
        """A scope was listed again: its earlier pending changes are superseded."""
        with self._cond:
            for key in [k for k in self._changes if scope.covers(k)]:
                del self._changes[key]
            self._relisted[scope] = (read, objects)
            self._cond.notify()

    def seen(self, scope: WatchScope, event_type: str) -> None:
        """Count one watch event."""
        self._metrics.count_watch_event(self.name, event_type)

    # ------------------------------------------------------------------ full runs

    def pause(self) -> None:
        """A full run starts: stop watching, keep what was delivered (for the mismatch check)."""
        with self._apply_lock:
            self._paused = True
            watches, self._watches = self._watches, []
            for watch in watches:
                watch.close()
            self._frozen = [FrozenScope(w.scope, w.resource_version, w.healthy) for w in watches]
            basis = self._basis
            if basis is not None:
                self._drain(basis)
            else:
                self._take()

    def resume(
        self,
        run: TargetRun,
        compared: Compared | None,
        runner: Any,
        cluster: Cluster,
    ) -> None:
        """A full run was emitted: check the watched state, then watch from the new snapshot."""
        with self._apply_lock:
            old, frozen = self._basis, self._frozen
            self._basis, self._frozen = None, []
            if self._closed:
                return
            if compared is None or run.report is None or run.status is RunStatus.FAILED:
                if old is not None:
                    log.info("not watching while the full run fails", extra={"target": self.name})
                return
            desired, live, judge = compared
            keep = runner.wanted(self.name, desired)
            if old is not None and frozen:
                missed = mismatches(old.live, frozen, live, old.keep, keep)
                if missed:
                    self._metrics.count_watch_mismatch(self.name, len(missed))
                    shown = ", ".join(k.display() for k in missed[:5])
                    log.warning(
                        "watched state disagreed with the full snapshot on %d object(s): %s",
                        len(missed),
                        truncate(shown, 300),
                        extra={"target": self.name},
                    )
            if cluster.snapshot:
                return
            self._basis = basis = Basis(
                desired, live, run, KeyComparer(judge), keep, runner.hasher.redact
            )
            basis.direct = partial(runner.direct, self.name, desired, live)
            self._paused = False
            self._watches = self._subscribe(basis, cluster, runner)

    def _subscribe(self, basis: Basis, cluster: Cluster, runner: Any) -> list[Subscription]:
        """Feed this target from the shared watch of each type its full run read completely."""
        cache = runner.cluster_cache(cluster)
        redact = basis.redact

        def hold(body: Manifest) -> Manifest:
            return redact(trimmed(body))

        subs: list[Subscription] = []
        for read in basis.live.types.values():
            subs.extend(self._shared.subscribe(cluster, cache, read, self, basis.keep, hold))
        log.debug("watching %d type(s)", len(subs), extra={"target": self.name})
        return subs

    def close(self) -> None:
        """Stop watching for good (target removed, or the service stops)."""
        with self._apply_lock:
            self._closed = self._paused = True
            watches, self._watches = self._watches, []
            for watch in watches:
                watch.close()
            self._basis = None
        with self._cond:
            self._changes.clear()
            self._relisted.clear()
            self._cond.notify_all()

    @property
    def watching(self) -> int:
        """How many shared watches feed this target now."""
        return len(self._watches)

    @property
    def pending(self) -> int:
        """Changes received and not applied yet (bounded by the number of objects)."""
        with self._cond:
            return len(self._changes) + len(self._relisted)

    def resource_versions(self) -> list[str | None]:
        """The last resourceVersion each open watch saw."""
        return [w.resource_version for w in self._watches]

    @property
    def healthy(self) -> bool:
        """Whether watches are open and every stream is up."""
        watches = self._watches
        return bool(watches) and all(w.healthy for w in watches)

    # ------------------------------------------------------------------ applier

    def _take(
        self,
    ) -> tuple[
        dict[ResourceKey, Change], dict[WatchScope, tuple[TypeRead, dict[ResourceKey, Manifest]]]
    ]:
        with self._cond:
            changes, self._changes = self._changes, {}
            relisted, self._relisted = self._relisted, {}
        return changes, relisted

    def _drain(self, basis: Basis) -> set[ResourceKey]:
        changes, relisted = self._take()
        touched: set[ResourceKey] = set()
        for scope, (read, objects) in relisted.items():
            touched |= replace_scope(basis.live, basis.desired, scope, read, objects)
        touched |= apply_changes(basis.live, changes)
        return touched

    def _apply_loop(self) -> None:
        while True:
            with self._cond:
                while not (self._changes or self._relisted or self._closed):
                    self._cond.wait()
                if self._closed:
                    return
            with self._apply_lock:
                basis = self._basis
                if self._paused or basis is None:
                    self._take()
                    continue
                try:
                    self._apply(basis)
                except Exception:  # one bad batch must not end watch mode
                    log.exception("applying watch events failed", extra={"target": self.name})

    def _apply(self, basis: Basis) -> None:
        started = time.time()
        began = time.perf_counter()
        touched = self._drain(basis)
        if not touched or basis.run.report is None:
            return
        verdicts = basis.direct(basis.comparer.compare(basis.desired, basis.live, touched))
        report = patch_report(basis.run.report, touched, verdicts)
        if report is None:
            return
        self._requests.update(self._shared.request_counts())
        requests, self._requests = self._requests, Counter()
        run = watch_run(basis.run, report, started, time.perf_counter() - began, requests)
        basis.run = run
        self.updates += 1
        with log_context(target=self.name):
            self._emit(run)

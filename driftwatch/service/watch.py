"""Watch mode and on-demand runs for ``driftwatch serve`` (issue #12: drift in seconds).

:class:`WatchManager` is the service's one handle on all of it:

* per target with ``watch: true``, a :class:`~driftwatch.service.target_watch.TargetWatch`
  (Kubernetes watches between full runs) and a :class:`~driftwatch.service.git_poll.GitPoller`
  (``git ls-remote`` every ``min(interval, 30s)``, a run when the commit moved);
* :meth:`WatchManager.request_run`: a run of any target now, off the caller's
  thread (the refresh webhook and the Git poller use it).  At most one request
  per target waits at a time; a request made while the target is running waits
  for that run to end and then runs once more, so nothing pushed during a run is
  missed.

The service calls :meth:`before_run` / :meth:`after_run` around every full run,
:meth:`sync` when the configuration is (re)applied and :meth:`close` when stopping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from driftwatch.cluster.watching import WatchSettings
from driftwatch.config.model import Config, Target
from driftwatch.run import TargetRun
from driftwatch.service.git_poll import GitPoller
from driftwatch.service.runner import Runner, WatchRunner
from driftwatch.service.scheduler import interval_of
from driftwatch.service.shared_watch import SharedWatches, WatchHealth
from driftwatch.service.target_watch import Emit, TargetWatch
from driftwatch.sinks.metrics import MetricsStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchOptions:
    """How watch mode runs (service-wide; which targets watch is ``Target.watch``)."""

    watch: WatchSettings = field(default_factory=WatchSettings)
    git_poll_interval: float = 30.0
    """Seconds between ``git ls-remote`` polls (capped by the target's interval)."""
    retry_busy: float = 0.25
    """How often a requested run retries while the target is still running."""


class WatchManager:
    """Watchers, Git pollers and requested runs of every target."""

    def __init__(
        self,
        *,
        emit: Emit,
        metrics: MetricsStore,
        run_target: Callable[[str], bool],
        options: WatchOptions | None = None,
    ) -> None:
        self.options = options or WatchOptions()
        self._emit = emit
        self._metrics = metrics
        self._run_target = run_target
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._targets: dict[str, Target] = {}
        self._watches: dict[str, TargetWatch] = {}
        self._pollers: dict[str, GitPoller] = {}
        self._queued: set[str] = set()
        self._closed = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="driftwatch-request")
        self.shared = SharedWatches(self.options.watch)
        """One watch per (cluster, type), feeding every watching target."""

    # ------------------------------------------------------------------ configuration

    def sync(self, config: Config) -> None:
        """Follow a (re)applied configuration: stop watching removed or changed targets."""
        with self._lock:
            self._config = config
            wanted = {t.name: t for t in config.targets}
            for name in list(self._watches):
                target = wanted.get(name)
                if target is None or not target.watch or target != self._targets.get(name):
                    self._watches.pop(name).close()
                    poller = self._pollers.pop(name, None)
                    if poller is not None:
                        poller.stop()
            self._targets = wanted
            for name, target in wanted.items():
                if target.watch and name not in self._watches:
                    self._watches[name] = TargetWatch(
                        name,
                        emit=self._emit,
                        metrics=self._metrics,
                        settings=self.options.watch,
                        shared=self.shared,
                    )
        self.shared.prune({c.name for c in config.clusters} | {t.cluster for t in config.targets})

    def health(self) -> list[WatchHealth]:
        """The health of every shared watch (``/readyz``)."""
        return self.shared.health()

    def health_rows(self) -> list[tuple[str, str, str, bool, int]]:
        """(cluster, group, kind, up, restarts) per shared watch (``driftwatch_watch_up``)."""
        return [(h.cluster, h.group, h.kind, h.up, h.restarts) for h in self.shared.health()]

    def target_watch(self, name: str) -> TargetWatch | None:
        """The watch state of ``name`` (None unless it watches)."""
        with self._lock:
            return self._watches.get(name)

    # ------------------------------------------------------------------ full runs

    def before_run(self, name: str) -> None:
        """A full run of ``name`` starts: hold its watch updates."""
        watch = self.target_watch(name)
        if watch is not None:
            try:
                watch.pause()
            except Exception:  # watch mode must never break a scheduled run
                log.exception("pausing the watch failed", extra={"target": name})

    def after_run(self, name: str, runner: Runner, run: TargetRun) -> None:
        """The full run was emitted: watch from its snapshot, poll Git from its commit."""
        try:
            self._after_run(name, runner, run)
        except Exception:  # watch mode must never break a scheduled run
            log.exception("resuming the watch failed", extra={"target": name})

    def _after_run(self, name: str, runner: Runner, run: TargetRun) -> None:
        watch = self.target_watch(name)
        if watch is None:
            return
        if not isinstance(runner, WatchRunner):
            log.warning(
                "watch: true, but this runner (%s) cannot watch: full runs only",
                type(runner).__name__,
                extra={"target": name},
            )
            return
        compared = runner.take_compared(name)
        with self._lock:
            config, target = self._config, self._targets.get(name)
        if config is None or target is None:
            return
        watch.resume(run, compared, runner, config.cluster_for(target))
        self._poll_git(target, runner.git.cache_dir, run)

    def _poll_git(self, target: Target, cache_dir: Path, run: TargetRun) -> None:
        with self._lock:
            if self._closed.is_set() or self._watches.get(target.name) is None:
                return
            poller = self._pollers.get(target.name)
            if poller is None:
                interval = max(0.1, min(interval_of(target), self.options.git_poll_interval))
                poller = GitPoller(target, cache_dir, interval, self.request_run)
                self._pollers[target.name] = poller.start()
        if run.revision is not None and not run.git_stale:
            poller.compared(run.revision.sha)

    # ------------------------------------------------------------------ requested runs

    def request_run(self, name: str) -> bool:
        """Run ``name`` soon, off this thread; False if it is not configured (or stopping)."""
        with self._lock:
            if self._closed.is_set() or name not in self._targets:
                return False
            if name in self._queued:
                return True
            self._queued.add(name)
        self._pool.submit(self._requested, name)
        return True

    def _requested(self, name: str) -> None:
        while True:
            with self._lock:
                self._queued.discard(name)
                if self._closed.is_set() or name not in self._targets:
                    return
            if self._run_target(name):
                return
            with self._lock:  # busy: wait for the running one, then run once more
                if name in self._queued:
                    return
                self._queued.add(name)
            if self._closed.wait(self.options.retry_busy):
                return

    # ------------------------------------------------------------------ stop

    def close(self) -> None:
        """Stop every watch, poller and waiting request."""
        self._closed.set()
        with self._lock:
            watches, self._watches = dict(self._watches), {}
            pollers, self._pollers = dict(self._pollers), {}
            self._queued.clear()
        for poller in pollers.values():
            poller.stop()
        for watch in watches.values():
            watch.close()
        self.shared.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

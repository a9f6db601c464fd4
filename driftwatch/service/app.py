"""The long-running service: schedule runs, hand them to sinks, serve HTTP, reload, stop.

Threads: the main thread waits for signals (:meth:`Service.run_forever`), the
scheduler's pool runs targets, the HTTP server answers on its own threads.  The
configuration, runner and token are swapped as a whole on reload, so a run
always sees one consistent configuration; a rejected configuration changes
nothing.  SIGTERM/SIGINT stop scheduling and wait up to the grace period for
running checks; SIGHUP (or a change of the file's mtime) reloads.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from driftwatch.config.model import Config
from driftwatch.config.sharding import Shard
from driftwatch.errors import ConfigError, DriftwatchError, truncate
from driftwatch.history.counts import DriftCountSeries
from driftwatch.logs import log_context
from driftwatch.run import RunStatus, Sink, Stage, TargetRun
from driftwatch.service.api import ApiView
from driftwatch.service.audit import Audit
from driftwatch.service.drift_age import DriftAgeTracker, HistoryFirstSeen
from driftwatch.service.run_log import log_run
from driftwatch.service.runner import Runner, RunnerFactory
from driftwatch.service.scheduler import TargetScheduler, interval_of, trigger_for
from driftwatch.service.state import LatestState
from driftwatch.service.watch import WatchManager, WatchOptions
from driftwatch.service.web_source import ServiceWebSource
from driftwatch.sinks.alertmanager import AlertmanagerNotifier
from driftwatch.sinks.http_api import ApiServer, parse_listen
from driftwatch.sinks.metrics import MetricsStore
from driftwatch.sinks.web.app import WebApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceOptions:
    """How ``serve`` runs, beyond the configuration file."""

    listen: str | None = None
    """``HOST:PORT``; default: ``server.listen`` of the configuration."""
    token_file: str | None = None
    """Overrides ``server.tokenFile``."""
    grace_period: float = 30.0
    config_path: Path | None = None
    """Watched for mtime changes (reload without SIGHUP) when given."""
    watch_interval: float = 5.0
    watch_mode: WatchOptions = field(default_factory=WatchOptions)
    """Watch mode (targets with ``watch: true``) and Git polling settings."""
    max_workers: int = 8
    shard: Shard | None = None
    """Run only this shard's targets (``serve --shard I/N``); None: every target."""


def read_token(path: str | None) -> str | None:
    """The bearer token in ``path`` (stripped), None without a path; ConfigError if unusable."""
    if path is None:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read token file {path}: {truncate(str(e))}") from e
    if not token:
        raise ConfigError(f"token file {path} is empty")
    return token


class Service:
    """Everything ``driftwatch serve`` does, startable and stoppable in-process (for tests)."""

    def __init__(
        self,
        config: Config,
        *,
        runner_factory: RunnerFactory,
        options: ServiceOptions = ServiceOptions(),
        config_loader: Callable[[], Config] | None = None,
        sinks: Sequence[Sink] = (),
        metrics: MetricsStore | None = None,
        audit: Audit | None = None,
        series: DriftCountSeries | None = None,
    ) -> None:
        self.options = options
        self._factory = runner_factory
        self._loader = config_loader
        self._sinks = list(sinks)
        self.audit = audit
        self.state = LatestState()
        self.ages = DriftAgeTracker()
        self.series = series or DriftCountSeries()
        """Drift counts per run, for the overview's chart."""
        lookup = (
            HistoryFirstSeen(audit.history, self.ages).first_seen
            if audit is not None
            else self.ages.first_seen
        )
        self.metrics = metrics or MetricsStore(first_seen=lookup)
        self.metrics.shard = options.shard
        if audit is not None:
            self.metrics.event_counts = audit.counts
        self._reload_lock = threading.Lock()
        self._active = 0
        self._running: set[str] = set()
        """Targets with a run going on (guarded by ``_cond``; a name leaves when its run ends)."""
        self._stopping = False
        self._cond = threading.Condition()
        self._stop_requested = False
        self._reload_requested = False
        self._validate(config)
        every_target = tuple(t.name for t in config.targets)
        config = self._owned(config)
        self._config = config
        self._alerts: AlertmanagerNotifier | None = None
        self._alerts_for: object = None
        self._runner: Runner = runner_factory(config)
        self._scheduler = TargetScheduler(self._scheduled_run, max_workers=options.max_workers)
        self.watch = WatchManager(
            emit=self._emit,
            metrics=self.metrics,
            run_target=self.run_target,
            options=options.watch_mode,
        )
        self.view = ApiView(
            config=config,
            state=self.state,
            metrics_store=self.metrics,
            first_seen=lookup,
            audit=audit,
            token=read_token(options.token_file or config.server.token_file),
            next_runs=self._scheduler.next_run_times,
            refresh=self.watch.request_run,
            watch_health=self.watch.health,
            shard=options.shard,
            all_targets=every_target,
        )
        self.metrics.watch_health = self.watch.health_rows
        host, port = parse_listen(options.listen or config.server.listen)
        self.pages = WebApp(
            ServiceWebSource(self.view, self.series),
            external_url=lambda: self._config.server.external_url,
        )
        self.http = ApiServer(self.view, host, port, pages=self.pages)

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self._config

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Serve HTTP and start scheduling (every target runs at once)."""
        self._apply(self._config, self._runner, self.view.token)
        self.http.start()
        self._scheduler.start()
        host, port = self.http.address
        log.info("serving on %s:%d with %d target(s)", host, port, len(self._config.targets))
        log.info("drift pages at %s", self.page_url())

    def page_url(self) -> str:
        """Where a person opens the pages: the external URL, else this listener's address."""
        if self._config.server.external_url:
            return self._config.server.external_url.rstrip("/") + "/"
        host, port = self.http.address
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def stop(self, grace_period: float | None = None) -> bool:
        """Stop scheduling, wait for running checks (up to the grace period), stop HTTP.

        Returns True when every running check finished in time.
        """
        grace = self.options.grace_period if grace_period is None else grace_period
        with self._cond:
            self._stopping = True
        self._scheduler.shutdown()
        self.watch.close()
        with self._cond:
            clean = self._cond.wait_for(lambda: self._active == 0, timeout=grace)
        if not clean:
            log.error("%d check(s) still running after the %ss grace period", self._active, grace)
        self.http.stop()
        if self._alerts is not None:
            self._alerts.close()
        if self.audit is not None:
            try:
                self.audit.close()
            except Exception as e:
                log.error("closing the audit log failed: %s", truncate(str(e)))
        return clean

    def request_stop(self, *_: object) -> None:
        """Ask :meth:`run_forever` to stop (signal-safe: sets a flag)."""
        self._stop_requested = True

    def request_reload(self, *_: object) -> None:
        """Ask :meth:`run_forever` to reload (signal-safe: sets a flag)."""
        self._reload_requested = True

    def run_forever(self) -> bool:
        """Start, then handle signals until SIGTERM/SIGINT; returns :meth:`stop`'s result."""

        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.request_stop()

        def on_reload(signum: int, frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_reload)
        self.start()
        mtime = self._mtime()
        next_check = time.monotonic() + self.options.watch_interval
        while not self._stop_requested:
            time.sleep(0.1)
            if self._reload_requested:
                self._reload_requested = False
                log.info("SIGHUP: reloading the configuration")
                self.reload()
                mtime = self._mtime()
            elif self.options.config_path is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + self.options.watch_interval
                current = self._mtime()
                if current != mtime:
                    mtime = current
                    log.info("configuration file changed: reloading")
                    self.reload()
        log.info("stopping: waiting up to %ss for running checks", self.options.grace_period)
        return self.stop()

    def _mtime(self) -> float | None:
        path = self.options.config_path
        try:
            return os.stat(path).st_mtime if path is not None else None
        except OSError:
            return None

    # ------------------------------------------------------------------ reload

    def reload(self) -> bool:
        """Load and apply the configuration again; a bad one is rejected (old one stays)."""
        if self._loader is None:
            log.warning("reload asked, but there is no configuration file to reload")
            return False
        with self._reload_lock:
            try:
                config = self._loader()
                self._validate(config)
                every_target = tuple(t.name for t in config.targets)
                config = self._owned(config)
                token = read_token(self.options.token_file or config.server.token_file)
                runner = self._factory(config)
            except Exception as e:
                detail = str(e) if isinstance(e, DriftwatchError) else type(e).__name__
                log.error("configuration rejected, keeping the previous one: %s", truncate(detail))
                self.metrics.count_config_reload(False)
                return False
            if (self.options.listen or config.server.listen) != (
                self.options.listen or self._config.server.listen
            ):
                log.warning("server.listen changed: restart driftwatch to apply it")
            self._apply(config, runner, token)
            self.view.all_targets = every_target
            self.metrics.count_config_reload(True)
            log.info("configuration reloaded: %d target(s)", len(config.targets))
            return True

    def _owned(self, config: Config) -> Config:
        """The targets this replica runs: its shard's, or all (every target is validated first)."""
        shard = self.options.shard
        if shard is None:
            return config
        owned = shard.select(config)
        log.info("shard %s runs %d of %d target(s)", shard, len(owned.targets), len(config.targets))
        return owned

    @staticmethod
    def _validate(config: Config) -> None:
        for target in config.targets:
            trigger_for(target)

    def _apply(self, config: Config, runner: Runner, token: str | None) -> None:
        names = [t.name for t in config.targets]
        self._config, self._runner = config, runner
        self.view.config, self.view.token = config, token
        self.state.set_targets(names)
        self.ages.forget(set(names))
        self.series.forget(names)
        self.metrics.configure(config, {t.name: interval_of(t) for t in config.targets})
        self._apply_alerts(config)
        self.watch.sync(config)
        self._scheduler.sync(config.targets)

    def _apply_alerts(self, config: Config) -> None:
        """(Re)build direct Alertmanager delivery when its configuration changed."""
        wanted = (config.alertmanager, config.instance, config.server.external_url)
        if wanted == self._alerts_for:
            return
        if self._alerts is not None:
            self._alerts.close()
        self._alerts = AlertmanagerNotifier.from_config(
            config, on_delivery=self.metrics.count_alertmanager_notification
        )
        self._alerts_for = wanted

    # ------------------------------------------------------------------ runs

    def run_target(self, name: str) -> bool:
        """Run one target now, in this thread, and hand the run to every sink.

        Returns False (and runs nothing) while stopping or while another run of the
        same target is going on, e.g. one started before a reload rescheduled it.
        """
        with self._cond:
            if self._stopping:
                return False
            if name in self._running:
                log.info("run skipped: the previous run is still going", extra={"target": name})
                return False
            self._running.add(name)
            self._active += 1
        try:
            runner = self._runner
            if name not in {t.name for t in self._config.targets}:
                return False
            self.state.started(name)
            with log_context(target=name):
                self.watch.before_run(name)
                run = self._run_once(runner, name)
                with log_context(trace_id=run.trace_id):
                    self._emit(run)
                    log_run(log, run)
                self.watch.after_run(name, runner, run)
            return True
        finally:
            self.state.finished(name)
            with self._cond:
                self._running.discard(name)
                self._active -= 1
                self._cond.notify_all()

    def _scheduled_run(self, name: str) -> None:
        self.run_target(name)

    @staticmethod
    def _run_once(runner: Runner, name: str) -> TargetRun:
        started = time.time()
        try:
            return runner.run(name)
        except Exception as e:
            log.exception("run crashed")
            return TargetRun(
                target=name,
                started_at=started,
                finished_at=time.time(),
                status=RunStatus.FAILED,
                error=f"internal error: {type(e).__name__}",
            )

    def _emit(self, run: TargetRun) -> None:
        began = time.monotonic()
        self.ages.emit(run)
        try:
            self.series.emit(run)
        except Exception:
            log.exception("drift count series failed")
        if self.audit is not None:
            try:
                self.audit.emit(run)
            except DriftwatchError as e:  # the recorder counts it (event_counts)
                log.error("audit log write failed: %s", truncate(str(e)))
            except Exception:  # a defect, not a full disk: count it and show where
                self.metrics.count_event_log_write_error()
                log.exception("audit log write crashed")
        alerts = [self._alerts] if self._alerts is not None else []
        for sink in [*self._sinks, *alerts]:
            try:
                sink.emit(run)
            except Exception:
                log.exception("sink %s failed", type(sink).__name__)
        run.durations[Stage.EMIT] = run.durations.get(Stage.EMIT, 0.0) + time.monotonic() - began
        self.state.emit(run)
        self.metrics.emit(run)

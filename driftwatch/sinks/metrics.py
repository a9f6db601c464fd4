"""Prometheus metrics of ``driftwatch serve``, exactly as docs/metrics.md names them.

:class:`MetricsStore` is a sink (``emit(run)`` after each run) and a custom
collector: every gauge is built from the latest runs *at scrape time*, so an
object no longer drifted, or a target no longer configured, has no series left.
Counters and the per-stage histogram accumulate here, per target, and vanish
with their target.  Per-object series are capped (``server.maxDriftSeries``).

Other components report their counts through the ``count_*`` methods (events
written, Alertmanager deliveries, watch events).  Label values come from closed
sets or object identity, never from free text.
"""

from __future__ import annotations

import platform
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from driftwatch import __version__
from driftwatch.config.model import Config
from driftwatch.config.sharding import Shard
from driftwatch.model import (
    DRIFT_STATES,
    Direction,
    DriftState,
    ObjectDrift,
    ResourceKey,
    TargetReport,
)
from driftwatch.run import RunStatus, Stage, TargetRun
from driftwatch.sinks.shard_metrics import with_shard

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""Prometheus text 0.0.4 only: under OpenMetrics the gauge
``driftwatch_resource_drift_series_dropped`` and the counter
``..._dropped_total`` would share one family name."""

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, float("inf"))

EventCounts = Callable[[], tuple[Mapping[str, int], int] | None]
"""() -> (events written by CloudEvents type, failed event log writes), kept by the audit log."""

FirstSeenLookup = Callable[[str, ResourceKey, DriftState], float | None]

WatchHealthRows = Callable[[], Iterable[tuple[str, str, str, bool, int]]]
"""() -> (cluster, group, kind, up, restarts) per shared watch (several per type under
namespaced RBAC: the type is up only when all are)."""
"""(target, key, state) -> Unix time the object was first seen in that drift state."""


def public_url(url: str) -> str:
    """A repository URL without user info, query or fragment (``git@host:x`` unchanged)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def oldest_pending(report: TargetReport) -> float | None:
    """Unix time of the oldest commit behind a ``git``/``both`` drift, or None."""
    times = []
    for obj in report.drifted:
        commit = obj.git_commit
        if obj.direction in (Direction.GIT, Direction.BOTH) and commit is not None:
            try:
                times.append(datetime.fromisoformat(commit.time.replace("Z", "+00:00")))
            except ValueError:
                continue
    return min(times).timestamp() if times else None


def error_stages(run: TargetRun) -> set[Stage]:
    """The stages a run counts as errored in (failed, partial, or stale Git)."""
    stages: set[Stage] = set()
    if run.failed_stage is not None:
        stages.add(run.failed_stage)
    if run.git_stale:
        stages.add(Stage.GIT)
    report = run.report
    if run.status is RunStatus.PARTIAL and report is not None and run.failed_stage is None:
        if report.source_errors:
            stages.add(Stage.RENDER)
        if report.read_errors or run.cluster_unreachable:
            stages.add(Stage.SNAPSHOT)
    if run.status is not RunStatus.SUCCESS and not stages:
        stages.add(Stage.SNAPSHOT if run.cluster_unreachable else Stage.COMPARE)
    return stages


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.total += value
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1

    def buckets(self) -> list[tuple[str, float]]:
        pairs = zip(BUCKETS, self.counts, strict=True)
        return [("+Inf" if b == float("inf") else repr(b), c) for b, c in pairs]


@dataclass
class _TargetState:
    last_run: TargetRun | None = None
    report_run: TargetRun | None = None
    git_fetched_at: float | None = None
    runs: Counter[RunStatus] = field(default_factory=Counter)
    errors: Counter[Stage] = field(default_factory=Counter)
    api_requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    durations: dict[Stage, _Histogram] = field(default_factory=dict)
    watch_events: Counter[str] = field(default_factory=Counter)
    watch_mismatches: int = 0
    held: list[ObjectDrift] = field(default_factory=list)
    """Drift of earlier reports the latest one cannot overturn (unknown is not absent)."""


@dataclass(frozen=True)
class _TargetInfo:
    cluster: str
    repository: str
    path: str
    renderer: str
    interval: float


class MetricsStore(Collector):
    """Sink and scrape-time collector of every ``driftwatch_*`` metric."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        first_seen: FirstSeenLookup | None = None,
        max_drift_series: int = 2000,
        event_counts: EventCounts | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, _TargetInfo] = {}
        self._state: dict[str, _TargetState] = {}
        self._first_seen = first_seen
        self.event_counts = event_counts
        """Read at scrape time and added to what ``count_event*`` counted."""
        self.watch_health: WatchHealthRows | None = None
        """Read at scrape time for ``driftwatch_watch_up`` (set by the service)."""
        self.max_drift_series = max_drift_series
        self._dropped_total = 0
        self._events: Counter[str] = Counter()
        self._event_write_errors = 0
        self._alertmanager: Counter[tuple[str, str]] = Counter()
        self._reloads: Counter[str] = Counter()
        self._last_reload_ok: bool | None = None
        self.shard: Shard | None = None
        """Set when this replica runs one shard of the targets: every series gets ``shard``."""
        self.registry = CollectorRegistry(auto_describe=True) if registry is None else registry
        self.registry.register(self)

    # ------------------------------------------------------------------ inputs

    def configure(self, config: Config, intervals: Mapping[str, float] | None = None) -> None:
        """Take the (new) configured targets; series of removed targets disappear."""
        intervals = intervals or {}
        targets = {
            t.name: _TargetInfo(
                cluster=t.cluster,
                repository=public_url(t.repo),
                path=t.path,
                renderer=t.renderer.value,
                interval=intervals.get(t.name, t.schedule.interval),
            )
            for t in config.targets
        }
        with self._lock:
            self._targets = targets
            self.max_drift_series = config.server.max_drift_series
            for name in list(self._state):
                if name not in targets:
                    del self._state[name]

    def emit(self, run: TargetRun) -> None:
        """Account one finished run (ignored if its target is no longer configured)."""
        with self._lock:
            if self._targets and run.target not in self._targets:
                return
            state = self._state.setdefault(run.target, _TargetState())
            state.last_run = run
            if run.report is not None and run.status is not RunStatus.FAILED:
                earlier = [*state.held, *(_drifted(state.report_run) if state.report_run else [])]
                state.held = run.report.still_standing(earlier)
                state.report_run = run
            state.api_requests.update(run.api_requests)
            if run.watch_update:  # patches the report; not a run, fetched nothing from Git
                if state.report_run is run:
                    self._dropped_total += self._dropped().get(run.target, 0)
                return
            if run.revision is not None and not run.git_stale and run.failed_stage is not Stage.GIT:
                state.git_fetched_at = run.started_at + run.durations.get(Stage.GIT, 0.0)
            state.runs[run.status] += 1
            for stage in error_stages(run):
                state.errors[stage] += 1
            for stage, seconds in run.durations.items():
                state.durations.setdefault(stage, _Histogram()).observe(seconds)
            if state.report_run is run:
                self._dropped_total += self._dropped().get(run.target, 0)

    def count_event(self, event_type: str, count: int = 1) -> None:
        """Audit events written, by CloudEvents type."""
        with self._lock:
            self._events[event_type] += count

    def count_event_log_write_error(self) -> None:
        """A write to the event log failed."""
        with self._lock:
            self._event_write_errors += 1

    def count_alertmanager_notification(self, url_index: int, success: bool) -> None:
        """One direct delivery to the Alertmanager at ``urls[url_index]``."""
        with self._lock:
            self._alertmanager[(str(url_index), "success" if success else "failure")] += 1

    def count_watch_event(self, target: str, event_type: str) -> None:
        """One watch event applied (``ADDED``, ``MODIFIED``, ``DELETED``, ...)."""
        with self._lock:
            self._state.setdefault(target, _TargetState()).watch_events[event_type] += 1

    def count_watch_mismatch(self, target: str, count: int = 1) -> None:
        """Objects whose watched state disagreed with the next full snapshot."""
        with self._lock:
            self._state.setdefault(target, _TargetState()).watch_mismatches += count

    def count_config_reload(self, success: bool) -> None:
        """A configuration reload was applied or rejected."""
        with self._lock:
            self._reloads["success" if success else "failure"] += 1
            self._last_reload_ok = success

    def exposition(self) -> bytes:
        """The registry in Prometheus text format 0.0.4 (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ scrape

    def _drift_of(self, name: str, report: TargetReport) -> list[ObjectDrift]:
        """The target's drifted objects: the latest report's, and the earlier ones it keeps."""
        held = self._state[name].held
        return [*(o for o in report.objects if o.state in DRIFT_STATES), *held]

    def _reports(self) -> list[tuple[str, TargetRun, TargetReport]]:
        out = []
        for name in sorted(self._state):
            run = self._state[name].report_run
            if run is not None and run.report is not None:
                out.append((name, run, run.report))
        return out

    def _dropped(self) -> dict[str, int]:
        budget = self.max_drift_series
        dropped: dict[str, int] = {}
        for name, _, report in self._reports():
            drifted = len(self._drift_of(name, report))
            kept = min(budget, drifted)
            budget -= kept
            dropped[name] = drifted - kept
        return dropped

    def collect(self) -> Iterator[Metric]:
        """Every metric family, built now from the latest state (``shard``-labelled if set)."""
        families = self._collect_all()
        yield from families if self.shard is None else with_shard(families, self.shard)

    def _collect_all(self) -> Iterator[Metric]:
        with self._lock:
            yield from self._collect_process()
            yield from self._collect_targets()
            yield from self._collect_reports()
            yield from self._collect_drift()
            yield from self._collect_runs()
            yield from self._collect_watches()

    def _collect_process(self) -> Iterable[Metric]:
        build = GaugeMetricFamily(
            "driftwatch_build_info",
            "Build of the running driftwatch.",
            labels=["version", "python_version"],
        )
        build.add_metric([__version__, platform.python_version()], 1)
        yield build
        written, write_errors = Counter(self._events), self._event_write_errors
        external = self.event_counts() if self.event_counts is not None else None
        if external is not None:
            written.update(external[0])
            write_errors += external[1]
        events = CounterMetricFamily(
            "driftwatch_events_total", "Audit events written, by CloudEvents type.", labels=["type"]
        )
        for event_type, count in sorted(written.items()):
            events.add_metric([event_type], count)
        yield events
        yield CounterMetricFamily(
            "driftwatch_event_log_write_errors_total",
            "Failed writes to the event log.",
            value=write_errors,
        )
        notes = CounterMetricFamily(
            "driftwatch_alertmanager_notifications_total",
            "Direct Alertmanager deliveries.",
            labels=["url_index", "outcome"],
        )
        for (index, outcome), count in sorted(self._alertmanager.items()):
            notes.add_metric([index, outcome], count)
        yield notes
        reloads = CounterMetricFamily(
            "driftwatch_config_reloads_total",
            "Configuration reloads, by outcome (success, failure).",
            labels=["outcome"],
        )
        for outcome, count in sorted(self._reloads.items()):
            reloads.add_metric([outcome], count)
        yield reloads
        yield GaugeMetricFamily(
            "driftwatch_config_last_reload_successful",
            "1 if the last configuration reload was applied (or none was tried), 0 if rejected.",
            value=0 if self._last_reload_ok is False else 1,
        )

    def _collect_targets(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "driftwatch_target_info",
            "One per configured target.",
            labels=["target", "cluster", "repository", "path", "renderer"],
        )
        interval = GaugeMetricFamily(
            "driftwatch_run_interval_seconds",
            "The target's configured interval between runs.",
            labels=["target"],
        )
        for name, t in sorted(self._targets.items()):
            info.add_metric([name, t.cluster, t.repository, t.path, t.renderer], 1)
            interval.add_metric([name], t.interval)
        yield info
        yield interval

    def _collect_reports(self) -> Iterable[Metric]:
        states = [*(s.value for s in DriftState), "ignored"]
        resources = GaugeMetricFamily(
            "driftwatch_resources",
            "Objects per state in the latest report.",
            labels=["target", "state"],
        )
        by_kind = GaugeMetricFamily(
            "driftwatch_resources_by_kind",
            "Objects per state in the latest report, by namespace and kind.",
            labels=["target", "namespace", "group", "kind", "state"],
        )
        source_errors = GaugeMetricFamily(
            "driftwatch_source_errors",
            "Files that could not be read or rendered in the latest run.",
            labels=["target"],
        )
        unknown_types = GaugeMetricFamily(
            "driftwatch_unknown_types",
            "Resource types that could not be read in the latest run.",
            labels=["target"],
        )
        for name, _, report in self._reports():
            totals = {s.value: n for s, n in report.totals().items()}
            totals["ignored"] = report.ignored_count
            for state in states:
                resources.add_metric([name, state], totals[state])
            kinds: dict[tuple[str, str, str], Counter[DriftState]] = {}
            for obj in report.objects:
                k = obj.key
                kinds.setdefault((k.namespace, k.group, k.kind), Counter())[obj.state] += 1
            for (namespace, group, kind), counts in sorted(kinds.items()):
                for ds in DriftState:
                    if ds is DriftState.IN_SYNC or counts[ds]:
                        by_kind.add_metric([name, namespace, group, kind, ds.value], counts[ds])
            source_errors.add_metric([name], len(report.source_errors))
            unknown_types.add_metric([name], len(report.read_errors))
        yield from (resources, by_kind, source_errors, unknown_types)

    def _collect_drift(self) -> Iterable[Metric]:
        id_labels = ["target", "group", "kind", "namespace", "name", "drift_type"]
        drift = GaugeMetricFamily(
            "driftwatch_resource_drift",
            "One series per drifted object (capped); manager: who changed it; "
            "direction: which side moved (cluster, git, both, unknown).",
            labels=[*id_labels, "manager", "direction"],
        )
        pending = GaugeMetricFamily(
            "driftwatch_git_pending_oldest_timestamp_seconds",
            "Commit time of the oldest Git change not yet applied (objects with direction "
            "git or both); absent when none is pending.",
            labels=["target"],
        )
        since = GaugeMetricFamily(
            "driftwatch_resource_drift_since_timestamp_seconds",
            "When this object was first seen drifted.",
            labels=id_labels,
        )
        dropped = GaugeMetricFamily(
            "driftwatch_resource_drift_series_dropped",
            "Drifted objects left out of the per-object metrics by the cap in the latest report.",
            labels=["target"],
        )
        budget = self.max_drift_series
        for name, run, report in self._reports():
            left_out = 0
            oldest = oldest_pending(report)
            if oldest is not None:
                pending.add_metric([name], oldest)
            for obj in self._drift_of(name, report):
                if budget <= 0:
                    left_out += 1
                    continue
                budget -= 1
                k = obj.key
                labels = [name, k.group, k.kind, k.namespace, k.name, obj.state.value]
                who = obj.attribution.manager or "unknown"
                drift.add_metric([*labels, who, obj.direction.value], 1)
                first = self._first_seen(name, k, obj.state) if self._first_seen else None
                since.add_metric(labels, run.finished_at if first is None else first)
            dropped.add_metric([name], left_out)
        yield from (drift, since, dropped, pending)
        yield CounterMetricFamily(
            "driftwatch_resource_drift_series_dropped_total",
            "Per-object series left out by the cap, summed over reports.",
            value=self._dropped_total,
        )
        yield GaugeMetricFamily(
            "driftwatch_resource_drift_series_limit",
            "The cap on per-object drift series (server.maxDriftSeries).",
            value=self.max_drift_series,
        )

    def _collect_watches(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "driftwatch_watch_up",
            "1 while the shared watch of this type is open, 0 while it is down or restarting.",
            labels=["cluster", "group", "kind"],
        )
        restarts = CounterMetricFamily(
            "driftwatch_watch_restarts_total",
            "Shared watches restarted after their thread ended.",
            labels=["cluster", "group", "kind"],
        )
        rows: dict[tuple[str, str, str], tuple[bool, int]] = {}
        for cluster, group, kind, is_up, restarted in (
            self.watch_health() if self.watch_health is not None else ()
        ):
            was_up, was_restarted = rows.get((cluster, group, kind), (True, 0))
            rows[(cluster, group, kind)] = (was_up and is_up, was_restarted + restarted)
        for labels, (is_up, restarted) in sorted(rows.items()):
            up.add_metric(list(labels), 1 if is_up else 0)
            restarts.add_metric(list(labels), restarted)
        yield from (up, restarts)

    def _collect_runs(self) -> Iterable[Metric]:
        def gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=["target", *labels])

        def counter(name: str, doc: str, *labels: str) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, labels=["target", *labels])

        durations = HistogramMetricFamily(
            "driftwatch_run_duration_seconds", "Time per stage per run.", labels=["target", "stage"]
        )
        runs = counter("driftwatch_runs_total", "Runs finished.", "status")
        errors = counter(
            "driftwatch_run_errors_total", "Runs whose stage failed or was partial.", "stage"
        )
        last = gauge("driftwatch_last_run_timestamp_seconds", "When the last run finished.")
        last_ok = gauge(
            "driftwatch_last_successful_run_timestamp_seconds",
            "When the last run with a report (success or partial) finished.",
        )
        revision = gauge(
            "driftwatch_git_revision_info", "The commit compared in the latest run.", "sha", "ref"
        )
        fetched = gauge(
            "driftwatch_git_last_fetch_success_timestamp_seconds",
            "Last time Git was fetched successfully.",
        )
        stale = gauge(
            "driftwatch_git_stale",
            "1 while Git cannot be fetched and the last good commit is compared.",
        )
        api = counter(
            "driftwatch_kubernetes_api_requests_total",
            "Kubernetes API requests made.",
            "verb",
            "code",
        )
        watch = counter("driftwatch_watch_events_total", "Watch events applied.", "type")
        mismatches = counter(
            "driftwatch_watch_mismatches_total",
            "Objects where the watched state disagreed with the next snapshot.",
        )
        for name in sorted(self._state):
            st = self._state[name]
            for stage in Stage:
                hist = st.durations.get(stage)
                if hist is not None:
                    durations.add_metric([name, stage.value], hist.buckets(), hist.total)
            for status, n in sorted(st.runs.items()):
                runs.add_metric([name, status.value], n)
            for stage, n in sorted(st.errors.items()):
                errors.add_metric([name, stage.value], n)
            for (verb, code), n in sorted(st.api_requests.items()):
                api.add_metric([name, verb.lower(), str(code)], n)
            for event_type, n in sorted(st.watch_events.items()):
                watch.add_metric([name, event_type], n)
            if st.watch_mismatches:
                mismatches.add_metric([name], st.watch_mismatches)
            run = st.last_run
            if run is not None:
                last.add_metric([name], run.finished_at)
                stale.add_metric([name], 1 if run.git_stale else 0)
            if st.report_run is not None:
                last_ok.add_metric([name], st.report_run.finished_at)
            rev = (run.revision if run is not None else None) or (
                st.report_run.revision if st.report_run is not None else None
            )
            if rev is not None:
                revision.add_metric([name, rev.sha, rev.ref], 1)
            if st.git_fetched_at is not None:
                fetched.add_metric([name], st.git_fetched_at)
        yield from (durations, runs, errors, last, last_ok, revision, fetched, stale, api)
        yield from (watch, mismatches)


def _drifted(run: TargetRun) -> list[ObjectDrift]:
    report = run.report
    return [o for o in report.objects if o.state in DRIFT_STATES] if report is not None else []

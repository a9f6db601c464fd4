"""One run of one target, stage by stage: git -> render -> snapshot -> compare -> emit.

The pipeline is where the stages meet and where their failures are sorted out:
a stage that fails for the whole target ends the run as FAILED with the stage
named (no report, so no drift is raised or resolved on unknown data); a file
or a type that could not be read leaves a PARTIAL report.  Secret values are
fingerprinted (``driftwatch.redact``) as soon as each side is produced, before
any sink or the compare core sees them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from driftwatch.cluster import (
    ClusterCache,
    SnapshotRequest,
    Wanted,
    read_live,
    snapshot_request_for,
)
from driftwatch.cluster.cache import identity_of, trimmed
from driftwatch.cluster.request import parse_kind
from driftwatch.compare import CompareOptions, compare_target
from driftwatch.compare.direction import assign, needs_history
from driftwatch.compare.engine import Judge
from driftwatch.compare.ignore import IgnoreSpec, is_hpa
from driftwatch.compare.managers import ManagerRoles
from driftwatch.compare.marker import Marker
from driftwatch.compare.streaming import StreamingComparer
from driftwatch.compare.types import type_errors
from driftwatch.config.model import Cluster, Config, IgnoreRule, Renderer, Target
from driftwatch.errors import ClusterError, DriftwatchError, SourceFetchError, truncate
from driftwatch.gcpause import paused_gc
from driftwatch.keys import load_or_create_key
from driftwatch.model import (
    DeclarationHistory,
    DesiredSet,
    DriftState,
    GroupKind,
    LiveSnapshot,
    Manifest,
    ObjectDrift,
    ResourceKey,
    TargetReport,
)
from driftwatch.redact import SecretHasher
from driftwatch.render import ParseCache, RenderCache, render_target
from driftwatch.render.blobs import listing
from driftwatch.render.object_history import HistoryCache
from driftwatch.run import RunStatus, Sink, Stage, TargetRun
from driftwatch.sinks.tracing import (
    ATTR_CLUSTER,
    ATTR_STATUS,
    ATTR_TARGET,
    NoopTracer,
    Span,
    Tracer,
    report_attributes,
    revision_attributes,
    stage_span_name,
)
from driftwatch.source.git import Checkout, GitSource
from driftwatch.source.tree import TreeEntry

log = logging.getLogger(__name__)

Progress = Callable[[str, Stage], None]

_MAY_HOLD_WRONG_TYPES = frozenset({DriftState.MODIFIED, DriftState.MISSING})


class Compared(NamedTuple):
    """What a watch target's last full run compared, handed to watch mode."""

    desired: DesiredSet
    live: LiveSnapshot
    judge: Judge


class _StageError(Exception):
    def __init__(self, stage: Stage, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/driftwatch`` or ``~/.cache/driftwatch``."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "driftwatch"


class Pipeline:
    """Runs targets of one configuration; reusable across runs (caches Git and renders)."""

    def __init__(
        self,
        config: Config,
        *,
        state_dir: Path | None = None,
        cache_dir: Path | None = None,
        tracer: Tracer | None = None,
        sinks: Sequence[Sink] = (),
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.tracer: Tracer = tracer or NoopTracer()
        self.sinks = list(sinks)
        self.progress = progress
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.git = GitSource(cache / "git")
        self.render_cache = RenderCache(cache / "render")
        self.parse_cache = ParseCache(cache / "parse")
        self.hasher = SecretHasher(load_or_create_key(state_dir), config.sensitive_annotations)
        self._last_good: dict[str, Checkout] = {}
        self._compared: dict[str, Compared] = {}
        self._caches: dict[str, ClusterCache] = {}
        self._caches_lock = threading.Lock()
        self._watch_checkouts: dict[str, Checkout] = {}
        self._histories = HistoryCache()

    def run(self, target_name: str) -> TargetRun:
        """Run one target through every stage; never raises for a run's own failure."""
        target = self.config.target(target_name)
        run = TargetRun(target=target.name, started_at=time.time())
        cluster = self.config.cluster_for(target)
        with self.tracer.span(
            "driftwatch.run", {ATTR_TARGET: target.name, ATTR_CLUSTER: cluster.name}
        ) as span:
            run.trace_id = self.tracer.current_trace_id()
            try:
                self._stages(target, run)
            except _StageError as failure:
                run.status = RunStatus.FAILED
                run.failed_stage = failure.stage
                run.error = truncate(str(failure), 512)
                span.set_status(False, run.error)
            run.finished_at = time.time()
            span.set_attribute(ATTR_STATUS, run.status.value)
            with self._stage(run, Stage.EMIT, target.name):
                self._emit(run)
            run.finished_at = time.time()
        return run

    def desired(self, target_name: str) -> DesiredSet:
        """The target's desired set at its revision (Git + render), outside any run.

        Raises ``DriftwatchError`` when Git or the renderer fails.
        """
        target = self.config.target(target_name)
        run = TargetRun(target=target.name, started_at=time.time())
        try:
            return self._render(target, self._checkout(target, run))
        except _StageError as failure:
            raise DriftwatchError(str(failure)) from failure

    def take_compared(self, target_name: str) -> Compared | None:
        """The desired set, redacted live snapshot and judge of a ``watch`` target's last report.

        Handed over once (the pipeline keeps no reference): watch mode keeps the
        live side current between runs.  None when the last run made no report.
        """
        return self._compared.pop(target_name, None)

    def wanted(self, target_name: str, desired: DesiredSet) -> Wanted:
        """Which live objects the comparison of ``target_name`` needs (as a snapshot selects)."""
        return self._wanted(self.config.target(target_name), desired)

    def cluster_cache(self, cluster: Cluster) -> ClusterCache:
        """The one list cache of ``cluster``, shared by every target on it.

        Lists are kept for reuse, and a type wanted in one namespace is still listed
        across all, only when more than one target reads the cluster or one watches
        it (its shared watch starts from the cached list).
        """
        with self._caches_lock:
            cache = self._caches.get(cluster.name)
            if cache is None:
                on_it = [t for t in self.config.targets if t.cluster == cluster.name]
                shared = len(on_it) > 1 or any(t.watch for t in on_it)
                redact = self.hasher.redact
                cache = self._caches[cluster.name] = ClusterCache(
                    max_age=cluster.list_max_age,
                    retain=shared,
                    wide_for_one_namespace=shared,
                    hold=lambda body: redact(trimmed(body)),
                )
            return cache

    def direct(
        self,
        target_name: str,
        desired: DesiredSet,
        live: LiveSnapshot,
        verdicts: list[ObjectDrift],
    ) -> list[ObjectDrift]:
        """``verdicts`` (watch mode's re-compared objects) with which side moved decided."""
        target = self.config.target(target_name)
        report = TargetReport(target_name, objects=list(verdicts))
        checkout = self._watch_checkouts.get(target_name)
        self._directions(target, checkout, desired, live, self.compare_options(target), report)
        return report.objects

    # ------------------------------------------------------------------ stages

    def _stages(self, target: Target, run: TargetRun) -> None:
        with self._stage(run, Stage.GIT, target.name) as span:
            checkout = self._checkout(target, run)
            run.revision = checkout.revision
            for key, value in revision_attributes(checkout.revision).items():
                span.set_attribute(key, value)
        with self._stage(run, Stage.RENDER, target.name) as span:
            desired = self._render(target, checkout)
            run.render_skipped = desired.from_cache
            span.set_attribute("driftwatch.render.skipped", desired.from_cache)
            span.set_attribute("driftwatch.desired.objects", len(desired.objects))
        options = self.compare_options(target)
        # One judge per run, from the server's OpenAPI (fetched before the first page
        # streams) or the built-in index: streamed, whole-target and watch verdicts agree.
        judges: list[Judge] = []
        streaming = None if target.watch else StreamingComparer(desired)

        def openapi_ready(openapi: dict[str, Any]) -> None:
            judges.append(Judge.build(options, openapi))
            if streaming is not None:
                streaming.start(judges[0])

        with self._stage(run, Stage.SNAPSHOT, target.name) as span:
            pages = PageConsumer(streaming)
            live = self._snapshot(target, desired, run, pages, openapi_ready)
            span.set_attribute("driftwatch.live.objects", len(live.objects))
        pages.account(run.durations)
        judge = judges[0] if judges else Judge.build(options, live.openapi)
        with self._stage(run, Stage.COMPARE, target.name) as span:
            with paused_gc():
                report = compare_target(
                    desired,
                    live,
                    options,
                    precomputed=streaming.verdicts if streaming is not None else None,
                    judge=judge,
                )
            # A declared value of the wrong type can never be live, so only objects that
            # differ can hold one: a source error naming the file; the object stays compared.
            differing = {o.key for o in report.objects if o.state in _MAY_HOLD_WRONG_TYPES}
            suspects = {k: desired.objects[k] for k in differing if k in desired.objects}
            if suspects:
                subset = replace(desired, objects=suspects, errors=[])
                report.source_errors.extend(type_errors(subset, judge.schema))
            self._directions(target, checkout, desired, live, options, report)
            for key, value in report_attributes(report).items():
                span.set_attribute(key, value)
        report.snapshot_time_estimate = live.taken_at_estimate
        run.report = report
        if target.watch:  # handed to watch mode (take_compared), never kept otherwise
            self._compared[target.name] = Compared(desired, live, judge)
            self._watch_checkouts[target.name] = checkout
        run.status = RunStatus.SUCCESS if report.complete else RunStatus.PARTIAL
        if not report.complete:
            problems = [e.display() for e in report.source_errors[:3]]
            problems += [
                f"{gk.display()}: {err}" for gk, err in list(report.read_errors.items())[:3]
            ]
            run.error = truncate("; ".join(problems) or "some objects could not be compared", 512)
            run.failed_stage = Stage.RENDER if report.source_errors else Stage.SNAPSHOT
        if run.git_stale:
            run.status = RunStatus.PARTIAL
            run.failed_stage = run.failed_stage or Stage.GIT

    @contextmanager
    def _stage(self, run: TargetRun, stage: Stage, target: str) -> Iterator[Span]:
        if self.progress is not None:
            self.progress(target, stage)
        started = time.perf_counter()
        with self.tracer.span(stage_span_name(stage.value)) as span:
            try:
                yield span
            except _StageError as failure:
                span.set_status(False, str(failure))
                raise
            finally:
                run.durations[stage] = run.durations.get(stage, 0.0) + time.perf_counter() - started

    def _directions(
        self,
        target: Target,
        checkout: Checkout | None,
        desired: DesiredSet,
        live: LiveSnapshot,
        options: CompareOptions,
        report: TargetReport,
    ) -> None:
        """Decide which side moved for each drifted object; Git history is read only for them.

        History is read for plain-YAML targets (an object's origin file is its
        source); for rendered targets it is left unknown where it would decide.
        """
        roles = ManagerRoles(options.appliers, options.controllers)
        wanted = [o for o in report.objects if needs_history(o, live.objects.get(o.key), roles)]
        histories: dict[ResourceKey, DeclarationHistory] = {}
        tree = checkout.tree if checkout is not None and not checkout.worktree else None
        if wanted and checkout is not None and tree is not None:
            if _plain(target, tree.entries()):
                requests = [(o.key, o.origin.file if o.origin else None) for o in wanted]
                histories = self._histories.read(
                    target.name,
                    tree.repo_dir,
                    checkout.revision.sha,
                    target.path,
                    requests,
                    self.hasher.redact,
                )
        assign(report, desired, live, roles, histories)

    def _checkout(self, target: Target, run: TargetRun) -> Checkout:
        try:
            checkout = self.git.checkout(target)
        except SourceFetchError as e:
            last = self._last_good.get(target.name)
            if last is None:
                raise _StageError(Stage.GIT, str(e)) from e
            run.git_stale = True
            run.error = truncate(
                f"Git failed, comparing the last good commit {last.revision.sha[:12]}: {e}", 512
            )
            return last
        if checkout.stale:
            run.git_stale = True
            run.error = truncate(
                f"Git fetch failed, comparing last fetched commit: {checkout.fetch_error}", 512
            )
        else:
            self._last_good[target.name] = checkout
        return checkout

    def _render(self, target: Target, checkout: Checkout) -> DesiredSet:
        try:
            return render_target(
                target,
                checkout,
                cache=self.render_cache,
                parse_cache=self.parse_cache,
                redactor=self.hasher,  # Secret values fingerprinted before any cache sees them
            )
        except DriftwatchError as e:
            raise _StageError(Stage.RENDER, str(e)) from e

    def _snapshot(
        self,
        target: Target,
        desired: DesiredSet,
        run: TargetRun,
        pages: PageConsumer,
        openapi_ready: Callable[[dict[str, Any]], None] | None = None,
    ) -> LiveSnapshot:
        cluster = self.config.cluster_for(target)
        request: SnapshotRequest = snapshot_request_for(desired, target, self.config)
        try:
            live, _ = read_live(
                cluster,
                request,
                self.hasher,
                wanted=self._wanted(target, desired),
                consume=pages,
                cache=None if cluster.snapshot else self.cluster_cache(cluster),
                max_age=target.schedule.interval,
                counts=run.api_requests,  # counted even when the read fails
                openapi_ready=openapi_ready,
            )
        except ClusterError as e:
            run.cluster_unreachable = True
            raise _StageError(Stage.SNAPSHOT, str(e)) from e
        except DriftwatchError as e:
            raise _StageError(Stage.SNAPSHOT, str(e)) from e
        if cluster.snapshot:  # a saved snapshot is not listed: the consumer never saw it
            redact = self.hasher.redact
            live.objects = {key: redact(body) for key, body in live.objects.items()}
        return live

    @staticmethod
    def _wanted(target: Target, desired: DesiredSet) -> Wanted:
        """Which listed objects the comparison needs (pure): the rest are never held for it."""
        declared = {scoped for key in desired.objects for scoped in key.scopings()}
        marker = Marker(target.selector, target.tracking_annotation)

        def wanted(key: ResourceKey, metadata: Mapping[str, Any]) -> bool:
            return key in declared or is_hpa(key.kind) or marker.marks({"metadata": metadata})

        return wanted

    def compare_options(self, target: Target) -> CompareOptions:
        """How ``target`` is compared, from the target and the global configuration."""
        config = self.config
        kinds: set[GroupKind] = set()
        for text in (*config.unmanaged_kinds, *target.unmanaged_kinds):
            kinds.add(parse_kind(text))
        return CompareOptions(
            marker=target.selector,
            tracking_annotation=target.tracking_annotation,
            unmanaged_kinds=frozenset(kinds),
            ignore=tuple(_ignore_spec(rule) for rule in (*config.ignore, *target.ignore)),
            appliers=config.managers.appliers,
            controllers=config.managers.controllers,
            sensitive_annotations=frozenset(config.sensitive_annotations),
        )

    def _emit(self, run: TargetRun) -> None:
        for sink in self.sinks:
            try:
                sink.emit(run)
            except Exception:  # a sink's failure must not stop the others or the service
                log.exception("sink %s failed for target %s", type(sink).__name__, run.target)


def _plain(target: Target, entries: Sequence[TreeEntry]) -> bool:
    """Whether the target renders as plain YAML (each object's file is its source in Git)."""
    if target.renderer is not Renderer.AUTO:
        return target.renderer is Renderer.PLAIN
    files = listing(entries, target.path)
    return files is not None and not files.kustomization and not files.chart


class PageConsumer:
    """The streaming step of a run: what the target keeps of each listed object, as pages arrive.

    A declared object of a built-in kind is compared at once (``StreamingComparer``)
    and the target keeps only a new identity body for it (that it exists); every
    other object is kept as the cache holds it.  Bodies it is given are shared with
    other targets and are never changed.  The time spent comparing is the compare
    stage's, even though it runs inside the list threads: :meth:`account` moves it.
    """

    def __init__(self, streaming: StreamingComparer | None) -> None:
        self.streaming = streaming
        self.seconds = 0.0
        """Compare CPU time spent while pages streamed (summed over list threads)."""
        self._lock = threading.Lock()

    def __call__(self, key: ResourceKey, body: Manifest) -> Manifest:
        """What the target keeps for ``key`` (a new identity body once compared)."""
        streaming = self.streaming
        if streaming is None:
            return body
        started = time.thread_time()  # CPU of this list thread: waits for the GIL excluded
        final = streaming.offer(key, body)
        elapsed = time.thread_time() - started
        with self._lock:
            self.seconds += elapsed
        if final and streaming.verdicts[key].state is DriftState.IN_SYNC:
            return identity_of(body)  # compared and in sync: only its existence still matters
        return body  # drift keeps its body (which side moved is decided from it later)

    def account(self, durations: dict[Stage, float]) -> None:
        """Report the streamed compare time as compare, not as snapshot (never below zero)."""
        moved = min(self.seconds, durations.get(Stage.SNAPSHOT, 0.0))
        if moved > 0:
            durations[Stage.SNAPSHOT] -= moved
            durations[Stage.COMPARE] = durations.get(Stage.COMPARE, 0.0) + moved


def _ignore_spec(rule: IgnoreRule) -> IgnoreSpec:
    """A configured ignore rule as the compare core takes it (plain data)."""
    return IgnoreSpec(
        paths=rule.paths,
        group=rule.group,
        kind=rule.kind,
        namespace=rule.namespace,
        name=rule.name,
        managers=rule.managers,
        reason=rule.reason,
    )

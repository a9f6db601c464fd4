"""The data behind ``/api/v1/*``, ``/readyz`` and ``/metrics``, from the service's state.

Response shapes (stable; times are RFC 3339 UTC strings, durations seconds):

* ``/api/v1/drift`` -> ``{"generated_at", "shard", "targets": [{"target", "report_time",
  "stale", "last_run_status", "report": <driftwatch.report/v1> | null}]}``; objects
  carry ``first_seen``/``drift_age_seconds``.
* ``/api/v1/targets`` -> ``{"shard", "targets": [{"name", "cluster", "repository", "rev",
  "path", "schedule", "running", "running_since", "next_run_at", "last_run",
  "last_report_at", "stale": {"git", "cluster", "report"}}]}``.
* ``/api/v1/events`` -> ``{"shard", "events": [CloudEvents as the audit log stores them]}``
  (a sharded replica's log holds its own targets' events).
* ``"shard"``: null, or ``{"index", "count", "peers": [base URL per shard] | null}`` on a
  replica that runs one shard of the targets (``serve --shard``): it lists only its own.
* ``POST /api/v1/refresh`` -> 202 ``{"target", "status": "accepted"}``: a run of that
  target starts soon (404 for an unknown target).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftwatch.config.model import Config, parse_duration
from driftwatch.config.sharding import Shard
from driftwatch.errors import DriftwatchError, truncate
from driftwatch.model import DRIFT_STATES, Direction, DriftState, ObjectDrift, ResourceKey
from driftwatch.run import TargetRun
from driftwatch.service.audit import Audit
from driftwatch.service.shared_watch import WatchHealth, health_rows
from driftwatch.service.state import LatestState, TargetState
from driftwatch.sinks.http_api import ApiError
from driftwatch.sinks.metrics import CONTENT_TYPE, MetricsStore, public_url
from driftwatch.sinks.report_json import report_to_json, revision_to_json, rfc3339, totals_to_json

MAX_EVENTS = 10_000
DEFAULT_EVENTS = 100

FirstSeenLookup = Callable[[str, ResourceKey, DriftState], float | None]


@dataclass
class ApiView:
    """What the endpoints read; the service swaps ``config``/``token`` on reload."""

    config: Config
    state: LatestState
    metrics_store: MetricsStore
    first_seen: FirstSeenLookup
    audit: Audit | None = None
    token: str | None = None
    next_runs: Callable[[], dict[str, float | None]] = dict
    refresh: Callable[[str], bool] | None = None
    """Asks for a run of a target now (the service's ``WatchManager.request_run``)."""
    watch_health: Callable[[], list[WatchHealth]] | None = None
    """The shared watches' health (the service's ``WatchManager.health``)."""
    shard: Shard | None = None
    """This replica's shard (``config`` then holds only its targets); None: not sharded."""
    all_targets: tuple[str, ...] = ()
    """Every configured target, this replica's or not: pages link to all of them, and a
    request for another replica's target is redirected there (:meth:`Shard.redirect_url`)."""

    def ready(self) -> tuple[bool, str]:
        """Ready once any target produced a report; it stays ready (scrapes go on)."""
        if self.state.ever_reported:
            return True, "ready"
        if self.shard is not None and not self.config.targets:
            return True, f"ready: shard {self.shard} owns no target"
        return False, "no target has produced a report yet"

    def ready_detail(self) -> dict[str, Any]:
        """What ``/readyz`` adds: each shared watch and whether it is up.

        A watch that is down does not make the service unready: full runs still
        report, and its type is not trusted as watched meanwhile.
        """
        if self.watch_health is None:
            return {}
        health = self.watch_health()
        if not health:
            return {}
        return {"watches": health_rows(health), "watches_down": sum(not h.up for h in health)}

    def metrics(self) -> tuple[bytes, str]:
        """The Prometheus exposition."""
        return self.metrics_store.exposition(), CONTENT_TYPE

    def bearer_token(self) -> str | None:
        """The /api/* token, if any."""
        return self.token

    def replica_shard(self) -> Shard | None:
        """This replica's shard, None when it runs every target."""
        return self.shard

    def _shard_json(self) -> dict[str, Any] | None:
        return self.shard.to_json() if self.shard is not None else None

    def api(self, path: str, params: Mapping[str, str]) -> Any:
        """Dispatch an /api/v1 route."""
        if path == "/api/v1/drift":
            return self.drift(params)
        if path == "/api/v1/targets":
            return self.targets()
        return self.events(params)

    def refresh_target(self, target: str) -> dict[str, Any]:
        """Start a run of ``target`` (asynchronously); ApiError 404 if it is unknown."""
        names = {t.name for t in self.config.targets}
        if target not in names or self.refresh is None or not self.refresh(target):
            raise ApiError(404, f"no target {truncate(target, 64)!r}")
        return {"target": target, "status": "accepted"}

    # ---------------------------------------------------------------- drift

    def drift(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Current drift per target, filtered by target, namespace, kind and name."""
        config = self.config
        wanted = params.get("target") or None
        names = [t.name for t in config.targets]
        if wanted is not None and wanted not in names:
            raise ApiError(404, f"no target {truncate(wanted, 64)!r}")
        all_objects = _flag(params.get("all"), "all")
        select = _selector(
            params.get("namespace"),
            params.get("kind"),
            params.get("name"),
            _direction(params.get("direction")),
        )
        now = time.time()
        entries = []
        for name in names if wanted is None else [wanted]:
            st = self.state.get(name)
            report_run = st.report_run
            report = None
            if report_run is not None and report_run.report is not None:

                def first_seen(key: ResourceKey, state: DriftState, _n: str = name) -> float | None:
                    return self.first_seen(_n, key, state)

                report = report_to_json(
                    report_run.report,
                    all_objects=all_objects,
                    select=select,
                    first_seen=first_seen,
                    now=now,
                )
            entries.append(
                {
                    "target": name,
                    "report_time": rfc3339(report_run.finished_at) if report_run else None,
                    "stale": st.last_run is not None and st.last_run is not report_run,
                    "last_run_status": st.last_run.status.value if st.last_run else None,
                    "report": report,
                }
            )
        return {"generated_at": rfc3339(now), "shard": self._shard_json(), "targets": entries}

    # ---------------------------------------------------------------- targets

    def targets(self) -> dict[str, Any]:
        """Each configured target with its last run."""
        next_runs = self.next_runs()
        out = []
        for target in self.config.targets:
            st: TargetState = self.state.get(target.name)
            last = st.last_run
            out.append(
                {
                    "name": target.name,
                    "cluster": target.cluster,
                    "repository": public_url(target.repo),
                    "rev": target.rev,
                    "path": target.path,
                    "schedule": {
                        "interval_seconds": target.schedule.interval,
                        "cron": target.schedule.cron,
                        "jitter_seconds": target.schedule.jitter,
                    },
                    "running": st.running_since is not None,
                    "running_since": rfc3339(st.running_since),
                    "next_run_at": rfc3339(next_runs.get(target.name)),
                    "last_run": run_to_json(last) if last is not None else None,
                    "last_report_at": rfc3339(st.report_run.finished_at) if st.report_run else None,
                    "stale": {
                        "git": bool(last and last.git_stale),
                        "cluster": bool(last and last.cluster_unreachable),
                        "report": last is not None and last is not st.report_run,
                    },
                }
            )
        return {"shard": self._shard_json(), "targets": out}

    # ---------------------------------------------------------------- events

    def events(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Audit events, filtered like ``driftwatch events``."""
        if self.audit is None:
            raise ApiError(404, "no event log (serve runs without a state directory)")
        limit = _int(params.get("limit"), "limit", DEFAULT_EVENTS, 1, MAX_EVENTS)
        since = _since(params.get("since"))
        try:
            events = self.audit.query(
                since=since,
                type=params.get("type") or None,
                target=params.get("target") or None,
                resource=params.get("resource") or None,
                limit=limit,
            )
        except (DriftwatchError, ValueError) as e:
            raise ApiError(400, truncate(str(e))) from e
        return {"shard": self._shard_json(), "events": events}


def run_to_json(run: TargetRun) -> dict[str, Any]:
    """One run as /api/v1/targets shows it."""
    return {
        "started_at": rfc3339(run.started_at),
        "finished_at": rfc3339(run.finished_at),
        "duration_seconds": round(run.duration, 3),
        "status": run.status.value,
        "error": run.error,
        "failed_stage": run.failed_stage.value if run.failed_stage else None,
        "stages": {stage.value: round(s, 3) for stage, s in run.durations.items()},
        "revision": revision_to_json(run.revision),
        "git_stale": run.git_stale,
        "cluster_unreachable": run.cluster_unreachable,
        "render_skipped": run.render_skipped,
        "trace_id": run.trace_id,
        "totals": totals_to_json(run.report) if run.report is not None else None,
    }


def _direction(value: str | None) -> Direction | None:
    """``?direction=cluster|git|both|unknown`` (empty: any)."""
    if not value:
        return None
    try:
        return Direction(value)
    except ValueError:
        raise ApiError(400, "direction must be cluster, git, both or unknown") from None


def _selector(
    namespace: str | None,
    kind: str | None,
    name: str | None = None,
    direction: Direction | None = None,
) -> Callable[[ObjectDrift], bool] | None:
    if not namespace and not kind and not name and direction is None:
        return None
    kind_l = (kind or "").lower()

    def select(obj: ObjectDrift) -> bool:
        key = obj.key
        if namespace and key.namespace != namespace:
            return False
        if name and key.name != name:
            return False
        if direction is not None and (
            obj.state not in DRIFT_STATES or obj.direction is not direction
        ):
            return False
        if kind_l and kind_l not in (key.kind.lower(), key.group_kind.display().lower()):
            return False
        return True

    return select


def _flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() in ("", "0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes"):
        return True
    raise ApiError(400, f"parameter {name!r} must be 1 or 0")


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ApiError(400, f"parameter {name!r} must be an integer from {low} to {high}")
    return int(value)


def _since(value: str | None) -> float | None:
    """``since``: a duration back from now (``1h``) or an RFC 3339 time -> Unix time."""
    if not value:
        return None
    try:
        return time.time() - parse_duration(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "parameter 'since' must be a duration (1h) or RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise ApiError(400, "parameter 'since' needs a time zone (e.g. Z)")
    return parsed.timestamp()
